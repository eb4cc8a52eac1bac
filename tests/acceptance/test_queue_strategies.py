"""round-robin and top-down on SIP phones: the real FreeSWITCH (sipp callers and agents)
and the emulator, same assertions, one switch start for both strategies.

Who rang is read from what the controller told the switch: each ``bridge`` it sent,
with the ``fsapps_agent`` of each leg, in order. A sipp phone takes one call, so every
agent gets a fresh phone (and contact) before each call.

- round-robin (mod_callcenter.c:2651-2663): each caller goes to the agent after the one
  offered last, wrapping: r1, r2, r3, r1.
- top-down (l.2615-2650, 2436-2443): within one call, after t1 and t2 ring out (no delay:
  they are free again at once) the next agent is t3, not t1 again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from fsapps.apps.context import AppContext
from fsapps.config import ControllerSettings, Settings
from fsapps.controller import Controller
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
from fsapps.testing.conversation import Recorder, recording
from fsapps.testing.freeswitch import RealSwitch, free_port
from tests.support import sipp
from tests.support.targets import real_switch_available
from tests.support.waiting import wait_for

TENANT = """id: acme
name: Acme
domain: acme.example
timezone: UTC
language: en
access_numbers: {"5201": rr, "5202": td}
queues:
  rr: {strategy: round-robin, ring-timeout: 4, tiers: [acme_r1, acme_r2, acme_r3]}
  td: {strategy: top-down, ring-timeout: 3, tiers: [acme_t1, acme_t2, acme_t3]}
"""
FLOW = """start: start
nodes:
  start: {{type: answer, children: {{_: wait}}}}
  wait: {{type: queue, data: {{queue: {queue}}}, children: {{_: bye}}}}
  bye: {{type: hangup}}
"""
SIM_PHONE = "127.0.0.1:5999"


@dataclasses.dataclass
class Target:
    name: str
    store: object
    switch: object
    phones: list = dataclasses.field(default_factory=list)
    recorder: Recorder = dataclasses.field(default_factory=Recorder)

    def agent(self, agent_id: str) -> None:
        with self.store.operator() as op:
            op.add_agent(agent_id, agent_id, {"acme": 1}, None)
            acd.ensure_agent(op.conn, agent_id)
            acd.set_status(op.conn, agent_id, "Available", 0)

    def phone(self, agent_id: str, answers: bool) -> None:
        """A fresh phone for the agent's next call (answers after 0.5 s, or rings on)."""
        if self.name == "sim":
            endpoint = Endpoint(answer_after=0.5) if answers else Endpoint(answer_after=None)
            self.switch.register_user(agent_id, endpoint)
            contact = f"sofia/external/{agent_id}@{SIM_PHONE}"
        else:
            if answers:
                phone = sipp.Phone("uas_agent", ring_ms=500, talk_timeout_ms=60000)
            else:
                phone = sipp.Phone("uas_no_answer", ring_timeout_ms=60000)
            self.phones.append(phone)
            contact = phone.contact(agent_id)
        with self.store.operator() as op:
            op.conn.execute("UPDATE agents SET contact = %s WHERE id = %s", (contact, agent_id))

    def call(self, number: str, caller: str, stay: float) -> None:
        """A caller who hangs up ``stay`` seconds after the switch answers."""
        if self.name == "sim":
            ch = self.switch.place_call(
                number, caller_id_number=caller, script=CallerScript(hangup_after=stay)
            )
            assert ch.destroyed.wait(stay + 30), "\n".join(self.switch.call_log(ch.uuid))
        else:
            run = sipp.place_call("uac_keys", self.switch.sip_port("external"), number, caller=caller,
                                  wait_ms=1000, pcap=sipp.digit_pcap("5"), listen_ms=int(stay * 1000) - 1000,
                                  timeout=stay + 60)  # fmt: skip
            assert run.completed, run.output + "\n--- switch log ---\n" + self.switch.log_tail()
        for phone in self.phones:
            phone.stop()  # a phone not rung this call is not the agent's next one
        self.phones.clear()

    def rung(self) -> list[str]:
        """The agents of every bridge the controller sent, in order."""
        sent = [
            (e.at, e.message)
            for conv in self.recorder.outbound()
            for e in conv.entries
            if e.direction == "sent"
        ]
        out = []
        for _, cmd in sorted(sent, key=lambda x: x[0]):
            text = " ".join([getattr(cmd, "line", ""), *(v for _, v in getattr(cmd, "headers", ())),
                             getattr(cmd, "body", "")])  # fmt: skip
            if "bridge" in text:
                out += re.findall(r"fsapps_agent=(acme_\w+)", text)
        return out

    def answered(self) -> list[str | None]:
        with self.store.operator() as op:
            rows = op._all("SELECT agent_id, outcome FROM queue_calls ORDER BY joined_at")
        return [r["agent_id"] if r["outcome"] == "answered" else r["outcome"] for r in rows]


