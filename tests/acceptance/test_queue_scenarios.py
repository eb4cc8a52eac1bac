"""The ACD with SIP phones, on the real FreeSWITCH (sipp callers and agents)
and on the emulator (its scripted caller and phones), same assertions:

b. Two agents: the first does not answer, the second does; the agents' and
   the member's states afterwards are mod_callcenter's; the recording's
   length is the talk time within 10%.
c. The caller hangs up while an agent's phone rings: the member is kept as
   Abandoned, the abandon counted, no agent left Receiving.
d. The controller is killed with SIGKILL while the caller waits: the
   dialplan holds the call and hands it to the controller that comes back,
   which serves it with the caller's place kept.

A small tenant goes straight to the queue, so business hours and the
example prompts play no part.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
import wave
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import gevent
import pytest
import yaml
from prometheus_client import REGISTRY

from fsapps.apps.context import AppContext
from fsapps.config import ControllerSettings, EslSettings, Settings
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
from tests.support import sequences, sipp
from tests.support.targets import real_switch_available
from tests.support.waiting import wait_for

TENANT = """id: acme
name: Acme
domain: acme.example
timezone: UTC
language: en
access_numbers: {"5100": main}
queues:
  support:
    strategy: top-down          # position 1 first: the agent who does not answer
    ring-timeout: 6
    record-template: $${recordings_dir}/acme/${uuid}.wav
    tiers: [acme_a1, acme_a2]
"""
FLOW = """start: start
nodes:
  start: {type: answer, children: {_: wait}}
  wait: {type: queue, data: {queue: support}, children: {_: bye}}
  bye: {type: hangup}
"""


@dataclasses.dataclass
class Target:
    name: str
    store: object
    root: Path
    port: int  # where the dialplan looks for the controller
    switch: object
    phones: list = dataclasses.field(default_factory=list)
    recorder: Recorder = dataclasses.field(default_factory=Recorder)  # what the controllers said and heard

    def agent(self, agent_id: str, behaviour: str, status: str = "Available", **settings) -> None:
        """behaviour: "answer" (after 1 s, stays until the caller hangs up) or "no_answer"."""
        if self.name == "sim":
            endpoint = Endpoint(answer_after=1.0) if behaviour == "answer" else Endpoint(answer_after=None)
            self.switch.register_user(agent_id, endpoint)
            contact = f"sofia/external/{agent_id}@127.0.0.1:5999"
        else:
            if behaviour == "answer":
                phone = sipp.Phone("uas_agent", ring_ms=1000, talk_timeout_ms=120000)
            else:
                phone = sipp.Phone("uas_no_answer", ring_timeout_ms=120000)
            self.phones.append(phone)
            contact = phone.contact(agent_id)
        with self.store.operator() as op:
            op.add_agent(agent_id, agent_id, {"acme": 1}, contact)
            acd.ensure_agent(op.conn, agent_id, **settings)
            acd.set_status(op.conn, agent_id, status, 0)

    def call(self, caller: str, hang_up_after: float) -> None:
        """A caller who stays ``hang_up_after`` seconds after the answer, then hangs up."""
        if self.name == "sim":
            # The same caller as sipp's uac_keys: a stray "5" a second after the answer.
            script = CallerScript(dtmf=[(1.0, "5")], hangup_after=hang_up_after)
            ch = self.switch.place_call("5100", caller_id_number=caller, script=script)
            assert ch.destroyed.wait(hang_up_after + 30), "\n".join(self.switch.call_log(ch.uuid))
            return
        run = sipp.place_call("uac_keys", self.switch.sip_port("external"), "5100", caller=caller,
                              wait_ms=1000, pcap=sipp.digit_pcap("5"),
                              listen_ms=int(hang_up_after * 1000) - 1000, timeout=hang_up_after + 60)  # fmt: skip
        assert run.completed, run.output + "\n--- switch log ---\n" + self.switch.log_tail()

    def controller(self, *, esl: bool = False) -> Controller:
        """``esl``: with an Event Socket connection of its own to the switch, as deployed
        (CDRs, routing a caller on after their socket closes); without, socket-only."""
        project = check(self.root)
        assert project.problems == []
        ctx = AppContext(project, store=self.store)
        inbound = EslSettings(password=None)
        if esl:
            port = self.switch.port if self.name == "sim" else self.switch.esl_port
            inbound = EslSettings("127.0.0.1", port, self.switch.password)
        c = Controller(
            Settings(esl=inbound, controller=ControllerSettings(listen="127.0.0.1", port=self.port),
                     state_dir=str(self.root / "state")),
            store=self.store, context=ctx,
        )  # fmt: skip
        ctx.records = c.writer
        return c.start()

    def rows(self, sql: str, args=()) -> list[dict]:
        with self.store.operator() as op:
            return op._all(sql, args)


@contextlib.contextmanager
def target(name: str, store, tmp_path: Path, tenant: str = TENANT, flow: str = FLOW) -> Iterator[Target]:
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
    (root / "acme" / "tenant.yaml").write_text(tenant)
    (root / "acme" / "flows" / "main.yaml").write_text(flow)
    project = check(root)
    assert project.problems == []
    files = render(project)
    t = Target(name, store, root, port, None)
    try:
        if name == "sim":
            install(files, tmp_path / "conf")
            document = load_document(tmp_path / "conf")
            t.switch = Switch(
                dialplan=XmlDialplan.from_document(document), directory=Directory.from_document(document),
                speed=1.0, recordings_dir=str(tmp_path / "recordings"), password=os.urandom(6).hex(),
            ).start()  # fmt: skip
        else:
            t.switch = RealSwitch.from_env(prepare=lambda conf: install(files, conf)).start()
        with recording() as t.recorder:
            yield t
    finally:
        for phone in t.phones:
            phone.stop()
        if t.switch is not None:
            t.switch.stop()


def killable_controller(t: Target, tmp_path: Path) -> subprocess.Popen[bytes]:
    """``fsapps serve`` as its own process on the dialplan's controller port, to be killed."""
    config = tmp_path / "controller.yaml"
    config.write_text(yaml.safe_dump({
        "controller": {"listen": "127.0.0.1", "port": t.port},
        "database": {"dsn": t.store.dsn}, "flows": {"dir": str(t.root)},
        "state_dir": str(tmp_path / "killed"), "log": {"level": "info", "format": "text"},
    }))  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-c", "import sys; from fsapps.cli import main; sys.exit(main())", "serve",
         "--config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


