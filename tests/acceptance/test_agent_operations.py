"""Agent operations on live queue calls with SIP phones, on the real FreeSWITCH
(sipp callers and phones) and on the emulator, same assertions:

- pickup: the call rings at one agent's phone; another agent takes it, then puts
  the caller on hold and back: the hold music is a media bug on the agent's leg,
  the bridge stays; on the real switch, the recordings show the caller hearing the
  hold music and the agent hearing nothing of the caller while held.
- attended transfer: the agent consults a number while the caller holds, cancels
  (back to the caller), consults another agent and completes the transfer.

The scenario tenant and its queue are test_queue_scenarios' (support: top-down,
ring-timeout 6 s, acme_a1 then acme_a2).
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import gevent
import pytest

from fsapps.acd.config import DEFAULT_MOH
from fsapps.acd.operations import AgentOperations
from fsapps.esl import codec
from fsapps.esl.client import Connection
from fsapps.sim.apps.displace import heard_from, silenced
from fsapps.sim.endpoints import CallerScript, Endpoint
from tests.acceptance.test_queue_scenarios import TARGETS, TENANT, Target, target
from tests.support import audio, sipp
from tests.support.waiting import wait_for


@contextlib.contextmanager
def operations(
    t: Target, where: str, bridges: list[tuple[str, str]], ends: list[tuple[str, str]] | None = None,
    causes: dict[str, str] | None = None,
) -> Iterator[AgentOperations]:
    """Agent operations over the target's Event Socket; ``bridges`` collects every
    CHANNEL_BRIDGE as (Bridge-A, Bridge-B), ``ends`` every CHANNEL_UNBRIDGE and
    CHANNEL_HANGUP as (event, Unique-ID), ``causes`` each hangup's cause by Unique-ID."""
    port = t.switch.port if where == "sim" else t.switch.esl_port
    api = Connection("127.0.0.1", port, t.switch.password)
    events = Connection("127.0.0.1", port, t.switch.password)
    api.connect()
    events.connect()

    def bridged(e: codec.Event) -> None:
        bridges.append((e.get("Bridge-A-Unique-ID") or "", e.get("Bridge-B-Unique-ID") or ""))

    def ended(e: codec.Event) -> None:
        if causes is not None and e.name == "CHANNEL_HANGUP":
            causes[e.get("Unique-ID") or ""] = e.get("Hangup-Cause") or ""
        if ends is not None:
            ends.append((e.name, e.get("Unique-ID") or ""))

    events.register_handle("CHANNEL_BRIDGE", bridged)
    events.register_handle("CHANNEL_UNBRIDGE", ended)
    events.register_handle("CHANNEL_HANGUP", ended)
    events.subscribe(["CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE", "CHANNEL_HANGUP"])
    try:
        yield AgentOperations(t.store, api.api)
    finally:
        api.stop()
        events.stop()


def phone(t: Target, where: str, user: str) -> str:
    """A phone that answers after 0.5 s and stays until hung up; its dial string."""
    if where == "sim":
        t.switch.register_user(user, Endpoint(answer_after=0.5))
        return f"sofia/external/{user}@127.0.0.1:5999"
    p = sipp.Phone("uas_agent", ring_ms=500, talk_timeout_ms=120000)
    t.phones.append(p)
    return p.contact(user)


def agent(t: Target, agent_id: str) -> dict:
    (row,) = t.rows("SELECT * FROM agent_state WHERE agent_id = %s", (agent_id,))
    return row


# The caller's "voice" on the real switch: a tone mixed into what is read from their leg
# (sipp sends no audio), and the notes of the default hold music (fsapps.acd.config).
VOICE, VOICE_TONE = 1000, "tone_stream://%(20000,0,1000)"
NOTES = (523, 659, 784)
LOUD, QUIET = 2000.0, 500.0  # a tone's amplitude (of 32767) heard / not heard: tone_stream plays at ~10000


def music(samples: list[int], rate: int) -> float:
    """The loudest hold music note in these samples."""
    return max(audio.tone_level(samples, rate, f) for f in NOTES)


@dataclasses.dataclass
class Held:
    spans: list[tuple[float, float]]  # wall-clock (before, on hold, after)


