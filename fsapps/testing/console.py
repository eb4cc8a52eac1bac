"""The console's whole stack on the emulator, in one process, as ``fsapps serve`` wires it:
a controller running the rendered flows, the emulator running the rendered dialplan, the
live event streams, and the HTTP API with the console's pages; the API acts on calls
through its own Event Socket connection. ``fsapps demo`` and the browser tests start it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fsapps.config import EslSettings
from fsapps.controller import Controller
from fsapps.esl.client import Connection
from fsapps.flows.model import Project
from fsapps.httpserve import BoundedWSGIServer, wsgi_server
from fsapps.sim.switch import Switch
from fsapps.testing.wiring import load_rendered, start_controller
from fsapps.web.app import ApiContext
from fsapps.web.live import LiveEvents, live_events
from fsapps.web.site import make_site


def serve_site(ctx: ApiContext, *, listen: str = "127.0.0.1", port: int = 0) -> BoundedWSGIServer:
    """The API with the console's pages at /console/ beside it, started (OSError when the
    port is taken)."""
    server = wsgi_server(listen, port, make_site(ctx), read_timeout=10, max_connections=50)
    server.start()
    return server


@dataclass
class ConsoleStack:
    switch: Switch
    controller: Controller
    server: BoundedWSGIServer
    live: LiveEvents
    esl: Connection
    listen: str = "127.0.0.1"

    @property
    def base(self) -> str:
        return f"http://{self.listen}:{self.server.server_port}"

    def stop(self) -> None:
        self.server.stop(timeout=2)
        self.live.stop()
        self.esl.stop()
        self.controller.stop(grace=1.0)
        self.switch.stop()


def start_console(
    store: Any,
    project: Project,
    switch: Switch,
    state_dir: Path,
    *,
    listen: str = "127.0.0.1",
    port: int = 0,
    session_hours: float = 12.0,
) -> ConsoleStack:
    """Start ``switch`` (not yet started; its phones registered) on ``project``'s rendered
    dialplan, a controller for it with its inbound Event Socket (as ``fsapps serve`` runs with
    ``esl.password`` set: the agents' phones' own calls, for skip-agents-with-external-calls
    and the floor's direct calls, and the CDRs), and the console on ``listen``:``port`` (0: a
    free port). The API reads the switch's clock, as the controller writes it."""
    switch.start()
    started: list[Any] = [switch]
    try:
        esl = EslSettings("127.0.0.1", switch.port, switch.password)
        controller = start_controller(project, store, switch.clock, state_dir / "controller", esl=esl)
        started.append(controller)
        load_rendered(switch, project, [controller], state_dir / "conf")
        live = live_events(store, controller)
        started.append(live)
        api_esl = Connection("127.0.0.1", switch.port, switch.password)
        api_esl.connect()
        started.append(api_esl)

        def queues(tenant_id: str) -> dict[str, dict[str, Any]]:
            for tenant in controller.context.project.tenants:
                if tenant.id == tenant_id:
                    return {name: dict(q.data or {}) for name, q in tenant.queues.items()}
            return {}

        ctx = ApiContext(store, queues, clock=switch.clock.now, live=live, switch=api_esl.api,
                         session_hours=session_hours)  # fmt: skip
        server = serve_site(ctx, listen=listen, port=port)
    except BaseException:
        for part in reversed(started):
            part.stop(grace=1.0) if isinstance(part, Controller) else part.stop()
        raise
    return ConsoleStack(switch, controller, server, live, api_esl, listen)
