"""``survey``: after the agent hangs up, the caller rates the service 1-5 (and
optionally answers a second question). Each answer is stored as it is given,
with the call, agent, queue and tenant, so a caller who hangs up after the
first question still counts."""

from __future__ import annotations

from fsapps.apps.node import NodeCall
from fsapps.apps.registry import node_application
from fsapps.store.records import SurveyAnswer


@node_application("survey")
def survey(call: NodeCall) -> str | None:
    agent = call.var("fsapps_agent") or call.var("cc_agent") or None
    queue = call.var("fsapps_queue") or call.var("cc_queue") or None
    for i, question in enumerate(call.data("questions") or [], 1):
        digit = call.session.playAndGetDigits(
            1, 1, 2, 5000, "", call.prompt(question), "silence", "^[1-5]$", f"fsapps_survey_{i}"
        )
        call.ctx.write(
            SurveyAnswer(
                tenant_id=call.tenant.id,
                flow=call.flow.name,
                question=question,
                score=int(digit) if digit in ("1", "2", "3", "4", "5") else None,
                answered_at=call.now(),
                call_uuid=call.call_uuid,
                agent_id=agent,
                queue=queue,
            )
        )
    if call.data("thanks"):
        call.session.streamFile(call.prompt(call.data("thanks")))
    return "_"
