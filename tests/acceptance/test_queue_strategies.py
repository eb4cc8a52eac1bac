"""round-robin, top-down and ring-progressively on SIP phones: the real FreeSWITCH (sipp callers and agents)
and the emulator, same assertions, one switch start for both strategies.

Who rang is read from what the controller told the switch: each ``bridge`` it sent,
with the ``fsapps_agent`` of each leg, in order. A sipp phone takes one call, so every
agent gets a fresh phone (and contact) before each call.

- round-robin (mod_callcenter.c:2651-2663): each caller goes to the agent after the one
  offered last, wrapping: r1, r2, r3, r1.
- top-down (l.2615-2650, 2436-2443): within one call, after t1 and t2 ring out (no delay:
  they are free again at once) the next agent is t3, not t1 again.
- ring-progressively (l.2704-2716, 1906-1929): p1 rings, p2 joins 2 s later and p3 2 s
  after that, while the others still ring; p3 answers, p1 and p2 lose the race. Their
  legs are originated one by one (each ``bgapi originate``), so who rang is read from those.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import gevent
import pytest

from fsapps.apps.context import AppContext
from fsapps.config import ControllerSettings, EslSettings, Settings
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
access_numbers: {"5201": rr, "5202": td, "5203": rp}
queues:
  rr: {strategy: round-robin, ring-timeout: 4, tiers: [acme_r1, acme_r2, acme_r3]}
  td: {strategy: top-down, ring-timeout: 3, tiers: [acme_t1, acme_t2, acme_t3]}
  rp: {strategy: ring-progressively, ring-progressively-delay: 2, ring-timeout: 10,
       tiers: [acme_p1, acme_p2, acme_p3]}
  rq: {max-wait-time: 2, tiers: [acme_p4]}
"""
FLOW = """start: start
nodes:
  start: {{type: answer, children: {{_: wait}}}}
  wait: {{type: queue, data: {{queue: {queue}}}, children: {{_: bye}}}}
  bye: {{type: hangup}}
"""
# ring-progressively's: after the agent, the caller goes on to a second queue node (another
# socket, so the controller sees that the flow went on), which times out to the hangup.
RP_FLOW = """start: start
nodes:
  start: {type: answer, children: {_: wait}}
  wait: {type: queue, data: {queue: rp}, children: {_: again}}
  again: {type: queue, data: {queue: rq}, children: {_: bye, timeout: bye}}
  bye: {type: hangup}
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

    def rung(self, how: str = "bridge") -> list[str]:
        """The agents of every ``bridge`` (or ``originate``) the controller sent, in order."""
        return [agent for _, agent in self.rung_at(how)]

    def rung_at(self, how: str = "bridge") -> list[tuple[float, str]]:
        sent = [
            (e.at, e.message)
            for conv in self.recorder.outbound()
            for e in conv.entries
            if e.direction == "sent"
        ]
        out = []
        for at, cmd in sorted(sent, key=lambda x: x[0]):
            text = " ".join([getattr(cmd, "line", ""), *(v for _, v in getattr(cmd, "headers", ())),
                             getattr(cmd, "body", "")])  # fmt: skip
            if how in text:
                out += [(at, agent) for agent in re.findall(r"fsapps_agent=(acme_\w+)", text)]
        return out

    def sent(self, needle: str) -> list[str]:
        """The text of every command the controller sent that holds ``needle``, in order."""
        sent = [(e.at, e.message) for conv in self.recorder.outbound() for e in conv.entries
                if e.direction == "sent"]  # fmt: skip
        texts = []
        for _, cmd in sorted(sent, key=lambda x: x[0]):
            text = " ".join([getattr(cmd, "line", ""), *(v for _, v in getattr(cmd, "headers", ())),
                             getattr(cmd, "body", "")])  # fmt: skip
            if needle in text:
                texts.append(text)
        return texts

    def kill(self, leg: str) -> None:
        """The agent hangs up: their leg ended from the switch's own Event Socket."""
        if self.name == "sim":
            self.switch.api("uuid_kill", leg)
            return
        conn = Connection("127.0.0.1", self.switch.esl_port, self.switch.password, timeout=5)
        conn.connect()
        try:
            assert conn.api(f"uuid_kill {leg}").startswith("+OK")
        finally:
            conn.stop()

    def state(self, agent: str) -> str:
        with self.store.operator() as op:
            rows = op._all("SELECT state FROM agent_state WHERE agent_id = %s", (agent,))
        return str(rows[0]["state"]) if rows else ""

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
    (root / "acme" / "flows" / "rp.yaml").write_text(RP_FLOW)
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
        # The controller's own Event Socket: ring-progressively's callers are routed on by it.
        esl_port = t.switch.port if name == "sim" else t.switch.esl_port
        settings = Settings(
            controller=ControllerSettings(listen="127.0.0.1", port=port), state_dir=str(root / "state"),
            esl=EslSettings(host="127.0.0.1", port=esl_port, password=t.switch.password),
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


@pytest.mark.parametrize("where", TARGETS)
def test_ring_progressively_adds_a_leg_every_delay_and_the_first_to_answer_wins(
    where, store, tmp_path
) -> None:
    with target(where, store, tmp_path) as (t, _):
        for agent in ("acme_p1", "acme_p2", "acme_p3"):
            t.agent(agent)
        t.phone("acme_p1", answers=False)
        t.phone("acme_p2", answers=False)
        t.phone("acme_p3", answers=True)
        t.call("5203", "447700900230", stay=10.0)
        assert wait_for(lambda: len(t.answered()) == 1, timeout=15), t.answered()
        rung = t.rung_at("originate")
        assert [agent for _, agent in rung] == ["acme_p1", "acme_p2", "acme_p3"]
        # Each joined 2 s (the delay, plus at most a pass) after the one before, while the
        # earlier ones still rang (ring-timeout 10 s).
        gaps = [b[0] - a[0] for a, b in itertools.pairwise(rung)]
        assert all(1.5 <= g <= 3.5 for g in gaps), gaps
        assert t.answered() == ["acme_p3"]
        with store.operator() as op:
            rows = op._all(
                "SELECT agent_id, state, no_answer_count FROM agent_state"
                " WHERE agent_id IN ('acme_p1', 'acme_p2')"
            )
        # They lost the race (LOSE_RACE): no no-answer counted, free again.
        assert sorted((r["agent_id"], r["state"], r["no_answer_count"]) for r in rows) == [
            ("acme_p1", "Waiting", 0), ("acme_p2", "Waiting", 0)]  # fmt: skip


def _stays_until_bye(t: Target, number: str) -> None:
    if t.name == "sim":
        ch = t.switch.place_call("5203", caller_id_number=number, script=CallerScript())
        assert ch.destroyed.wait(60), "\n".join(t.switch.call_log(ch.uuid))
        return
    run = sipp.place_call("uac_until_bye", t.switch.sip_port("external"), "5203", caller=number,
                          timeout_ms=50000, timeout=60)  # fmt: skip
    assert run.completed, run.output + "\n--- switch log ---\n" + t.switch.log_tail()


@pytest.mark.parametrize("where", TARGETS)
def test_after_an_agent_hangs_up_a_uuid_bridged_caller_goes_on_in_the_flow(where, store, tmp_path) -> None:
    """The caller is bridged to the answering leg with uuid_bridge, park_after_bridge set:
    when the agent hangs up the caller is parked under the socket again, and routed on by
    the queue node's branch (the uuid_bridge gave them a new caller profile: handed back
    to the dialplan they would have been hung up, switch_ivr_bridge.c:1252-1256)."""
    with target(where, store, tmp_path) as (t, _):
        for agent in ("acme_p1", "acme_p2", "acme_p3"):
            t.agent(agent)
        t.phone("acme_p1", answers=True)
        caller = gevent.spawn(_stays_until_bye, t, "447700900231")
        talking = wait_for(lambda: t.state("acme_p1") == "In a queue call", timeout=20)
        assert talking, t.state("acme_p1")
        (originate,) = t.sent("originate")
        (leg,) = re.findall(r"origination_uuid=([0-9a-f-]{36})", originate)
        t.kill(leg)
        caller.get(timeout=70)
        # The flow went on after the agent: the second queue node's visit (another socket)
        # timed out to the hangup.
        assert wait_for(lambda: t.answered() == ["acme_p1", "overflowed"], timeout=15), t.answered()
