"""An agent's transfer to another queue, on the emulator with a controller and PostgreSQL:
the new visit is the call's from then on, whatever way it ends."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fsapps.acd.operations import AgentOperations
from fsapps.apps.context import AppContext
from fsapps.config import ControllerSettings, Settings
from fsapps.controller import Controller
from fsapps.esl.client import Connection
from fsapps.flows.check import check
from fsapps.flows.install import install
from fsapps.flows.render import render
from fsapps.sim.directory import Directory
from fsapps.sim.endpoints import CallerScript, Endpoint
from fsapps.sim.switch import Switch
from fsapps.sim.xmlconf import load_document
from fsapps.sim.xmldialplan import XmlDialplan
from fsapps.store import acd
from fsapps.store.records import Tenant
from fsapps.testing.freeswitch import free_port
from tests.support.waiting import wait_for

# overflow: nobody serves it, and its node has no timeout branch: max-wait-time takes the fallback.
TENANT = """id: acme
name: Acme
domain: acme.example
timezone: UTC
language: en
access_numbers: {"5100": main}
queues:
  support:
    strategy: top-down
    record-template: $${recordings_dir}/acme/${uuid}.wav
    tiers: [acme_a1]
  overflow:
    strategy: top-down
    max-wait-time: 3
    tiers: [acme_a2]
"""
FLOW = """start: start
nodes:
  start: {type: answer, children: {_: wait}}
  wait: {type: queue, data: {queue: support}, children: {_: bye}}
  bye: {type: hangup}
"""


@dataclasses.dataclass
class Rig:
    switch: Switch
    store: object

    def rows(self, sql: str, args: tuple = ()) -> list[dict]:
        with self.store.operator() as op:
            return op._all(sql, args)


@contextmanager
def rig(store, tmp_path: Path) -> Iterator[Rig]:
    with store.operator() as op:
        op.add_tenant(Tenant("acme", "Acme", "acme.example", "UTC"))
    port = free_port()
    root = tmp_path / "dialplan"
    (root / "acme" / "flows").mkdir(parents=True)
    (root / "operator.yaml").write_text(
        f"controllers: [127.0.0.1:{port}]\ntts: {{engine: flite, voice: slt}}\n"
    )
    (root / "acme" / "tenant.yaml").write_text(TENANT)
    (root / "acme" / "flows" / "main.yaml").write_text(FLOW)
    project = check(root)
    assert project.problems == []
    install(render(project), tmp_path / "conf")
    document = load_document(tmp_path / "conf")
    switch = Switch(
        dialplan=XmlDialplan.from_document(document), directory=Directory.from_document(document),
        speed=1.0, recordings_dir=str(tmp_path / "recordings"), password=os.urandom(6).hex(),
    ).start()  # fmt: skip
    ctx = AppContext(project, store=store)
    controller = Controller(
        Settings(controller=ControllerSettings(listen="127.0.0.1", port=port),
                 state_dir=str(tmp_path / "state")),
        store=store, context=ctx,
    )  # fmt: skip
    ctx.records = controller.writer
    controller.start()
    try:
        yield Rig(switch, store)
    finally:
        controller.stop(grace=1.0)
        switch.stop()


def test_a_caller_sent_to_a_queue_that_times_out_takes_the_fallback_and_is_counted_once_per_queue(
    store, tmp_path
) -> None:
    """Before: the new visit's fallback (None) reached the old visit's wait loop, which held
    the caller with music for good (its waiter gone, nothing would ever ring them) and,
    when they hung up, counted an abandon in the first queue too. The new visit's row also
    claimed the first queue's recording, made before the transfer."""
    with rig(store, tmp_path) as r:
        r.switch.register_user("acme_a1", Endpoint(answer_after=0.5))
        with store.operator() as op:
            for agent, status in (("acme_a1", "Available"), ("acme_a2", "Logged Out")):
                op.add_agent(agent, agent, {"acme": 1}, f"sofia/external/{agent}@127.0.0.1:5999")
                acd.ensure_agent(op.conn, agent)
                acd.set_status(op.conn, agent, status, 0)
        conn = Connection("127.0.0.1", r.switch.port, r.switch.password)
        conn.connect()
        try:
            ops = AgentOperations(store, conn.api)
            caller = r.switch.place_call("5100", caller_id_number="447700900109",
                                         script=CallerScript(hangup_after=60.0))  # fmt: skip
            assert wait_for(
                lambda: r.rows("SELECT 1 FROM agent_state WHERE state = 'In a queue call'"), timeout=20
            ), "\n".join(r.switch.call_log(caller.uuid)[-20:])
            ops.transfer("acme_a1", to_queue="overflow")
            # overflow's max-wait-time (3 s), then the node's fallback: sorry, and the call ends.
            assert caller.destroyed.wait(20), "\n".join(r.switch.call_log(caller.uuid)[-20:])
        finally:
            conn.stop()
        assert r.switch.history[caller.uuid].hangup_cause == "NORMAL_TEMPORARY_FAILURE"
        rows = wait_for(lambda: len(r.rows("SELECT * FROM queue_calls")) >= 2 and r.rows(
            "SELECT queue, outcome, agent_id, recording FROM queue_calls ORDER BY joined_at"))  # fmt: skip
        assert [(q["queue"], q["outcome"], q["agent_id"]) for q in rows] == [
            ("support", "answered", "acme_a1"),
            ("overflow", "timed_out", None),
        ]
        assert rows[0]["recording"] and rows[1]["recording"] is None
        assert r.rows("SELECT * FROM queue_members") == []
