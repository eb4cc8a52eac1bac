"""The controller process: outbound server + inbound client + applications.

Each call the dialplan hands over runs the application it names; an
unknown name is logged and the call is handed back to the dialplan, whose
next action (another controller, a native fallback) takes it.

Whoever reaches the outbound port can claim to be the switch handing over a
call. Beyond the server's allow-list, records are written only for tenants
of the checked flows or the database (fsapps.apps.known), and a call that
would write records is checked with ``uuid_exists`` over the controller's own
authenticated connection while its application runs: a channel the switch
does not have gets no record. Without that connection (no password set, or
the switch unreachable) the check cannot be made and records are kept.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gevent

from fsapps.acd import live_metrics
from fsapps.acd.direct_calls import DirectCalls
from fsapps.acd.dispatch import Dispatcher
from fsapps.acd.noted_visits import NotedVisits
from fsapps.acd.notifier import Notifier
from fsapps.acd.phones import PhoneCalls
from fsapps.acd.relay import Relay
from fsapps.apps import APPLICATIONS
from fsapps.apps.catalog import load_checked
from fsapps.apps.context import AppContext, install
from fsapps.apps.known import KnownTenants
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
from fsapps.store.vm_collector import VoicemailCollector

log = logging.getLogger("fsapps.controller")

# A channel's Unique-ID as it may travel in an api command: one word, no control
# characters (an origination_uuid can be any such string, not only a UUID).
_UUID = re.compile(r"[A-Za-z0-9._:@+-]{1,128}")


def _agents_phones(store: Store) -> dict[str, str]:
    """{agent: the contact their phone is rung at}: what fsapps.acd.direct_calls matches."""
    with store.operator() as op:
        return {r["id"]: r["contact"] or "" for r in op._all("SELECT id, contact FROM agents")}


def _write(store: Store, fn: Callable[[Any], Any]) -> Any:
    with store.operator() as op:
        return fn(op.conn)
UUID_CHECK_TIMEOUT = 2.0
MAX_DENIED = 10000  # call uuids remembered as not on the switch, newest kept


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
        self.server = OutboundServer(
            self.handle,
            c.listen,
            c.port,
            max_connections=c.max_connections,
            max_pending=c.max_pending,
            connect_timeout=c.connect_timeout,
            allow_from=c.allow_from,
        )
        self.client: InboundClient | None = None
        if settings.esl.password:
            self.client = InboundClient(settings.esl.host, settings.esl.port, settings.esl.password)
        self.writer: DurableWriter | None = None
        self.collector: CdrCollector | None = None
        self.cdr_batches: RecordBatches | None = None
        if store is not None:
            # The spool's fsyncs wait in the hub's threads, not on the event loop.
            self.writer = DurableWriter(store, Path(settings.state_dir) / "spool",
                                        offload=gevent.get_hub().threadpool.apply)  # fmt: skip
            if self.client is not None:
                self.cdr_batches = RecordBatches(
                    self.writer.write, journal=self.writer.spool.dir / "cdrs.journal"
                )
                self.collector = CdrCollector(self.client, self.cdr_batches.put)
        self.voicemails: VoicemailCollector | None = None
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
        self.known_tenants = KnownTenants(lambda: context.tenants, store, db_timeout=context.db_timeout)
        self.not_on_switch: OrderedDict[str, None] = OrderedDict()  # call uuids the switch denied
        journal = self.writer.spool.dir / "records.journal" if self.writer is not None else None
        self.record_batches = RecordBatches(self._write_checked, journal=journal)
        if context.write_later is None:
            context.write_later = self.record_batches.put
        install(context)
        if self.writer is not None and self.client is not None:
            # Voicemails left in the tenants' boxes, and the tickets they open.
            tenants = lambda: context.project.tenants  # noqa: E731 (the flows reloaded: read now)
            self.voicemails = VoicemailCollector(self.client, self.writer.write, tenants, now=context.now)
        self.dispatcher: Dispatcher | None = None
        self.phones: PhoneCalls | None = None
        self.noted_visits: NotedVisits | None = None
        self.direct_calls: DirectCalls | None = None
        # The ACD's live events: the metrics follow them; the API's event streams too (fsapps.web.live).
        self.notifier = Notifier()
        self._stop_metrics = live_metrics.follow(self.notifier)
        if store is not None and context.acd is None:
            ctx = context
            client = self.client
            self.dispatcher = Dispatcher(
                store, lambda: ctx.project, lambda: ctx.now().timestamp(),
                api=client.api if client is not None else None,
                api_many=client.api_many if client is not None else None, write=ctx.write_soon,
                notifier=self.notifier,
            )  # fmt: skip
            context.acd = self.dispatcher
            if client is not None:
                # skip-agents-with-external-calls: the agents' phones' calls, from the switch's
                # events; a phone's last call ending may free an agent for a waiting caller.
                self.phones = PhoneCalls(client, on_free=self.dispatcher.kick.set)
                self.dispatcher.phone_calls = self.phones.calls
                # An answered visit whose caller hung up handed back, before any controller completed it.
                self.noted_visits = NotedVisits(client, ctx.write_soon)
                # The floor: agents on calls no queue made (a transfer straight to them, a dial-out).
                self.direct_calls = DirectCalls(
                    client, self.notifier, lambda: _agents_phones(store),
                    lambda fn: _write(store, fn), origin=self.dispatcher.name,
                    clock=lambda: ctx.now().timestamp(),  # the ACD's clock: the floor's times agree
                )
        # Its events go to the other processes (the API's event streams follow them all).
        self.relay: Relay | None = None
        if store is not None and self.dispatcher is not None:
            self.relay = Relay(store.dsn, self.notifier, origin=self.dispatcher.name)

    def start(self) -> Controller:
        self.known_tenants.load()
        self.record_batches.start()
        if self.cdr_batches is not None:
            self.cdr_batches.start()
        self.server.start()
        if self.writer is not None:
            self.writer.start()
        if self.client is not None:
            self.client.start()
        if self.dispatcher is not None:
            self.dispatcher.start()
        if self.relay is not None:
            self.relay.start()
        if self.direct_calls is not None:
            self.direct_calls.start()
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
            on_switch=self._on_switch(call),
        )  # fmt: skip

    def _on_switch(self, call: OutboundCall) -> Callable[[], bool] | None:
        """Ask the switch, while the application runs, whether the call's channel exists.

        Only for calls that name a tenant (they may write records), so other
        calls cost nothing. The answer is read when the record is due;
        by then it has long arrived (one api round trip). False only when the
        switch says so: no connection or no answer in time keeps the record.
        """
        conn = self.client.conn if self.client is not None else None
        if conn is None or not conn.connected:
            return None
        if not call.variables.get("fsapps_tenant"):
            return None  # no record will be written: nothing to check
        uuid = call.uuid
        if not _UUID.fullmatch(uuid):
            log.warning("call from %s has no usable Unique-ID (%r)", call.peer[0], uuid[:64])
            return lambda: False
        asked = gevent.spawn(conn.api, f"uuid_exists {uuid}", UUID_CHECK_TIMEOUT)
        asked.link_value(lambda done: self._denied(uuid) if str(done.value).strip() == "false" else None)

        def on_switch() -> bool:
            asked.join(UUID_CHECK_TIMEOUT + 1)
            if not asked.successful():
                asked.kill(block=False)
                log.info("call %s: uuid_exists not answered (%s); its records kept", uuid, asked.exception)
                return True
            return str(asked.value).strip() != "false"

        return on_switch

    def _denied(self, uuid: str) -> None:
        self.not_on_switch[uuid] = None
        while len(self.not_on_switch) > MAX_DENIED:
            self.not_on_switch.popitem(last=False)

    def _write_checked(self, *records: Any) -> None:
        """The background records, less those for a made-up tenant or a call the switch denied."""
        kept: list[Any] = []
        dropped: list[Any] = []
        for r in records:
            ok = r.tenant_id in self.known_tenants and getattr(r, "call_uuid", None) not in self.not_on_switch
            (kept if ok else dropped).append(r)
        if dropped:
            named = sorted({f"{r.tenant_id[:64]!r}" for r in dropped})
            log.warning(
                "%d record(s) not written: tenant unknown or call not on the switch (%s)",
                len(dropped),
                ", ".join(named[:5]),
            )
        if kept:
            self.context.write(*kept)

    def stop(self, grace: float | None = None) -> None:
        self.server.stop(self.settings.controller.shutdown_grace if grace is None else grace)
        self.record_batches.stop(timeout=10)
        if self.dispatcher is not None:
            self.dispatcher.stop()
        if self.relay is not None:
            self.relay.stop()
        if self.direct_calls is not None:
            self.direct_calls.stop()
        self._stop_metrics()
        if self.client is not None:
            self.client.stop()
        if self.cdr_batches is not None:
            self.cdr_batches.stop(timeout=10)
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