def hold_and_resume(
    t: Target, where: str, ops: AgentOperations, agent_id: str, member: str, leg: str
) -> Held:
    """The agent holds their caller for 2 s, then talks again (1 s either side). What a user
    checks on the switch: the hold music's media bug on the agent's leg while held and not
    after, the agent's leg still bridged to the caller.

    On the real switch also what the agent heard, from a stereo recording of their leg
    begun once on hold: its left channel is what the leg sent the caller (read, after every
    media bug, switch_core_io.c:646-745), its right what the leg was sent, that is what the
    agent heard. The recording must begin after the hold: write frames reach each bug in
    turn (switch_core_media.c:16101-16140), so an earlier recording keeps the frame from
    before the hold music's bug replaced it."""
    path = t.switch.dir / "held.wav" if where == "real" else None
    if path is not None:
        assert ops.api(f"uuid_displace {member} start {VOICE_TONE} 0 rml").startswith("+OK")
        assert ops.api(f"uuid_setvar {leg} RECORD_STEREO true").startswith("+OK")
    started = time.time()
    assert "<function>displace</function>" not in ops.api(f"uuid_buglist {leg}")
    gevent.sleep(1.0)  # talking
    on_hold = time.time()
    ops.hold(agent_id)
    bugs = ops.api(f"uuid_buglist {leg}")
    assert f"<function>displace</function>\n  <target>{DEFAULT_MOH}</target>" in bugs, bugs
    if path is not None:
        assert ops.api(f"uuid_record {leg} start {path}").startswith("+OK")
    else:  # the emulator's word for what the recording shows on the real switch
        assert heard_from(t.switch.channels[leg]) == [DEFAULT_MOH] and silenced(t.switch.channels[leg])
    gevent.sleep(2.0)  # the caller holds
    assert ops.api(f"uuid_getvar {leg} signal_bond").strip() == member
    assert ops.api(f"uuid_getvar {member} signal_bond").strip() == leg
    off_hold = time.time()
    ops.unhold(agent_id)
    assert "<function>displace</function>" not in ops.api(f"uuid_buglist {leg}")
    if path is None:
        assert heard_from(t.switch.channels[leg]) == [] and not silenced(t.switch.channels[leg])
    gevent.sleep(1.0)  # talking again
    ended = time.time()
    held = Held([(started + 0.3, on_hold - 0.2), (on_hold, off_hold), (off_hold + 0.3, ended - 0.2)])
    if path is not None:
        assert ops.api(f"uuid_record {leg} stop {path}").startswith("+OK")
        assert wait_for(lambda: path.is_file() and path.stat().st_size > 44, timeout=5)
        rec = audio.load(path)
        assert len(rec.channels) == 2
        at = [
            (0.3, off_hold - on_hold - 0.2),
            (off_hold - on_hold + 0.3, ended - on_hold - 0.2),
        ]  # held, after
        sent = [(music(rec.stretch(0, *s), rec.rate),
                 audio.tone_level(rec.stretch(0, *s), rec.rate, VOICE)) for s in at]  # fmt: skip
        heard = [audio.tone_level(rec.stretch(1, *s), rec.rate, VOICE) for s in at]
        # Held: the caller was sent the music, not the agent's phone (which echoes the voice
        # back), and the agent heard nothing of the caller. Then each other again.
        assert sent[0][0] > LOUD and sent[0][1] < QUIET and sent[1][1] > LOUD, sent
        assert heard[0] < QUIET and heard[1] > LOUD, heard
    return held


def phones_done(t: Target, where: str) -> None:
    """Every sipp phone's one call ended cleanly (the switch hung each one up)."""
    if where == "real":
        for p in t.phones:
            run = p.wait(30)
            assert run.completed, run.output[-800:] + "\n--- switch log ---\n" + t.switch.log_tail(80)


