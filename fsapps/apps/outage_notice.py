"""``outage_notice``: an active outage for the caller's area (by number prefix,
or a district/account attribute held in a variable) is read out before the
menu; the leave digit cuts it short and takes the ``leave`` branch."""

from __future__ import annotations

import re

from fsapps.apps.node import NodeCall
from fsapps.apps.registry import node_application
from fsapps.store.selfservice import active_outage


@node_application("outage_notice")
def outage_notice(call: NodeCall) -> str | None:
    store = call.ctx.store
    if store is None:
        return "_"
    if call.data("area_from", "caller_prefix") == "variable":
        where = {"area": call.var(call.data("variable", "")) or None}
    else:
        where = {"caller": call.caller or None}
    if not any(where.values()):
        return "_"
    with store.tenant(call.tenant.id, timeout=call.ctx.db_timeout) as scope:
        outage = active_outage(scope, call.now(), **where)
    if outage is None:
        return "_"
    call.session.setVariable("fsapps_outage_id", str(outage["id"]))
    leave = call.data("leave_digit")
    if not leave:
        call.session.streamFile(call.tts(outage["message"]))
        return "_"
    # One pass over the message, listening for the leave digit while it plays.
    pressed = call.session.playAndGetDigits(
        1,
        1,
        1,
        1000,
        "",
        call.tts(outage["message"]),
        "silence",
        f"^{re.escape(leave)}$",
        "fsapps_outage_digit",
    )
    return "leave" if pressed == leave else "_"
