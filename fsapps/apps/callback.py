"""``callback``: the caller asks to be called back. The request keeps their
place (the time they joined the queue, when they were in one) and is stored
durably for the ACD and the dialer."""

from __future__ import annotations

from datetime import UTC, datetime

from fsapps.apps.node import NodeCall
from fsapps.apps.registry import node_application
from fsapps.store.records import CallbackRequest


def _entered(value: str) -> datetime | None:
    """fsapps_queue_entered: the epoch seconds the ACD stamped when the caller joined."""
    try:
        return datetime.fromtimestamp(float(value), UTC) if value else None
    except (ValueError, OverflowError, OSError):
        return None


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
    call.ctx.write(
        CallbackRequest(
            tenant_id=call.tenant.id,
            number=number,
            requested_at=call.now(),
            call_uuid=call.call_uuid,
            queue=call.var("fsapps_queue") or None,
            queue_entered_at=_entered(call.var("fsapps_queue_entered")),
        )
    )
    call.session.setVariable("fsapps_callback_requested", "true")
    if call.data("confirm"):
        call.session.streamFile(call.prompt(call.data("confirm")))
    return "_"