@pytest.mark.parametrize("where", TARGETS)
def test_an_agent_picks_up_a_call_ringing_at_another(where, store, tmp_path) -> None:
    with target(where, store, tmp_path) as t:
        t.agent("acme_a1", "no_answer", max_no_answer=1, no_answer_delay_time=60)
        t.agent("acme_a3", "answer", status="On Break")  # not in the queue: takes the call by pickup
        bridges: list[tuple[str, str]] = []
        ends: list[tuple[str, str]] = []
        with operations(t, where, bridges, ends) as ops:
            c = t.controller()
            try:
                caller = gevent.spawn(t.call, "447700900111", 11.0)
                assert wait_for(lambda: agent(t, "acme_a1")["state"] == "Receiving", timeout=30)
                ops.pickup("acme_a3", ringing_at="acme_a1")
                assert wait_for(lambda: agent(t, "acme_a3")["state"] == "In a queue call", timeout=15)
                talking = time.time()
                a3 = agent(t, "acme_a3")
                member, leg = str(a3["offered_member"]), str(a3["agent_leg"])
                held = hold_and_resume(t, where, ops, "acme_a3", member, leg)
                # Neither leg hung up nor left the bridge (acme_a1's ringing leg went before).
                assert [e for e in ends if e[1] in (member, leg)] == [], ends
                caller.get(timeout=60)
            finally:
                c.stop(grace=1.0)
        rows = wait_for(lambda: t.rows("SELECT * FROM queue_calls"))
        assert [(q["outcome"], q["agent_id"], q["offers"]) for q in rows] == [("answered", "acme_a3", 2)]
        assert bridges == [(member, leg)]
        assert 6 <= float(rows[0]["talk_seconds"]) <= 11, rows
        if where == "real":
            # The call's own recording (record_session on the caller's leg: what they said and
            # heard, mixed) has the hold music while held and only then.
            heard = audio.load(Path(rows[0]["recording"]))
            start = talking - 0.1  # the recording begins with the bridge, just before the state was seen
            played = [music(heard.stretch(0, a - start, b - start), heard.rate)
                     for a, b in held.spans]  # fmt: skip
            assert played[0] < QUIET and played[1] > LOUD and played[2] < QUIET, played
        a1 = agent(t, "acme_a1")
        # Taken from acme_a1, not missed by them: no count, no delay, no break.
        assert (a1["status"], a1["state"], a1["no_answer_count"], a1["offered_member"]) == (
            "Available", "Waiting", 0, None)  # fmt: skip
        assert a1["ready_time"] == 0
        a3 = agent(t, "acme_a3")
        assert (a3["state"], a3["calls_answered"], a3["offered_member"]) == ("Waiting", 1, None)
        if where == "sim":
            assert wait_for(lambda: not t.switch.channels), [c.name for c in t.switch.channels.values()]
        phones_done(t, where)


@pytest.mark.parametrize("where", TARGETS)
def test_attended_transfer_cancelled_then_completed(where, store, tmp_path) -> None:
    with target(where, store, tmp_path) as t:
        t.agent("acme_a2", "answer")
        t.agent("acme_a3", "answer", status="On Break")  # consulted, then given the caller
        number = phone(t, where, "t1")
        bridges: list[tuple[str, str]] = []
        with operations(t, where, bridges) as ops:
            c = t.controller()
            try:
                caller = gevent.spawn(t.call, "447700900112", 14.0)
                assert wait_for(lambda: agent(t, "acme_a2")["state"] == "In a queue call", timeout=30)
                answered = time.time()
                a2 = agent(t, "acme_a2")
                member, leg = str(a2["offered_member"]), str(a2["agent_leg"])
                first = ops.consult("acme_a2", dial=number)
                assert wait_for(lambda: (leg, first) in bridges, timeout=10)
                gevent.sleep(1.0)  # the caller holds
                ops.cancel_transfer("acme_a2")
                assert wait_for(lambda: bridges.count((member, leg)) == 2, timeout=10), bridges
                assert agent(t, "acme_a2")["state"] == "In a queue call"
                second = ops.consult("acme_a2", to_agent="acme_a3")
                assert wait_for(lambda: (leg, second) in bridges, timeout=10)
                ops.complete_transfer("acme_a2")
                completed = time.time()
                assert wait_for(lambda: (member, second) in bridges, timeout=10)
                # acme_a2 is done with the call the moment it is handed on.
                assert wait_for(lambda: agent(t, "acme_a2")["state"] == "Waiting", timeout=10)
                caller.get(timeout=60)
            finally:
                c.stop(grace=1.0)
        assert bridges == [(member, leg), (leg, first), (member, leg), (leg, second), (member, second)]
        rows = wait_for(lambda: t.rows("SELECT * FROM queue_calls"))
        assert [(q["outcome"], q["agent_id"]) for q in rows] == [("answered", "acme_a2")]
        # acme_a2's part: from the answer to the completion, both consults included.
        talk = float(rows[0]["talk_seconds"])
        assert completed - answered - 0.5 <= talk <= completed - answered + 1.5, (talk, completed - answered)
        a2 = agent(t, "acme_a2")
        assert (a2["calls_answered"], a2["offered_member"], a2["agent_leg"]) == (1, None, None)
        assert abs(a2["talk_time"] - float(rows[0]["talk_seconds"])) < 0.5
        assert t.rows("SELECT * FROM queue_members") == []
        if where == "sim":
            assert [len(t.switch.users[u].calls) for u in ("acme_a2", "t1", "acme_a3")] == [1, 1, 1]
            assert wait_for(lambda: not t.switch.channels), [c.name for c in t.switch.channels.values()]
        phones_done(t, where)


