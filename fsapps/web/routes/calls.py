"""Live calls and the operations on an agent's call: one route per operation, each the
CLI's ``fsapps agent ACTION`` (fsapps.acd.operations), asked of the policy first."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint

from fsapps.web import schemas
from fsapps.web.app import PREFIX, calls

bp = APIBlueprint("calls", __name__, url_prefix=PREFIX + "/tenants/<tenant>", tag="Calls")


@bp.get("/calls")
@bp.output(schemas.LiveCall(many=True))
@bp.doc(summary="Live calls in the tenant's queues (a supervisor: their groups'; an agent: their own)",
        responses=[200, 401, 403, 404])  # fmt: skip
def live_calls(tenant: str) -> Any:
    return calls().live(tenant)


@bp.post("/agents/<agent>/dial")
@bp.input(schemas.DialIn, arg_name="body")
@bp.output(schemas.LegOut)
@bp.doc(summary="Dial out: the agent's phone rings, then the number, with the tenant's caller ID",
        responses=[200, 401, 403, 404, 409, 422, 502, 503])  # fmt: skip
def dial_out(tenant: str, agent: str, body: dict[str, Any]) -> Any:
    return {"leg": calls().dial_out(tenant, agent, body["number"], body.get("gateway"))}


# action -> (summary, the body's schema or None, whether it makes a leg)
ACTIONS: dict[str, tuple[str, type | None, bool]] = {
    "transfer": ("Blind transfer of the agent's caller: to an agent, a queue, an extension or a number",
                 schemas.CallTargetIn, False),
    "consult": ("Attended transfer, first step: the agent talks to someone while the caller holds",
                schemas.CallTargetIn, True),
    "complete": ("Attended transfer done: the caller talks to whom the agent consulted", None, False),
    "cancel": ("Attended transfer called off: the consulted party hung up, back to the caller", None, False),
    "pickup": ("The agent takes a queue call ringing at another agent's phone", schemas.PickupIn, True),
    "three-way": ("Bring a third party into the agent's call", schemas.CallTargetIn, True),
    "hold": ("Hold: the caller hears the queue's hold music, the agent is not heard", None, False),
    "unhold": ("Resume: the held caller and the agent talk again", None, False),
    "listen": ("Supervisor: listen to the agent's call from a phone", schemas.CallTargetIn, True),
    "whisper": ("Supervisor: speak to the agent only, from a phone", schemas.CallTargetIn, True),
    "barge": ("Supervisor: join the agent's call, from a phone", schemas.CallTargetIn, True),
    "hangup": ("End the agent's call", None, False),
    "wrap-up-done": ("End the agent's wrap-up now: offers may come at once (an agent: not while a required"
                     " disposition is missing, 409 wrap_up_required)", None, False),
}  # fmt: skip


def _route(action: str, summary: str, body: type | None, makes_leg: bool) -> None:
    def view(tenant: str, agent: str, body: dict[str, Any] | None = None) -> Any:
        leg = calls().act(tenant, agent, action, body or {})
        return {"leg": leg} if makes_leg else ("", 204)

    view.__name__ = "call_" + action.replace("-", "_")
    out = bp.output(schemas.LegOut) if makes_leg else bp.output({}, status_code=204)
    view = out(view)
    if body is not None:
        view = bp.input(body, arg_name="body")(view)
    codes = [200 if makes_leg else 204, 401, 403, 404, 409, 422, 502, 503]
    view = bp.doc(summary=summary, responses=codes)(view)
    bp.post(f"/agents/<agent>/call/{action}")(view)


for _action, (_summary, _body, _leg) in ACTIONS.items():
    _route(_action, _summary, _body, _leg)
