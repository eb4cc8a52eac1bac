"""The controller process: outbound server + inbound client + applications.

Each call the dialplan hands over runs the application it names; an
unknown name is logged and the call is handed back to the dialplan, whose
next action (another controller, a native fallback) takes it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from fsapps.apps import APPLICATIONS
from fsapps.config import Settings
from fsapps.esl.client import InboundClient
from fsapps.esl.server import CallerHungUp, OutboundCall, OutboundServer
from fsapps.session import EslSession
from fsapps.store.collector import CdrCollector
from fsapps.store.db import Store
from fsapps.store.durable import DurableWriter
from fsapps.store.records import UsageRecord

log = logging.getLogger("fsapps.controller")


class Controller:
    """``store``: where CDRs and usage records go (spooled under the state
    directory while PostgreSQL is unreachable); None runs without records."""

    def __init__(
        self, settings: Settings, applications: dict[str, Any] | None = None, store: Store | None = None
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

    def start(self) -> Controller:
        self.server.start()
        if self.writer is not None:
            self.writer.start()
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
        outcome = "completed"
        try:
            handler(EslSession(call), call.variables.get("fsapps_args", ""))
        except CallerHungUp:
            outcome = "caller_hung_up"
            raise
        except Exception:
            outcome = "failed"
            raise
        finally:
            self._record_session(call, name, outcome)

    def _record_session(self, call: OutboundCall, app: str, outcome: str) -> None:
        """One usage record per application run: the IVR's share of the call,
        timed by the switch's clock, as its CDRs are."""
        tenant = call.variables.get("fsapps_tenant")
        if self.writer is None or not tenant:
            return
        started = (
            datetime.fromtimestamp(call.connected_us / 1e6, UTC) if call.connected_us else datetime.now(UTC)
        )
        seconds = max(call.last_event_us - call.connected_us, 0) / 1e6
        record = UsageRecord(
            tenant_id=tenant,
            resource="ivr",
            kind="ivr_session",
            resource_id=app,
            started_at=started,
            ended_at=started + timedelta(seconds=seconds),
            workload=Decimal(f"{seconds:.3f}"),
            unit="seconds",
            outcome=outcome,
            call_uuid=call.uuid or None,
        )
        self.writer.write(record)

    def stop(self, grace: float | None = None) -> None:
        self.server.stop(self.settings.controller.shutdown_grace if grace is None else grace)
        if self.client is not None:
            self.client.stop()
        if self.writer is not None:
            self.writer.stop()
