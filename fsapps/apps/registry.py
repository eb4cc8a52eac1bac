"""Dialplan applications, registered in one place by name.

The rendered dialplan names the application in the socket target's path
(``socket 127.0.0.1:8084/<name> async full`` sets ``socket_path``) or in
the ``fsapps_app`` channel variable; ``fsapps_args`` carries its argument.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Handler = Callable[[Any, str], None]  # handler(session, args), as mod_python3 calls it

APPLICATIONS: dict[str, Handler] = {}


def application(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        if name in APPLICATIONS and APPLICATIONS[name] is not fn:
            raise ValueError(f"application {name!r} is registered twice")
        APPLICATIONS[name] = fn
        return fn

    return register
