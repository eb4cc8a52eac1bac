"""Every outcome a usage record can carry, each from a call through the running
controller: a tenant's YAML rendered into the emulator, the controller running
fsapps' own applications, PostgreSQL (a real server) holding the records.

| outcome | when |
|---|---|
| the branch | the application named one (``found``) |
| ``fallback`` | it named none (a lookup whose table is not there) |
| ``failed`` | it raised |
| ``caller_hung_up`` | the caller left while it ran |
| ``store_unavailable`` | PostgreSQL did not answer |
| ``unknown_node`` | the call names a node the controller's flows do not have |
| ``no_application`` | the call names a node whose type the controller runs no application for |
| ``completed`` | an application outside the flows returned without naming one |

In every case but the branch, the caller goes on in the dialplan: the node's
fallback, or the dialplan's next action.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import gevent
import pytest
from prometheus_client import REGISTRY

from fsapps.apps import APPLICATIONS, NODE_APPLICATIONS
from fsapps.apps.context import AppContext
from fsapps.config import ControllerSettings, Settings
from fsapps.controller import Controller
from fsapps.flows.check import check
from fsapps.flows.install import install
from fsapps.flows.model import Project
from fsapps.flows.render import render
from fsapps.sim.dialplan import StaticDialplan
from fsapps.sim.endpoints import CallerScript
from fsapps.sim.switch import Switch
from fsapps.sim.xmlconf import load_document
from fsapps.sim.xmldialplan import XmlDialplan
from fsapps.store.durable import DurableWriter
from fsapps.store.records import Tenant
from tests.support.waiting import wait_for

OPERATOR = "controllers: [127.0.0.1:8084]\ntts: {engine: flite, voice: slt}\n"
TENANT = """id: acme
name: Acme
domain: acme.example
timezone: UTC
language: en
access_numbers: {NUMBERS}
prompts:
  hello: {text: "Hello."}
  sorry: {text: "Sorry, this service is not available right now."}
  rate: {text: "LONG"}
"""
SORRY = "Sorry, this service is not available right now."
HEAD = "start: start\nnodes:\n  start: {type: answer, children: {_: %s}}\n"
BYE = "  bye: {type: hangup}\n"
END = "  sorry: {type: play, data: {prompt: sorry}, children: {_: bye}}\n" + BYE


def lookup(node: str, table: str) -> str:
    return (
        f"  {node}:\n    type: lookup\n"
        f"    data: {{source: {{table: {table}, column: phone}}, key: caller_id, fields: [name]}}\n"
        "    children: {found: bye, not_found: bye, fallback: sorry}\n"
    )


FLOWS = {
    "lookup": HEAD % "find" + lookup("find", "accounts") + END,
    "broken": HEAD % "find" + lookup("find", "no_such_table") + END,
    "crash": HEAD % "read"
    + "  read:\n    type: readback\n    data: {items: [{prompt: hello}]}\n"
    + "    children: {_: bye, missing: bye, fallback: sorry}\n"
    + END,
    "survey": HEAD % "ask" + "  ask: {type: survey, data: {questions: [rate]}, children: {_: bye}}\n" + BYE,
    "screen": HEAD % "check"
    + "  check: {type: blacklist, children: {_: hello}}\n"
    + "  hello: {type: play, data: {prompt: hello}, children: {_: bye}}\n"
    + BYE,
    # What the switch runs and what the controller loaded differ here (rendered from newer
    # YAML than the controller's): a node the controller has never heard of, and one that
    # is a plain play node to the controller but a lookup in the dialplan.
    "newer": HEAD % "extra" + lookup("extra", "accounts") + END,
    "changed": HEAD % "greet" + lookup("greet", "accounts") + END,
}
CHANGED_BEFORE = HEAD % "greet" + "  greet: {type: play, data: {prompt: hello}, children: {_: bye}}\n" + BYE
NUMBERS = {"7001": "lookup", "7002": "broken", "7003": "crash", "7004": "survey", "7005": "screen",
           "7006": "newer", "7007": "changed"}  # fmt: skip
LOOKUP_TABLE = """
CREATE TABLE lookup.accounts (tenant_id text NOT NULL, phone text, name text);
ALTER TABLE lookup.accounts ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON lookup.accounts TO fsapps_tenant
  USING (tenant_id = (SELECT fsapps_current_tenant()));
