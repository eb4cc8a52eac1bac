"""``readback``: the self-service answer. Prompts and looked-up values in turn,
the values written out in the tenant's language (fsapps.apps.spoken) and
spoken by TTS; ``missing`` when a value is empty or not what it claims."""

from __future__ import annotations

import logging

from fsapps.apps.node import NodeCall
from fsapps.apps.registry import node_application
from fsapps.apps.spoken import NotSayable, spoken
from fsapps.escape import VARIABLE_REF

log = logging.getLogger("fsapps.apps")


@node_application("readback")
def readback(call: NodeCall) -> str | None:
    parts: list[str] = []
    for item in call.data("items") or []:
        if "prompt" in item:
            parts.append(call.prompt(item["prompt"]))
            continue
        # Only plain ${name} references, read here: a looked-up value is never expanded.
        value = VARIABLE_REF.sub(lambda m: call.var(m.group(1)), item["value"])
        if not value.strip():
            return "missing"
        try:
            words = spoken(value, item.get("as", "text"), call.tenant.language, call.data("currency", "USD"))
        except NotSayable as exc:
            log.warning("readback %s.%s: %s", call.flow.name, call.node.id, exc)
            return "missing"
        parts.append(call.tts(words))
    call.session.answer()
    for part in parts:
        call.session.streamFile(part)
    return "_"
