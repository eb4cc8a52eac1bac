"""A local process posing as the switch on the controller's outbound port writes
no usage record for a made-up tenant, adds no metric label, and, when the
controller has its own connection to the switch, no record for a channel the
switch does not have. Real TCP throughout; the emulator is the real switch."""

from __future__ import annotations

import uuid as uuidlib
from pathlib import Path
from typing import Any

import pytest
from gevent import socket

from fsapps.apps import APPLICATIONS
from fsapps.apps.catalog import load_checked
from fsapps.apps.context import AppContext
from fsapps.config import Settings
from fsapps.controller import Controller
from fsapps.esl import codec
from fsapps.metrics import IVR_SESSIONS
from fsapps.sim.dialplan import StaticDialplan
from fsapps.sim.endpoints import CallerScript
from fsapps.sim.switch import Switch
from fsapps.store.records import Tenant
from tests.support.waiting import wait_for

EXAMPLES = Path(__file__).resolve().parents[2] / "dialplan"
PASSWORD = "trust-" + uuidlib.uuid4().hex


class Kept:
    """The records the controller hands on, in order (its writer; PostgreSQL is not the subject)."""

    def __init__(self) -> None:
        self.records: list[Any] = []

    def write(self, *records: Any) -> None:
        self.records.extend(records)