GRANT SELECT ON lookup.accounts TO fsapps_tenant;
INSERT INTO lookup.accounts VALUES ('acme', '5550001', 'Ada');
"""


def write_project(root: Path, numbers: dict[str, str], flows: dict[str, str]) -> Project:
    (root / "acme" / "flows").mkdir(parents=True)
    (root / "operator.yaml").write_text(OPERATOR)
    listed = "{" + ", ".join(f'"{n}": {f}' for n, f in numbers.items()) + "}"
    # A prompt long enough (about 20 s of TTS) for the caller to hang up in the middle of it.
    long = "Please rate the service you had today, from one for poor to five for excellent. " * 3
    (root / "acme" / "tenant.yaml").write_text(TENANT.replace("{NUMBERS}", listed).replace("LONG", long))
    for name, text in flows.items():
        (root / "acme" / "flows" / f"{name}.yaml").write_text(text)
    project = check(root, sounds=root.parent / "sounds")
    assert project.problems == []
    return project


class Rig:
    """The emulator running what the switch was given, the controller running what it
    loaded, one PostgreSQL behind the controller."""

    def __init__(self, tmp_path: Path, store, switch_sees: Project, controller_has: Project) -> None:
        self.store = store
        self.writer = DurableWriter(store, tmp_path / "spool")
        context = AppContext(controller_has, store=store, records=self.writer)
        settings = Settings(
            controller=ControllerSettings(listen="127.0.0.1", port=0), state_dir=str(tmp_path / "var")
        )
        self.controller = Controller(settings, applications=APPLICATIONS, context=context).start()
        self.writer.start()
        address = f"127.0.0.1:{self.controller.server.port}"
        operator = dataclasses.replace(switch_sees.operator, controllers=[address])
        install(render(dataclasses.replace(switch_sees, operator=operator)), tmp_path / "conf")
        document = load_document(tmp_path / "conf")
        self.sw = Switch(dialplan=XmlDialplan.from_document(document), speed=10.0).start()

    def call(self, number: str, caller: str = "5550001", hangup_after: float = 120.0) -> list[str]:
        script = CallerScript(hangup_after=hangup_after)
        ch = self.sw.place_call(number, caller_id_number=caller, script=script)
        assert ch.destroyed.wait(60), number
        return self.sw.call_log(ch.uuid)

    def outcomes(self) -> dict[str, str]:
        with self.store.tenant("acme") as t:
            rows = t._all("SELECT resource, kind, unit, resource_id, outcome FROM usage_records")
        assert {(r["resource"], r["kind"], r["unit"]) for r in rows} <= {("ivr", "ivr_session", "seconds")}
        return {r["resource_id"]: r["outcome"] for r in rows}

    def stop(self) -> None:
        self.sw.stop()
        self.controller.stop(grace=1.0)
        self.writer.stop()


def sessions(flow: str, node: str, outcome: str) -> float:
    labels = {"tenant": "acme", "flow": flow, "node": node, "outcome": outcome}
    return REGISTRY.get_sample_value("fsapps_ivr_sessions_total", labels) or 0.0


@pytest.fixture
def acme(store):
    with store.operator() as op:
        op.add_tenant(Tenant("acme", "Acme", "acme.example"))
        for statement in LOOKUP_TABLE.split(";"):
            if statement.strip():
                op.conn.execute(statement)
    return store


def test_each_outcome_is_recorded_and_counted_and_the_caller_goes_on(acme, tmp_path, monkeypatch) -> None:
    new = write_project(tmp_path / "new", NUMBERS, FLOWS)
    old_numbers = {n: f for n, f in NUMBERS.items() if f != "newer"}
    old_flows = {**{n: f for n, f in FLOWS.items() if n != "newer"}, "changed": CHANGED_BEFORE}
    old = write_project(tmp_path / "old", old_numbers, old_flows)

    def crashing_readback(call):
        call.session.answer()
        raise RuntimeError("readback broke")

    monkeypatch.setitem(NODE_APPLICATIONS, "readback", crashing_readback)
    expected = {
        "lookup.find": ("lookup", "find", "found"),
        "broken.find": ("broken", "find", "fallback"),
        "crash.read": ("crash", "read", "failed"),
        "survey.ask": ("survey", "ask", "caller_hung_up"),
        "screen.check": ("screen", "check", "_"),
        "flow": ("?", "?", "unknown_node"),
        "changed.greet": ("changed", "greet", "no_application"),
    }
    before = {k: sessions(*v) for k, v in expected.items()}
    rig = Rig(tmp_path, acme, switch_sees=new, controller_has=old)
    try:
        jobs = {
            number: gevent.spawn(rig.call, number, hangup_after=12.0 if flow == "survey" else 120.0)
            for number, flow in NUMBERS.items()
        }
        logs = {number: job.get(timeout=90) for number, job in jobs.items()}
        assert wait_for(lambda: len(rig.outcomes()) == len(expected), timeout=20), rig.outcomes()
    finally:
        rig.stop()
    assert rig.outcomes() == {k: v[2] for k, v in expected.items()}
    for key, labels in expected.items():
        assert sessions(*labels) == before[key] + 1, key
    # With no branch from the controller, the dialplan took each node's fallback.
    for number in ("7002", "7003", "7006", "7007"):
        assert any(SORRY in line for line in logs[number]), (number, logs[number])
    assert not any(SORRY in line for line in logs["7001"])


def test_store_unavailable_is_recorded_once_postgresql_is_back(acme, pg_server, tmp_path) -> None:
    project = write_project(tmp_path / "dialplan", {"7005": "screen"}, {"screen": FLOWS["screen"]})
    rig = Rig(tmp_path, acme, switch_sees=project, controller_has=project)
    before = sessions("screen", "check", "store_unavailable")
    try:
        pg_server.stop_server()
        try:
            log = rig.call("7005")
            # The blacklist is a check the call can do without: the caller goes on.
            assert any("Hello." in line for line in log), log
            spool = tmp_path / "spool" / "records.jsonl"
            assert wait_for(lambda: spool.exists() and "store_unavailable" in spool.read_text(), timeout=20)
            spooled = [json.loads(line) for line in spool.read_text().splitlines() if line.strip()]
            assert [r["record"]["outcome"] for r in spooled if r["kind"] == "usage"] == ["store_unavailable"]
        finally:
            pg_server.start_server()
        acme.pool.check()
        assert wait_for(lambda: rig.outcomes() == {"screen.check": "store_unavailable"}, timeout=30)
    finally:
        rig.stop()
    assert sessions("screen", "check", "store_unavailable") == before + 1


def test_an_application_outside_the_flows_records_completed_or_failed(acme, tmp_path) -> None:
    """What users write (README, Writing an application): the record names the application."""

    def hours(session, args):
        session.answer()
        if args == "crash":
            raise ZeroDivisionError("bug in hours")

    def extension(number: str, args: str) -> tuple[str, str, list[tuple[str, str]]]:
        return "public", rf"^{number}$", [
            ("set", "fsapps_tenant=acme"), ("set", f"fsapps_args={args}"), ("set", "socket_resume=true"),
            ("socket", f"127.0.0.1:{controller.server.port}/hours async full"),
            ("playback", "tone_stream://%(250,0,620)"),
        ]  # fmt: skip

    writer = DurableWriter(acme, tmp_path / "spool").start()
    settings = Settings(controller=ControllerSettings(listen="127.0.0.1", port=0), state_dir=str(tmp_path))
    # The tenant is known from its checked flows, as the controller's flows.dir gives them.
    flows = write_project(tmp_path / "dialplan", {"7001": "lookup"}, {"lookup": FLOWS["lookup"]})
    context = AppContext(flows, store=acme, records=writer)
    controller = Controller(settings, applications={"hours": hours}, context=context).start()
    dp = StaticDialplan()
    for number, args in (("8000", "fine"), ("8001", "crash")):
        dp.add(*extension(number, args))
    sw = Switch(dialplan=dp, speed=10.0).start()
    try:
        logs = {}
        for number in ("8000", "8001"):
            ch = sw.place_call(number, script=CallerScript(hangup_after=30.0))
            assert ch.destroyed.wait(30)
            logs[number] = sw.call_log(ch.uuid)

        def rows():
            with acme.tenant("acme") as t:
                return sorted((r["resource_id"], r["outcome"]) for r in t._all("SELECT * FROM usage_records"))

        assert wait_for(lambda: len(rows()) == 2, timeout=20)
        assert rows() == [("hours", "completed"), ("hours", "failed")]
        # Either way the call was handed back: the dialplan's next action ran.
        for number in ("8000", "8001"):
            assert any("tone_stream://%(250,0,620)" in line for line in logs[number]), logs[number]
    finally:
        sw.stop()
        controller.stop(grace=1.0)
        writer.stop()
