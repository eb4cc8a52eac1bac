"""What ``fsapps serve`` serves on ``api.port``: the HTTP API at ``/api/v1`` and the
console's pages at ``/console/`` (which act only through that API), one WSGI app."""

from __future__ import annotations

from typing import Any

from werkzeug.middleware.dispatcher import DispatcherMiddleware

from fsapps.web.app import ApiContext, make_app
from fsapps.web.console import MOUNT, make_console


def make_site(ctx: ApiContext) -> Any:
    return DispatcherMiddleware(make_app(ctx), {MOUNT: make_console()})
