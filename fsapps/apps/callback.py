"""``callback``: the caller asks to be called back. The request keeps their
place (the time they joined the queue, when they were in one) and is stored
durably for the ACD and the dialer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fsapps import tickets
from fsapps.apps.node import NodeCall
from fsapps.apps.registry import node_application
from fsapps.store.records import CallbackRequest, TicketRequest

# A callback request's ticket's event id is derived from the request's: written twice, one ticket.
TICKET_OF = uuid.UUID("6d3f0a7e-2b1c-4f7e-9a43-1c2b5e8d7f10")


def _entered(value: str) -> datetime | None:
    """fsapps_queue_entered: the epoch seconds the ACD stamped when the caller joined."""
    try:
        return datetime.fromtimestamp(float(value), UTC) if value else None
    except (ValueError, OverflowError, OSError):
        return None


def _ticket(call: NodeCall, r: CallbackRequest) -> TicketRequest:
    return TicketRequest(
        tenant_id=r.tenant_id, source="callback", number=r.number, requested_at=r.requested_at,
        subject=tickets.intake_subject("callback", r.number, call.tenant.language),
        call_uuid=r.call_uuid, queue=call.data("ticket_queue") or r.queue, skill=call.data("ticket_skill"),
        priority=call.data("ticket_priority") or "normal",
        event_id=str(uuid.uuid5(TICKET_OF, r.event_id)),
    )  # fmt: skip


@node_application("callback")
def callback(call: NodeCall) -> str | None:
    number = call.var("fsapps_callback_number") or call.caller
    if not number:
        return "_"
    prompt = call.data("prompt")
    if prompt:
        # "press 1 to be called back on the number you are calling from"
        pressed = call.session.playAndGetDigits(
            1, 1, 2, 5000, "", call.prompt(prompt), "silence", "^1$", "fsapps_callback_confirm"
        )
        if pressed != "1":
            return "_"
    request = CallbackRequest(
        tenant_id=call.tenant.id,
        number=number,
        requested_at=call.now(),
        call_uuid=call.call_uuid,
        queue=call.var("fsapps_queue") or None,
        queue_entered_at=_entered(call.var("fsapps_queue_entered")),
    )
    # The flow's ticket option (off by default: the dialer works the request): one write, so
    # the request and its ticket land in one transaction.
    ticket = _ticket(call, request) if call.data("ticket") is True else None
    call.ctx.write(*([request] if ticket is None else [request, ticket]))
    call.session.setVariable("fsapps_callback_requested", "true")
    if call.data("confirm"):
        call.session.streamFile(call.prompt(call.data("confirm")))
    return "_"
