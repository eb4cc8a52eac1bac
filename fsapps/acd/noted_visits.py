"""The records of an answered visit whose caller hung up before anyone could complete it.

A visit whose agent answered while PostgreSQL was away, the answer not written, notes it
on the caller's channel (fsapps.acd.visit NOTED_VISIT, BRIDGE_UNTOLD "true"). If the
conversation ends first, the caller is handed back with its end noted too, and the
controller the dialplan hands them to next completes the visit; so does one the caller
comes back to after the visit's controller died during the conversation (it notes the
end as the switch handed them over). A caller who hangs up while the dialplan holds them
comes back to nobody, and their agent, never known to have answered, is not a call any
reconciliation finds. But the notes are in their CHANNEL_HANGUP_COMPLETE, which every
controller receives. Each writes the visit's records from it: through the durable writer,
as the database may still be away, and once between them all, as the records' ids are
the visit's own (fsapps.acd.visit_records), which a completion racing the hangup makes too.

Only a noted end counts: a caller who hangs up while the visit's own controller still holds
them is that visit's to account (with its agent's wrap-up), and an answer that was written
is reconciliation's (fsapps.acd.housekeeping). A caller who hangs up while still talking
after that controller died notes no end, and is not recorded. The notes are fsapps' own
(flows may not set fsapps_* variables, fsapps.flows.walls), set by the visit that offered
the tenant's caller to that agent; nothing here asks the database (it may be away). The
records go in under the channel's tenant; the controller's record writer drops those of a
tenant it does not know.

The agent, left Receiving for a caller who is gone, is freed by the stale-offer sweep, or
as what a dead controller held (fsapps.acd.housekeeping), with no no-answer counted, so
their record says no wrap-up.
The visit's end is not published (fsapps.acd.notifier): every controller sees the
hangup, and the live figures would count it once per controller.

``noted_records`` is pure; ``NotedVisits`` follows the switch's hangups.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from fsapps.acd import visit_records
from fsapps.acd.visit import (
    BRIDGE_AGENT,
    BRIDGE_ENDED,
    BRIDGE_JOINED,
    BRIDGE_STARTED,
    BRIDGE_UNTOLD,
    noted_epoch,
)
from fsapps.esl import codec
from fsapps.esl.client import InboundClient
from fsapps.store.records import QueueCall, UsageRecord

log = logging.getLogger("fsapps.acd")

def noted_records(fields: Mapping[str, str]) -> tuple[QueueCall, UsageRecord] | None:
    """The answered visit, never written, whose end a hangup's channel notes, as its
    records; None when it notes none (or not all of it: a visit is recorded from the
    notes whole, or not at all)."""
    if fields.get("Event-Name") != "CHANNEL_HANGUP_COMPLETE":
        return None

    def var(name: str) -> str:
        return fields.get("variable_" + name) or ""

    if var(BRIDGE_UNTOLD) != "true":
        return None
    agent, tenant, queue = var(BRIDGE_AGENT), var("fsapps_tenant"), var("fsapps_queue")
    call = fields.get("Unique-ID")
    ended, bridged, joined = (noted_epoch(var(n)) for n in (BRIDGE_ENDED, BRIDGE_STARTED, BRIDGE_JOINED))
    if not (agent and tenant and queue and call and ended and bridged and joined):
        return None
    return visit_records.answered(
        tenant=tenant, queue=queue, call_uuid=call, caller=fields.get("Caller-Caller-ID-Number") or "",
        agent=agent, joined=joined, bridged=bridged, ended=ended,
    )  # fmt: skip


class NotedVisits:
    """Writes, through ``write`` (the controller's durable records), the records of each
    answered visit a hanging-up channel notes."""

    def __init__(self, client: InboundClient, write: Callable[..., Any]) -> None:
        self.write = write
        self.recorded = 0
        if "CHANNEL_HANGUP_COMPLETE" not in client.events:
            client.events.append("CHANNEL_HANGUP_COMPLETE")
        client.on("CHANNEL_HANGUP_COMPLETE", self.on_hangup_complete)

    def on_hangup_complete(self, event: codec.Event) -> None:
        # Most hangups note nothing: look for the mark before parsing anything else.
        if event.fields.get("variable_" + BRIDGE_UNTOLD) != "true":
            return
        got = noted_records(event.fields)
        if got is None:
            return
        log.warning(
            "caller %s hung up before their answered visit of queue %s could be completed: recorded"
            " from the channel's notes (agent %s)", got[0].call_uuid, got[0].queue, got[1].resource_id,
        )  # fmt: skip
        self.write(*got)
        self.recorded += 1