def pose_as_switch(port: int, variables: dict[str, str], uuid: str) -> list[str]:
    """Connect like the dialplan's socket app and answer every command with +OK; the commands seen."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    reader = codec.CommandReader()
    seen: list[str] = []
    try:
        while data := sock.recv(65536):
            for cmd in reader.feed(data):
                seen.append(cmd.line)
                if cmd.name == "connect":
                    fields = [
                        ("Event-Name", "CHANNEL_DATA"),
                        ("Unique-ID", uuid),
                        ("Caller-Caller-ID-Number", "5550000"),
                        ("Answer-State", "ringing"),
                        *((f"variable_{k}", v) for k, v in variables.items()),
                        ("Content-Type", "command/reply"),
                        ("Reply-Text", "+OK\n"),
                    ]
                    sock.sendall(codec.serialize_plain(fields).encode())
                else:
                    sock.sendall(codec.encode_reply("+OK"))
                if cmd.name == "exit":
                    return seen
    finally:
        sock.close()
    return seen


def flow_call(tenant: str, flow: str, node: str) -> dict[str, str]:
    return {"socket_path": "flow", "fsapps_tenant": tenant, "fsapps_flow": flow, "fsapps_node": node}


def labels() -> set[tuple[str, ...]]:
    return {
        (s.labels["tenant"], s.labels["flow"], s.labels["node"])
        for metric in IVR_SESSIONS.collect()
        for s in metric.samples
    }


def noop(session: Any, args: str) -> str:
    return "done"


@pytest.fixture
def controller_for():
    made: list[Controller] = []

    def make(esl_port: int | None = None, store: Any = None) -> tuple[Controller, Kept]:
        settings = Settings()
        settings.controller.port = 0
        if esl_port is not None:
            settings.esl.port, settings.esl.password = esl_port, PASSWORD
        kept = Kept()
        context = AppContext(load_checked(EXAMPLES), store=store, records=kept)
        apps = {**APPLICATIONS, "noop": noop}
        controller = Controller(settings, applications=apps, store=store, context=context).start()
        made.append(controller)
        if controller.client is not None:
            assert controller.client.wait_connected(10)
        return controller, kept

    yield make
    for controller in made:
        controller.stop(0)


def test_a_made_up_tenant_flow_or_node_writes_no_record_and_no_label(controller_for) -> None:
    controller, kept = controller_for()
    port = controller.server.port
    before = labels()
    made_up = "evil-" + uuidlib.uuid4().hex[:8]
    assert "exit" in pose_as_switch(port, flow_call(made_up, "main", "start"), str(uuidlib.uuid4()))
    assert "exit" in pose_as_switch(
        port, flow_call("shopwise", "made-up-flow", "made-up-node"), str(uuidlib.uuid4())
    )
    real = str(uuidlib.uuid4())
    assert "exit" in pose_as_switch(port, flow_call("shopwise", "main", "start"), real)
    assert controller.record_batches.flush(5)
    assert [(r.tenant_id, r.resource_id, r.outcome) for r in kept.records] == [
        ("shopwise", "flow", "unknown_node"),  # a real tenant's call: counted, but under no made-up name
        ("shopwise", "main.start", "no_application"),
    ]
    new = labels() - before
    assert all(made_up not in lab and "made-up-flow" not in lab and "made-up-node" not in lab for lab in new)
    assert {lab[0] for lab in new} <= {"shopwise"}


def test_a_channel_the_switch_does_not_have_writes_no_record(controller_for) -> None:
    sw = Switch(speed=10.0, password=PASSWORD).start()
    try:
        controller, kept = controller_for(sw.port)
        port = controller.server.port
        posed = str(uuidlib.uuid4())
        assert "exit" in pose_as_switch(port, flow_call("shopwise", "main", "start"), posed)
        sw.dialplan = StaticDialplan().add(
            "public",
            r"^1000$",
            [
                ("answer", ""),
                ("set", "fsapps_tenant=shopwise"),
                ("set", "fsapps_flow=main"),
                ("set", "fsapps_node=start"),
                ("set", "socket_resume=true"),
                ("socket", f"127.0.0.1:{port}/flow async full"),
                ("hangup", ""),
            ],
        )
        ch = sw.place_call("1000", script=CallerScript())
        assert ch.destroyed.wait(15)
        assert wait_for(lambda: kept.records, timeout=5)
        assert controller.record_batches.flush(5)
        assert [(r.call_uuid, r.resource_id) for r in kept.records] == [(ch.uuid, "main.start")]
    finally:
        sw.stop()


def test_a_tenant_in_neither_the_flows_nor_the_database_gets_no_record(controller_for, store) -> None:
    """Any application's records: a tenant only in the database (its own applications,
    like the demo's) is kept, a made-up one is not, and a made-up name is looked up once."""
    with store.operator() as op:
        op.add_tenant(Tenant("dbonly", "Database only", "dbonly.example"))
    controller, kept = controller_for(store=store)
    port = controller.server.port
    made_up = "evil-" + uuidlib.uuid4().hex[:8]
    for tenant in (made_up, "dbonly", made_up, "shopwise"):
        variables = {"socket_path": "noop", "fsapps_tenant": tenant}
        assert "exit" in pose_as_switch(port, variables, str(uuidlib.uuid4()))
    assert controller.record_batches.flush(5)
    assert [(r.tenant_id, r.resource_id, r.outcome) for r in kept.records] == [
        ("dbonly", "noop", "done"),
        ("shopwise", "noop", "done"),
    ]
    assert controller.known_tenants.lookups == 1  # dbonly was read at start; the made-up name once


def test_a_flow_setting_uuid_changes_nothing_the_controller_does(controller_for) -> None:
    """A ${uuid} variable (a tenant's `set uuid=...`) is not the channel's UUID: the controller
    keeps using the switch's Unique-ID, so the call is still recognised and billed."""
    sw = Switch(speed=10.0, password=PASSWORD).start()
    try:
        controller, kept = controller_for(sw.port)
        port = controller.server.port
        sw.dialplan = StaticDialplan().add(
            "public", r"^1000$",
            [("answer", ""), ("set", "fsapps_tenant=shopwise"), ("set", "fsapps_flow=main"),
             ("set", "fsapps_node=start"), ("set", "uuid=0123456789abcdef"),
             ("set", "socket_resume=true"), ("socket", f"127.0.0.1:{port}/flow async full"), ("hangup", "")],
        )  # fmt: skip
        ch = sw.place_call("1000", script=CallerScript())
        assert ch.destroyed.wait(15)
        got = wait_for(lambda: controller.record_batches.flush(0.1) and kept.records)
        assert [(r.tenant_id, r.call_uuid) for r in got or []] == [("shopwise", ch.uuid)]
    finally:
        sw.stop()