def counted(outcome: str) -> float:
    return REGISTRY.get_sample_value("fsapps_acd_calls_total", {"tenant": "acme", "queue": "support",
                                                               "outcome": outcome}) or 0.0  # fmt: skip


TARGETS = [pytest.param("sim"), pytest.param("real", marks=pytest.mark.realswitch)]


@pytest.mark.parametrize("where", TARGETS)
def test_b_first_agent_does_not_answer_the_second_does_and_the_call_is_recorded(
    where, store, tmp_path
) -> None:
    with target(where, store, tmp_path) as t:
        t.agent("acme_a1", "no_answer", max_no_answer=1)
        t.agent("acme_a2", "answer")
        c = t.controller()
        try:
            t.call("447700900101", hang_up_after=15.0)
            rows = wait_for(lambda: t.rows("SELECT * FROM queue_calls"))
        finally:
            c.stop(grace=1.0)
        assert [(q["outcome"], q["agent_id"], q["offers"]) for q in rows] == [("answered", "acme_a2", 2)], (
            rows
        )
        q = rows[0]
        # acme_a1 rang for the ring-timeout (6 s), then acme_a2 answered after 1 s.
        assert 6.5 <= float(q["wait_seconds"]) <= 9, q
        talk = float(q["talk_seconds"])
        assert 5 <= talk <= 9, q
        a1, a2 = (
            t.rows("SELECT * FROM agent_state WHERE agent_id = %s", (a,))[0] for a in ("acme_a1", "acme_a2")
        )
        assert (a1["status"], a1["state"], a1["no_answer_count"], a1["offered_member"]) == (
            "On Break", "Waiting", 1, None)  # fmt: skip
        assert (a2["status"], a2["state"], a2["calls_answered"], a2["offered_member"]) == (
            "Available", "Waiting", 1, None)  # fmt: skip
        assert abs(a2["talk_time"] - talk) < 0.5
        assert t.rows("SELECT * FROM queue_members") == []
        path = Path(q["recording"])
        assert path.is_file(), q["recording"]
        with wave.open(str(path)) as w:
            seconds = w.getnframes() / w.getframerate()
        assert abs(seconds - talk) <= 0.1 * talk, (seconds, talk)
        sequences.agree("b", where, t.recorder.outbound())


@pytest.mark.parametrize("where", TARGETS)
def test_c_caller_hangs_up_while_waiting(where, store, tmp_path) -> None:
    before = counted("abandoned")
    with target(where, store, tmp_path) as t:
        t.agent("acme_a1", "no_answer", max_no_answer=1)
        c = t.controller()
        try:
            t.call("447700900102", hang_up_after=4.0)  # while acme_a1's phone rings
            rows = wait_for(lambda: t.rows("SELECT * FROM queue_calls"))
            wait_for(lambda: t.rows("SELECT 1 FROM agent_state WHERE state = 'Waiting'"))
        finally:
            c.stop(grace=1.0)
        assert [(q["outcome"], q["agent_id"]) for q in rows] == [("abandoned", None)]
        assert 2 <= float(rows[0]["wait_seconds"]) <= 5, rows
        assert counted("abandoned") == before + 1
        assert [m["state"] for m in t.rows("SELECT state FROM queue_members")] == ["Abandoned"]
        (a1,) = t.rows("SELECT * FROM agent_state")
        # The caller cancelled the offer: no no-answer count, no delay, nothing left reserved.
        assert (a1["status"], a1["state"], a1["no_answer_count"], a1["offered_member"]) == (
            "Available", "Waiting", 0, None)  # fmt: skip
        sequences.agree("c", where, t.recorder.outbound())


