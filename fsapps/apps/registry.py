"""Dialplan applications, registered in one place by name.

The rendered dialplan names the application in the socket target's path
(``socket 127.0.0.1:8084/<name> async full`` sets ``socket_path``), in the
``fsapps_app`` channel variable, or (mod_python3) as the first word after
``fsapps.embedded``; ``fsapps_args`` carries its argument.

``NODE_APPLICATIONS`` are the flow nodes that need logic, by node type: the
``flow`` application finds the node the call is at and runs its entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fsapps.apps.node import NodeCall

# handler(session, args), as mod_python3 calls it; it may return its outcome
# (a string, or an AppResult) for the usage record and metrics.
Handler = Callable[[Any, str], Any]
# A node's logic: returns the branch to take, or None to take the node's fallback.
NodeHandler = Callable[["NodeCall"], "str | None"]

APPLICATIONS: dict[str, Handler] = {}
NODE_APPLICATIONS: dict[str, NodeHandler] = {}


def application(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        if name in APPLICATIONS and APPLICATIONS[name] is not fn:
            raise ValueError(f"application {name!r} is registered twice")
        APPLICATIONS[name] = fn
        return fn

    return register


def node_application(node_type: str) -> Callable[[NodeHandler], NodeHandler]:
    def register(fn: NodeHandler) -> NodeHandler:
        if node_type in NODE_APPLICATIONS and NODE_APPLICATIONS[node_type] is not fn:
            raise ValueError(f"node application {node_type!r} is registered twice")
        NODE_APPLICATIONS[node_type] = fn
        return fn

    return register
