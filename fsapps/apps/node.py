"""One call at one flow node: what a node application works with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fsapps.apps.context import AppContext
from fsapps.flows.model import Flow, Node, Tenant
from fsapps.flows.render import RenderContext
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
        """The prompt as the rendered dialplan plays it; ``$${sounds_dir}`` is a
        preprocessor variable, so at run time it is the global ``${sounds_dir}``
        (expanded by switch_channel_expand_variables when the app executes)."""
        return RenderContext(self.tenant, self.ctx.operator, self.flow).prompt(name).replace("$${", "${")

    @staticmethod
    def tts(text: str) -> str:
        return RenderContext.tts(text)
