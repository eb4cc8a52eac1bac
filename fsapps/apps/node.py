"""One call at one flow node: what a node application works with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fsapps.apps.context import AppContext
from fsapps.flows.model import Flow, Node, Tenant
from fsapps.session import Session


@dataclass
class NodeCall:
    session: Session
    ctx: AppContext
    tenant: Tenant
    flow: Flow
    node: Node
    ended_call: bool = False  # the application hung up itself (a rejected caller)

    def hangup(self, cause: str) -> None:
        self.ended_call = True
        self.session.hangup(cause)

    def data(self, key: str, default: Any = None) -> Any:
        return self.node.get(key, default)

    def var(self, name: str) -> str:
        return self.session.getVariable(name) or ""

    @property
    def caller(self) -> str:
        return self.var("caller_id_number")

    @property
    def call_uuid(self) -> str | None:
        return self.var("uuid") or getattr(self.session, "uuid", None) or None

    def now(self) -> datetime:
        return self.ctx.now()

    def prompt(self, name: str) -> str:
        """The prompt as the session plays it: a sound path (``$${sounds_dir}`` is a
        preprocessor variable, at run time the global ``${sounds_dir}``) or ``say:`` and
        TTS text, which the session escapes (fsapps.escape.playback_arg)."""
        p = self.tenant.prompts[name]
        if p.file:
            sounds = self.ctx.operator.sounds.replace("$${", "${")
            return f"{sounds}/{self.tenant.language}/{p.file}"
        return self.tts(p.text or "")

    @staticmethod
    def tts(text: str) -> str:
        return "say:" + text