@contextlib.contextmanager
def target(name: str, store, tmp_path: Path) -> Iterator[tuple[Target, Controller]]:
    if name == "real":
        real_switch_available()
        sipp.sipp_available()
    with store.operator() as op:
        op.add_tenant(Tenant("acme", "Acme", "acme.example", "UTC"))
    port = free_port()
    root = tmp_path / "dialplan"
    (root / "acme" / "flows").mkdir(parents=True)
    (root / "operator.yaml").write_text(
        f"controllers: [127.0.0.1:{port}]\ntts: {{engine: flite, voice: slt}}\n"
    )
    (root / "acme" / "tenant.yaml").write_text(TENANT)
    for queue in ("rr", "td"):
        (root / "acme" / "flows" / f"{queue}.yaml").write_text(FLOW.format(queue=queue))
    project = check(root)
    assert project.problems == []
    files = render(project)
    t = Target(name, store, None)
    c: Controller | None = None
    try:
        if name == "sim":
            install(files, tmp_path / "conf")
            document = load_document(tmp_path / "conf")
            t.switch = Switch(dialplan=XmlDialplan.from_document(document),
                              directory=Directory.from_document(document), speed=1.0).start()  # fmt: skip
        else:
            t.switch = RealSwitch.from_env(prepare=lambda conf: install(files, conf)).start()
        ctx = AppContext(project, store=store)
        settings = Settings(
            controller=ControllerSettings(listen="127.0.0.1", port=port), state_dir=str(root / "state")
        )
        c = Controller(settings, store=store, context=ctx)
        ctx.records = c.writer
        c.start()
        with recording() as t.recorder:
            yield t, c
    finally:
        if c is not None:
            c.stop(grace=1.0)
        for phone in t.phones:
            phone.stop()
        if t.switch is not None:
            t.switch.stop()


TARGETS = [pytest.param("sim"), pytest.param("real", marks=pytest.mark.realswitch)]


@pytest.mark.parametrize("where", TARGETS)
def test_round_robin_and_top_down_ring_agents_in_mod_callcenters_order(where, store, tmp_path) -> None:
    with target(where, store, tmp_path) as (t, _):
        for agent in ("acme_r1", "acme_r2", "acme_r3", "acme_t1", "acme_t2", "acme_t3"):
            t.agent(agent)
        # round-robin: four callers one after another, every agent answers.
        for k in range(4):
            for agent in ("acme_r1", "acme_r2", "acme_r3"):
                t.phone(agent, answers=True)
            t.call("5201", f"44770090020{k}", stay=4.0)
            assert wait_for(lambda k=k: len(t.answered()) == k + 1, timeout=15), t.answered()
        round_robin = t.rung()
        # top-down: one caller; t1 and t2 ring out (3 s each), t3 answers.
        t.phone("acme_t1", answers=False)
        t.phone("acme_t2", answers=False)
        t.phone("acme_t3", answers=True)
        t.call("5202", "447700900210", stay=12.0)
        wait_for(lambda: len(t.answered()) == 5, timeout=15)
        top_down = t.rung()[len(round_robin) :]
        assert (round_robin, top_down) == (
            ["acme_r1", "acme_r2", "acme_r3", "acme_r1"],
            ["acme_t1", "acme_t2", "acme_t3"],
        )
        assert t.answered() == ["acme_r1", "acme_r2", "acme_r3", "acme_r1", "acme_t3"]