@dataclasses.dataclass
class Consulting:
    ops: AgentOperations
    caller: gevent.Greenlet
    member: str  # the caller's leg
    leg: str  # acme_a2's
    consulted: str  # the number's leg
    bridges: list[tuple[str, str]]
    ends: list[tuple[str, str]]


@contextlib.contextmanager
def consulting(t: Target, where: str, call: Callable[[], None]) -> Iterator[Consulting]:
    """acme_a2 answers the caller ``call`` places (in a greenlet), then consults a number
    while the caller holds; the controller stops after the block."""
    t.agent("acme_a2", "answer")
    number = phone(t, where, "t1")
    bridges: list[tuple[str, str]] = []
    ends: list[tuple[str, str]] = []
    with operations(t, where, bridges, ends) as ops:
        c = t.controller()
        try:
            caller = gevent.spawn(call)
            assert wait_for(lambda: agent(t, "acme_a2")["state"] == "In a queue call", timeout=30)
            a2 = agent(t, "acme_a2")
            member, leg = str(a2["offered_member"]), str(a2["agent_leg"])
            consulted = ops.consult("acme_a2", dial=number)
            assert wait_for(lambda: (leg, consulted) in bridges, timeout=10)
            yield Consulting(ops, caller, member, leg, consulted, bridges, ends)
        finally:
            c.stop(grace=1.0)


@pytest.mark.parametrize("where", TARGETS)
def test_after_a_cancelled_consult_the_agents_hangup_sends_the_caller_on(where, store, tmp_path) -> None:
    """acme_a2 consults a number and cancels: uuid_bridge takes the caller back to them,
    and out of the queue node's extension. When acme_a2 hangs up, the caller goes on by
    the node's branch (here ``bye``, which hangs them up at once), instead of staying
    parked in silence until they give up; acme_a2's leg is not kept parked either."""
    with target(where, store, tmp_path) as t:
        with consulting(t, where, lambda: until_bye(t, where, "447700900113", 40.0)) as s:
            s.ops.cancel_transfer("acme_a2")
            assert wait_for(lambda: s.bridges.count((s.member, s.leg)) == 2, timeout=10), s.bridges
            assert s.ops.api(f"uuid_kill {s.leg}").startswith("+OK")
            hung_up = time.time()
            # The flow's bye hangs the caller up: well before the 40 s they would stay.
            assert wait_for(lambda: ("CHANNEL_HANGUP", s.member) in s.ends, timeout=15), s.ends
            assert time.time() - hung_up < 15
            s.caller.get(timeout=60)
        rows = wait_for(lambda: t.rows("SELECT * FROM queue_calls"))
        assert [(q["outcome"], q["agent_id"]) for q in rows] == [("answered", "acme_a2")]
        assert t.rows("SELECT * FROM queue_members") == []
        assert agent(t, "acme_a2")["calls_answered"] == 1
        phones_done(t, where)


def until_bye(t: Target, where: str, number: str, stays: float) -> None:
    """A caller the switch must hang up within ``stays`` seconds of the answer."""
    if where == "sim":
        ch = t.switch.place_call("5100", caller_id_number=number, script=CallerScript(hangup_after=stays))
        assert ch.destroyed.wait(stays + 30), "\n".join(t.switch.call_log(ch.uuid))
        return
    run = sipp.place_call("uac_until_bye", t.switch.sip_port("external"), "5100", caller=number,
                          timeout_ms=int(stays * 1000), timeout=stays + 30)  # fmt: skip
    assert run.completed, run.output + "\n--- switch log ---\n" + t.switch.log_tail()


