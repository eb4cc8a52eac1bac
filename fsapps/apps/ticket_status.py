"""``ticket_status``: a caller asks how their ticket stands. They key in its number (or a
collect node put it in ``variable``); the ticket is looked up in the tenant's own tickets
(row-level security: another tenant's number is not found) and its state is spoken by TTS
in the tenant's language (fsapps.tickets.spoken_status). ``found`` or ``not_found``; a
database that does not answer takes the node's fallback."""

from __future__ import annotations

import logging

import psycopg
from psycopg_pool import PoolTimeout

from fsapps import tickets
from fsapps.apps.node import NodeCall
from fsapps.apps.registry import node_application
from fsapps.store import tickets as store
from fsapps.store.db import StoreError

log = logging.getLogger("fsapps.apps")


@node_application("ticket_status")
def ticket_status(call: NodeCall) -> str | None:
    if call.ctx.store is None:
        return None
    call.session.answer()
    variable = call.data("variable")
    typed = call.var(variable) if variable else ""
    if not typed and call.data("prompt"):
        most = int(call.data("max_digits", 8))
        typed = call.session.playAndGetDigits(
            1, most, 2, int(float(call.data("timeout", 7)) * 1000), "#", call.prompt(call.data("prompt")),
            "silence", f"^\\d{{1,{most}}}$", "fsapps_ticket_digits",
        ) or ""  # fmt: skip
    number = tickets.number_digits(typed)
    row = None
    if number is not None:
        try:
            with call.ctx.store.tenant(call.tenant.id, timeout=call.ctx.db_timeout) as scope:
                row = store.by_number(scope, number)
        except (psycopg.Error, PoolTimeout, StoreError) as exc:
            log.warning("ticket_status %s.%s: %s", call.flow.name, call.node.id, exc)
            return None
    language = call.tenant.language
    if row is None:
        call.session.streamFile(
            call.tts(tickets.spoken_not_found(typed if number is not None else "", language))
        )
        return "not_found"
    call.session.setVariable("fsapps_ticket_number", str(row["number"]))
    call.session.setVariable("fsapps_ticket_state", row["state"])
    call.session.streamFile(call.tts(tickets.spoken_status(row["number"], row["state"], language)))
    return "found"
