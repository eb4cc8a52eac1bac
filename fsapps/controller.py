"""The controller process: outbound server + inbound client + applications.

Each call the dialplan hands over runs the application it names; an
unknown name is logged and the call is handed back to the dialplan, whose
next action (another controller, a native fallback) takes it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fsapps.acd.dispatch import Dispatcher
from fsapps.apps import APPLICATIONS
from fsapps.apps.catalog import load_checked
from fsapps.apps.context import AppContext, install
from fsapps.apps.runner import Timing, run_application
from fsapps.config import Settings
from fsapps.esl.client import InboundClient
from fsapps.esl.server import OutboundCall, OutboundServer
from fsapps.flows.model import Operator, Project
from fsapps.session import EslSession
from fsapps.store.batches import RecordBatches
from fsapps.store.collector import CdrCollector
from fsapps.store.db import Store
from fsapps.store.durable import DurableWriter

log = logging.getLogger("fsapps.controller")


class Controller:
    """``store``: where CDRs and usage records go (spooled under the state
    directory while PostgreSQL is unreachable); None runs without records.
    ``context``: what applications reach (flows, store, clock); by default the
    checked flows under ``settings.flows.dir`` and this store."""

    def __init__(
        self,
        settings: Settings,
        applications: dict[str, Any] | None = None,
        store: Store | None = None,
        context: AppContext | None = None,
    ) -> None:
        self.settings = settings
        self.applications = APPLICATIONS if applications is None else applications
        c = settings.controller
        self.server = OutboundServer(self.handle, c.listen, c.port, max_connections=c.max_connections)
        self.client: InboundClient | None = None
        if settings.esl.password:
            self.client = InboundClient(settings.esl.host, settings.esl.port, settings.esl.password)
        self.writer: DurableWriter | None = None
        self.collector: CdrCollector | None = None
        if store is not None:
            self.writer = DurableWriter(store, Path(settings.state_dir) / "spool")
            if self.client is not None:
                self.collector = CdrCollector(self.client, self.writer)
        if context is None:
            project = (
                load_checked(settings.flows.dir)
                if Path(settings.flows.dir).is_dir()
                else Project(settings.flows.dir, Operator(), [])
            )
            context = AppContext(project, store=store, records=self.writer)
        self.context = context
        # Usage records are written once the call is handed back (a database that is
        # slow or down must not hold the caller), in batches; stop() waits for them.
        self.record_batches = RecordBatches(context.write)
        if context.write_later is None:
            context.write_later = self.record_batches.put
        install(context)
        self.dispatcher: Dispatcher | None = None
        if store is not None and context.acd is None:
            ctx = context
            self.dispatcher = Dispatcher(store, lambda: ctx.project, lambda: ctx.now().timestamp())
            context.acd = self.dispatcher

    def start(self) -> Controller:
        self.record_batches.start()
        self.server.start()
        if self.writer is not None:
            self.writer.start()
        if self.client is not None:
            self.client.start()
        if self.dispatcher is not None:
            self.dispatcher.start()
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
        session = EslSession(call)
        session.context = self.context
        run_application(
            self.context, name, handler, session, call.variables.get("fsapps_args", ""),
            timing=SwitchTiming(call, self.context), call_uuid=call.uuid or None,
        )  # fmt: skip

    def stop(self, grace: float | None = None) -> None:
        self.server.stop(self.settings.controller.shutdown_grace if grace is None else grace)
        self.record_batches.stop(timeout=10)
        if self.dispatcher is not None:
            self.dispatcher.stop()
        if self.client is not None:
            self.client.stop()
        if self.writer is not None:
            self.writer.stop()


class SwitchTiming(Timing):
    """The application's share of the call by the switch's own event clock, as its CDRs are timed."""

    def __init__(self, call: OutboundCall, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.call = call

    def span(self) -> tuple[datetime, float]:
        call = self.call
        if not call.connected_us:
            return super().span()
        seconds = max(call.last_event_us - call.connected_us, 0) / 1e6
        return datetime.fromtimestamp(call.connected_us / 1e6, UTC), seconds