@pytest.mark.parametrize("where", TARGETS)
def test_a_caller_who_hangs_up_during_a_consult_leaves_no_phone_parked(where, store, tmp_path) -> None:
    """acme_a2 consults a number; the caller hangs up while holding. When the consulted
    party's call ends, acme_a2's ends too: neither leg stays parked in silence (each was
    parked to outlive the other's for the transfer)."""
    with target(where, store, tmp_path) as t:
        with consulting(t, where, lambda: t.call("447700900114", 5.0)) as s:
            s.caller.get(timeout=60)  # hung up after 5 s, holding
            assert wait_for(lambda: ("CHANNEL_HANGUP", s.member) in s.ends, timeout=10)
            assert wait_for(lambda: t.rows("SELECT * FROM queue_calls"), timeout=15)
            assert ("CHANNEL_HANGUP", s.leg) not in s.ends  # acme_a2 and t1 talk on
            assert s.ops.api(f"uuid_kill {s.consulted}").startswith("+OK")
            assert wait_for(lambda: ("CHANNEL_HANGUP", s.leg) in s.ends, timeout=10), s.ends
        rows = t.rows("SELECT * FROM queue_calls")
        assert [(q["outcome"], q["agent_id"]) for q in rows] == [("answered", "acme_a2")]
        phones_done(t, where)


@dataclasses.dataclass
class Answered:
    ops: AgentOperations
    caller: gevent.Greenlet
    member: str  # the caller's leg
    leg: str  # acme_a1's
    bridges: list[tuple[str, str]]
    ends: list[tuple[str, str]]
    causes: dict[str, str]  # each hangup's cause, by leg


@contextlib.contextmanager
def answered_by_a1(t: Target, where: str, number: str) -> Iterator[Answered]:
    """acme_a1 answers a caller (from ``number``) who stays until the switch hangs them up
    (60 s at most); the controller, with an Event Socket of its own as deployed, stops
    after the block."""
    bridges: list[tuple[str, str]] = []
    ends: list[tuple[str, str]] = []
    causes: dict[str, str] = {}
    with operations(t, where, bridges, ends, causes) as ops:
        c = t.controller(esl=True)
        try:
            caller = gevent.spawn(until_bye, t, where, number, 60.0)
            assert wait_for(lambda: agent(t, "acme_a1")["state"] == "In a queue call", timeout=30)
            member, leg = str(agent(t, "acme_a1")["offered_member"]), str(agent(t, "acme_a1")["agent_leg"])
            yield Answered(ops, caller, member, leg, bridges, ends, causes)
        finally:
            c.stop(grace=1.0)


# support rings progressively (each agent's leg originated on its own, the caller uuid-bridged
# to the one who answers); complaints, where acme_a1 may send a caller, gives up after 6 s.
RP_TENANT = TENANT.replace("strategy: top-down ", "strategy: ring-progressively ") + """  complaints:
    strategy: top-down
    max-wait-time: 6
    tiers: [acme_a2]
"""
# The queue node's timeout branch hangs up with a cause of its own, seen on the caller's leg.
RP_FLOW = """start: start
nodes:
  start: {type: answer, children: {_: wait}}
  wait: {type: queue, data: {queue: support}, children: {_: bye, timeout: closed}}
  bye: {type: hangup}
  closed: {type: hangup, data: {cause: CALL_REJECTED}}
"""


@pytest.mark.parametrize("where", TARGETS)
def test_a_ring_progressively_caller_transferred_to_a_queue_who_times_out_there_takes_the_timeout_branch(
    where, store, tmp_path
) -> None:
    """acme_a1 answers a ring-progressively caller (uuid_bridge: out of the queue node's
    extension) and sends them to complaints, where nobody is free. At complaints's
    max-wait-time the caller takes the node's timeout branch (hung up CALL_REJECTED),
    instead of staying parked in silence until they give up."""
    assert "ring-progressively" in RP_TENANT
    with target(where, store, tmp_path, tenant=RP_TENANT, flow=RP_FLOW) as t:
        t.agent("acme_a1", "answer")
        t.agent("acme_a2", "answer", status="On Break")
        with answered_by_a1(t, where, "447700900115") as s:
            member = s.member
            assert s.ops.api(f"uuid_getvar {member} park_after_bridge").strip() == "true"
            s.ops.transfer("acme_a1", to_queue="complaints")
            moved = time.time()
            assert wait_for(lambda: member in s.causes, timeout=30), s.ends
            assert s.causes[member] == "CALL_REJECTED"
            assert time.time() - moved < 20  # the 6 s wait, not the caller's 60 s
            s.caller.get(timeout=60)
        rows = wait_for(lambda: len(t.rows("SELECT * FROM queue_calls")) == 2
                        and t.rows("SELECT * FROM queue_calls ORDER BY joined_at"))  # fmt: skip
        assert [(q["queue"], q["outcome"], q["agent_id"]) for q in rows] == [
            ("support", "answered", "acme_a1"), ("complaints", "overflowed", None),
        ]  # fmt: skip
        assert t.rows("SELECT * FROM queue_members") == []
        if where == "real":  # acme_a1's phone; acme_a2's, never rung, waits out its timeout
            run = t.phones[0].wait(30)
            assert run.completed, run.output[-800:] + "\n--- switch log ---\n" + t.switch.log_tail(80)


