"""``fsapps demo --once``: the emulator, the controller and a few scripted callers.

Everything runs in this process on loopback ports chosen at start; nothing
to install. Each caller's call is printed as they lived it: what they
heard, what they pressed, how it ended.
"""

from __future__ import annotations

import secrets
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

import gevent

from fsapps.billing.rating import month_bounds, parse_plan, rate
from fsapps.config import Settings
from fsapps.controller import Controller
from fsapps.sim.dialplan import StaticDialplan
from fsapps.sim.endpoints import CallerScript
from fsapps.sim.switch import Switch
from fsapps.store.db import Store
from fsapps.store.records import Tenant
from fsapps.store.setup import Database

DEMO_NUMBER = "1000"


@dataclass
class DemoCaller:
    name: str
    number: str
    story: str
    script: CallerScript


CALLERS = [
    DemoCaller("Alice", "5551001", "picks sales", CallerScript(answers=[("For sales", "1")])),
    DemoCaller(
        "Bob",
        "5551002",
        "mistypes, then picks support",
        CallerScript(answers=[("For sales", "7"), ("For sales", "2")]),
    ),
    DemoCaller("Carol", "5551003", "hangs up during the greeting", CallerScript(hangup_after=1.5)),
]


DEMO_TENANT = Tenant(
    "demo",
    "fsapps demo line",
    "demo.fsapps.invalid",
    billing_plan={
        "currency": "EUR",
        "components": [
            {
                "type": "usage",
                "resource": "ivr",
                "kind": "ivr_session",
                "unit": "seconds",
                "rate": "0.0100",
                "label": "IVR, per second",
            }
        ],
    },
)


def demo_dialplan(controller_port: int) -> StaticDialplan:
    """The access number hands calls to the controller; if none answers, a native message."""
    return StaticDialplan().add(
        "public",
        rf"^{DEMO_NUMBER}$",
        [
            ("set", f"fsapps_tenant={DEMO_TENANT.id}"),
            ("set", "fsapps_args=Welcome to the fsapps demo line."),
            ("set", "socket_resume=true"),
            ("socket", f"127.0.0.1:{controller_port}/welcome async full"),
            ("playback", "say:Sorry, all our lines are busy. Please call again later."),
            ("hangup", "NORMAL_CLEARING"),
        ],
    )


def describe(entry: str) -> str | None:
    """A channel log line as the caller experienced it, or None for plumbing."""
    if entry.startswith("heard (tts) "):
        return f'heard "{entry[len("heard (tts) ") :]}"'
    if entry.startswith("heard say:"):
        return f'heard "{entry[len("heard say:") :]}"'
    if entry.startswith("heard "):
        return f"heard {entry[len('heard ') :]}"
    if entry.startswith("caller pressed "):
        return f"pressed {entry[len('caller pressed ') :]}"
    if entry == "answered":
        return "answered"
    if entry.startswith("socket connected"):
        return "handed to the fsapps controller"
    if entry.startswith("socket released"):
        return "handed back to the dialplan"
    if entry == "caller hung up":
        return "hung up"
    if entry.startswith("hangup "):
        return f"call ended: {entry[len('hangup ') :]}"
    return None


def run(speed: float = 10.0, out: TextIO = sys.stdout, state_dir: str | None = None) -> int:
    settings = Settings()
    settings.controller.port = 0
    if state_dir:
        settings.state_dir = state_dir
    db = Database(settings).start()
    store = db.store(max_size=10)
    with store.operator() as op:
        if DEMO_TENANT.id not in {t.id for t in op.tenants()}:
            op.add_tenant(DEMO_TENANT, numbers=[DEMO_NUMBER])
    password = secrets.token_urlsafe(16)
    switch = Switch(speed=speed, password=password).start()
    settings.esl.port, settings.esl.password = switch.port, password
    controller = Controller(settings, store=store).start()
    switch.dialplan = demo_dialplan(controller.server.port)
    try:
        assert controller.client is not None and controller.client.wait_connected(10)
        where = f"embedded PostgreSQL in {db.embedded.pgdata}" if db.embedded else "the configured PostgreSQL"
        print(
            f"fsapps demo: emulated FreeSWITCH on 127.0.0.1:{switch.port}, controller on "
            f"127.0.0.1:{controller.server.port}, records in {where}; "
            f"{len(CALLERS)} callers dial {DEMO_NUMBER}.\n",
            file=out,
        )
        channels = [
            switch.place_call(DEMO_NUMBER, caller_id_number=c.number, caller_id_name=c.name, script=c.script)
            for c in CALLERS
        ]
        for ch in channels:
            if not ch.destroyed.wait(120 / speed + 10):
                print(f"call {ch.uuid} did not finish", file=out)
                return 1
        for i, (caller, ch) in enumerate(zip(CALLERS, channels, strict=True), 1):
            record = switch.history[ch.uuid]
            t0 = record.log[0][0]
            print(
                f"Call {i}: {caller.name} ({caller.number}) dials {DEMO_NUMBER} and {caller.story}", file=out
            )
            for t, entry in record.log:
                text = describe(entry)
                if text:
                    print(f"  {t - t0:6.1f}s  {text}", file=out)
            talk = record.variables.get("billsec", "0")
            print(f"          billed {talk}s, hangup cause {record.hangup_cause}\n", file=out)
        return report(store, controller, [ch.uuid for ch in channels], out)
    finally:
        switch.stop()
        controller.stop(grace=1)
        store.close()
        db.close()


def report(store: Store, controller: Controller, calls: list[str], out: TextIO) -> int:
    """What reached PostgreSQL, and what the demo tenant would be billed this month."""
    assert controller.writer is not None
    with gevent.Timeout(10, False):
        while controller.collector and controller.collector.collected < len(calls):
            gevent.sleep(0.05)
    # Collected, the records wait in the controller's batches, then in its writer.
    controller.record_batches.flush(10)
    if controller.cdr_batches is not None:
        controller.cdr_batches.flush(10)
    with gevent.Timeout(10, False):
        while controller.writer.pending:
            gevent.sleep(0.05)
    with store.tenant(DEMO_TENANT.id) as t:
        n_cdrs, n_usage = len(t.cdrs_for_legs(calls)), len(t.usage_for_calls(calls))
        month = datetime.now(UTC).strftime("%Y-%m")
        start, end = month_bounds(month, DEMO_TENANT.timezone)
        plan = parse_plan(t.info().billing_plan)
        statement = rate(
            DEMO_TENANT.id, month, DEMO_TENANT.timezone, plan, t.usage_between(start, end), t.seats()
        )
    print(f"Stored: {n_cdrs} CDRs and {n_usage} IVR usage records for these calls.", file=out)
    print(
        f"Tenant {DEMO_TENANT.id}, {month} so far: {statement.records} usage record(s), "
        f"total {statement.total} {statement.currency} "
        f"(fsapps bill --tenant {DEMO_TENANT.id} --month {month})",
        file=out,
    )
    return 0 if n_cdrs == len(calls) and n_usage == len(calls) else 1