@pytest.mark.parametrize("where", TARGETS)
def test_d_controller_killed_while_the_caller_waits(where, store, tmp_path) -> None:
    with target(where, store, tmp_path) as t:
        t.agent("acme_a2", "answer", status="Logged Out")
        proc = killable_controller(t, tmp_path)
        back = None
        try:
            assert wait_for(lambda: _listening(t.port), timeout=30), "the controller did not start"
            caller = gevent.spawn(t.call, "447700900103", 45.0)
            joined = wait_for(
                lambda: t.rows("SELECT joined_epoch, controller FROM queue_members"), timeout=30
            )
            if not joined:
                proc.kill()
                pytest.fail("no member; the controller said:\n" + proc.communicate()[0].decode()[-3000:])
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            gevent.sleep(3)
            back = t.controller()
            with store.operator() as op:
                acd.set_status(op.conn, "acme_a2", "Available", time.time())
            caller.get(timeout=90)
        finally:
            if proc.poll() is None:
                proc.kill()
            if back is not None:
                back.stop(grace=1.0)
        rows = wait_for(lambda: t.rows("SELECT * FROM queue_calls"))
        assert [(q["outcome"], q["agent_id"]) for q in rows] == [("answered", "acme_a2")], rows
        assert rows[0]["joined_at"].timestamp() == pytest.approx(joined[0]["joined_epoch"], abs=0.01)
        assert rows[0]["joined_at"] < datetime.now(UTC)
        # The killed controller ran in its own process: what is compared is the comeback.
        sequences.agree("d", where, t.recorder.outbound())


@pytest.mark.parametrize("where", TARGETS)
def test_supervisor_whispers_then_the_agent_transfers_the_caller_to_another_agent(
    where, store, tmp_path
) -> None:
    """Operations on a live queue call: a supervisor's phone eavesdrops on the agent's leg
    with whisper set, then the agent's caller is sent to another agent's phone."""
    from fsapps.acd.operations import AgentOperations
    from fsapps.esl.client import Connection

    with target(where, store, tmp_path) as t:
        t.agent("acme_a2", "answer")
        t.agent("acme_a3", "answer", status="Logged Out")  # reached by the transfer, not the queue
        sup = "sup1"
        if where == "sim":
            t.switch.register_user(sup, Endpoint(answer_after=0.5))
            sup_dial = f"sofia/external/{sup}@127.0.0.1:5999"
            esl = Connection("127.0.0.1", t.switch.port, t.switch.password)
        else:
            phone = sipp.Phone("uas_agent", ring_ms=500, talk_timeout_ms=120000)
            t.phones.append(phone)
            sup_dial = phone.contact(sup)
            esl = Connection("127.0.0.1", t.switch.esl_port, t.switch.password)
        esl.connect()
        esl.events_seen = []  # type: ignore[attr-defined]
        c = t.controller()
        ops = AgentOperations(store, esl.api)
        try:
            caller = gevent.spawn(t.call, "447700900104", 25.0)
            assert wait_for(
                lambda: t.rows("SELECT 1 FROM agent_state WHERE state = 'In a queue call'"), timeout=30
            )
            (row,) = t.rows("SELECT agent_leg FROM agent_state WHERE agent_id = 'acme_a2'")
            spy = ops.listen("acme_a2", sup_dial, "whisper")
            got = wait_for(
                lambda: esl.api(f"uuid_getvar {spy} eavesdrop_whisper_aleg").strip() == "true", timeout=15
            )
            assert got, esl.api(f"uuid_dump {spy}")
            assert esl.api(f"uuid_exists {row['agent_leg']}").strip() == "true"
            ops.transfer("acme_a2", to_agent="acme_a3")
            # The caller is now on acme_a3's phone; acme_a2 is free, their call counted.
            assert wait_for(
                lambda: t.rows("SELECT 1 FROM agent_state WHERE agent_id = 'acme_a2' AND state = 'Waiting'"),
                timeout=15,
            )
            caller.get(timeout=60)
        finally:
            c.stop(grace=1.0)
            esl.stop()
        rows = wait_for(lambda: t.rows("SELECT outcome, agent_id FROM queue_calls"))
        assert rows == [{"outcome": "answered", "agent_id": "acme_a2"}]
        # acme_a3's phone took the transferred caller and was hung up when the caller left.
        if where == "sim":
            assert len(t.switch.users["acme_a3"].calls) == 1
        else:
            run = t.phones[1].wait(30)
            assert run.completed, run.output[-800:] + "\n--- switch log ---\n" + t.switch.log_tail(80)
        (a2,) = t.rows("SELECT calls_answered, offered_member FROM agent_state WHERE agent_id = 'acme_a2'")
        assert (a2["calls_answered"], a2["offered_member"]) == (1, None)
        sequences.agree("whisper-transfer", where, t.recorder.outbound())
