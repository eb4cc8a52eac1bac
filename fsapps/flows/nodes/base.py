"""What a node type is: its data schema, branches, checks and rendering.

Rendering is FreeSWITCH dialplan terms: a node becomes one extension that
runs ``actions``; where it goes next is either its ``_`` child (a transfer
at the end of the actions) or decided by ``routes``, conditions evaluated in
a second extension once the actions have set the variables they test.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from fsapps.flows.model import Node, Operator, Problem, Tenant
from fsapps.flows.yamlsrc import Where

if TYPE_CHECKING:
    from fsapps.flows.render import RenderContext

Action = tuple[str, str]  # (application, data)


@dataclass(frozen=True)
class Ref:
    """A name a node uses that must be defined elsewhere."""

    kind: str  # prompt | calendar | queue | flow | gateway | node
    name: str
    where: Where


@dataclass(frozen=True)
class Route:
    """Go to ``branch`` when every condition holds (mod_dialplan_xml <condition> attributes).

    A route with ``actions`` runs them instead of going to a child node.
    """

    branch: str
    conditions: tuple[dict[str, str], ...]
    actions: tuple[Action, ...] = ()


@dataclass
class Rendered:
    actions: list[Action] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    # The branch taken when no route matches; None: run ``otherwise`` (by default
    # a hangup) when the actions have not already ended the call.
    default: str | None = "_"
    otherwise: list[Action] = field(default_factory=lambda: [("hangup", "NORMAL_CLEARING")])


PROMPT_NAME = {
    "type": "string",
    "pattern": r"^[A-Za-z0-9_.-]+$",
    "description": "a prompt defined in tenant.yaml",
}
SECONDS = {"type": "number", "exclusiveMinimum": 0, "maximum": 3600}


class NodeType:
    name: ClassVar[str]
    summary: ClassVar[str]
    properties: ClassVar[dict[str, Any]] = {}
    required_data: ClassVar[tuple[str, ...]] = ()
    branches: ClassVar[tuple[str, ...]] = ("_",)
    required_branches: ClassVar[tuple[str, ...]] = ("_",)
    digit_branches: ClassVar[bool] = False  # menu: "0".."9", "*", "#"
    logic: ClassVar[bool] = False  # handed to an fsapps controller
    prompt_fields: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def data_schema(cls) -> dict[str, Any]:
        return {
            "type": "object",
            "additionalProperties": False,
            "properties": cls.properties,
            "required": list(cls.required_data),
        }

    def refs(self, node: Node) -> list[Ref]:
        return [
            Ref("prompt", node.data[f], node.data.at(f))
            for f in self.prompt_fields
            if isinstance(node.data.get(f), str)
        ]

    def check(self, node: Node, tenant: Tenant, operator: Operator) -> list[Problem]:
        """Problems of meaning in this node's data (its form is the schema's)."""
        return []

    def render(self, node: Node, r: RenderContext) -> Rendered:
        raise NotImplementedError

    @classmethod
    def allowed_branches(cls) -> Sequence[str]:
        return cls.branches
