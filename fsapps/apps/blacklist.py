"""``blacklist``: listed callers (exact numbers, prefixes; with expiry) hear an
announcement or are rejected with a cause; everyone else goes on (``_``)."""

from __future__ import annotations

import logging

from fsapps.apps.node import NodeCall
from fsapps.apps.registry import node_application
from fsapps.store.selfservice import blacklisted

log = logging.getLogger("fsapps.apps")


@node_application("blacklist")
def blacklist(call: NodeCall) -> str | None:
    store = call.ctx.store
    if store is None or not call.caller:
        return "_"
    with store.tenant(call.tenant.id, timeout=call.ctx.db_timeout) as scope:
        entry = blacklisted(scope, call.caller, call.now())
    if entry is None:
        return "_"
    log.info("caller %s is blacklisted (%s): %s", call.caller, entry["number"], entry["reason"])
    prompt = call.data("prompt")
    if call.data("action", "announce" if prompt else "reject") == "announce" and prompt:
        call.session.answer()
        call.session.streamFile(call.prompt(prompt))
        call.hangup(call.data("cause", "NORMAL_CLEARING"))
    else:
        call.hangup(call.data("cause", "CALL_REJECTED"))
    return "blocked"
