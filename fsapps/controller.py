"""The controller process: outbound server + inbound client + applications.

Each call the dialplan hands over runs the application it names; an
unknown name is logged and the call is handed back to the dialplan, whose
next action (another controller, a native fallback) takes it.
"""

from __future__ import annotations

import logging
from typing import Any

from fsapps.apps import APPLICATIONS
from fsapps.config import Settings
from fsapps.esl.client import InboundClient
from fsapps.esl.server import OutboundCall, OutboundServer
from fsapps.session import EslSession

log = logging.getLogger("fsapps.controller")


class Controller:
    def __init__(self, settings: Settings, applications: dict[str, Any] | None = None) -> None:
        self.settings = settings
        self.applications = APPLICATIONS if applications is None else applications
        c = settings.controller
        self.server = OutboundServer(self.handle, c.listen, c.port, max_connections=c.max_connections)
        self.client: InboundClient | None = None
        if settings.esl.password:
            self.client = InboundClient(settings.esl.host, settings.esl.port, settings.esl.password)

    def start(self) -> Controller:
        self.server.start()
        if self.client is not None:
            self.client.start()
        return self

    def handle(self, call: OutboundCall) -> None:
        name = (call.variables.get("socket_path") or call.variables.get("fsapps_app") or "").strip("/")
        handler = self.applications.get(name)
        if handler is None:
            log.error(
                "unknown application %r for call %s; handing it back to the dialplan",
                name,
                call.uuid,
                extra={"call": call.uuid, "app": name},
            )
            call.release()
            return
        log.info(
            "call %s from %s runs %s",
            call.uuid,
            call.caller_id_number,
            name,
            extra={"call": call.uuid, "app": name},
        )
        handler(EslSession(call), call.variables.get("fsapps_args", ""))

    def stop(self, grace: float | None = None) -> None:
        self.server.stop(self.settings.controller.shutdown_grace if grace is None else grace)
        if self.client is not None:
            self.client.stop()