SURVEY_TENANT = RP_TENANT + """prompts:
  rate: {text: "Please rate our service"}
"""
# After the agent, a survey (its question asked by a controller, through a socket of its own).
SURVEY_FLOW = """start: start
nodes:
  start: {type: answer, children: {_: wait}}
  wait: {type: queue, data: {queue: support}, children: {_: rate}}
  rate: {type: survey, data: {questions: [rate]}, children: {_: bye}}
  bye: {type: hangup, data: {cause: CALL_REJECTED}}
"""


@pytest.mark.parametrize("where", TARGETS)
def test_a_ring_progressively_caller_is_asked_the_survey_when_the_agent_hangs_up(
    where, store, tmp_path
) -> None:
    """acme_a1 answers a ring-progressively caller (uuid_bridge: out of the queue node's
    extension) and hangs up: the caller is routed on to the survey, whose question is asked
    in full (play_and_get_digits: 2 tries of 5 s, no digit), then hung up by the flow. The
    queue's socket closing must not reset the survey's under it."""
    with target(where, store, tmp_path, tenant=SURVEY_TENANT, flow=SURVEY_FLOW) as t:
        t.agent("acme_a1", "answer")
        with answered_by_a1(t, where, "447700900116") as s:
            member = s.member
            assert s.ops.api(f"uuid_kill {s.leg}").startswith("+OK")
            left = time.time()
            assert wait_for(lambda: member in s.causes, timeout=40), s.ends
            asked = time.time() - left
            s.caller.get(timeout=60)
        assert s.causes[member] == "CALL_REJECTED"  # the flow's bye, after the survey
        assert asked >= 9.5, asked  # both tries of the question waited out
        answers = wait_for(lambda: t.rows("SELECT question, score, agent_id FROM survey_answers"))
        assert answers == [{"question": "rate", "score": None, "agent_id": "acme_a1"}]
        if where == "real":
            run = t.phones[0].wait(30)
            assert run.completed, run.output[-800:] + "\n--- switch log ---\n" + t.switch.log_tail(80)


# The flow goes on after the queue by hanging the caller up with a cause of its own.
ON_FLOW = """start: start
nodes:
  start: {type: answer, children: {_: wait}}
  wait: {type: queue, data: {queue: support}, children: {_: bye}}
  bye: {type: hangup, data: {cause: CALL_REJECTED}}
"""


@pytest.mark.parametrize("where", TARGETS)
def test_a_ring_progressively_caller_transferred_to_a_number_goes_on_in_the_flow_after_it(
    where, store, tmp_path
) -> None:
    """acme_a1 answers a ring-progressively caller (uuid_bridge: out of the queue node's
    extension, park_after_bridge on them) and sends them to a number; when that call ends,
    the caller goes on by the node's branch (hung up CALL_REJECTED), not parked in silence."""
    with target(where, store, tmp_path, tenant=RP_TENANT, flow=ON_FLOW) as t:
        t.agent("acme_a1", "answer")
        number = phone(t, where, "t1")
        with answered_by_a1(t, where, "447700900117") as s:
            member = s.member
            s.ops.transfer("acme_a1", dial=number)
            other = wait_for(lambda: [b for a, b in s.bridges if a == member and b != s.leg], timeout=15)
            assert other, s.bridges
            gevent.sleep(1.0)  # the caller talks to the number
            assert member not in s.causes
            assert s.ops.api(f"uuid_kill {other[0]}").startswith("+OK")
            left = time.time()
            assert wait_for(lambda: member in s.causes, timeout=20), s.ends
            assert time.time() - left < 10
            s.caller.get(timeout=60)
        assert s.causes[member] == "CALL_REJECTED"  # the flow's branch after the queue
        rows = wait_for(lambda: t.rows("SELECT * FROM queue_calls"))
        assert [(q["outcome"], q["agent_id"]) for q in rows] == [("answered", "acme_a1")]
        phones_done(t, where)
