"""Agent operations on live queue calls with SIP phones, on the real FreeSWITCH
(sipp callers and phones) and on the emulator, same assertions:

- pickup: the call rings at one agent's phone; another agent takes it.
- attended transfer: the agent consults a number while the caller holds, cancels
  (back to the caller), consults another agent and completes the transfer.

The scenario tenant and its queue are test_queue_scenarios' (support: top-down,
ring-timeout 6 s, acme_a1 then acme_a2).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import gevent
import pytest

from fsapps.acd.operations import AgentOperations
from fsapps.esl import codec
from fsapps.esl.client import Connection
from fsapps.sim.endpoints import Endpoint
from tests.acceptance.test_queue_scenarios import TARGETS, Target, target
from tests.support import sipp
from tests.support.waiting import wait_for


@contextlib.contextmanager
def operations(t: Target, where: str, bridges: list[tuple[str, str]]) -> Iterator[AgentOperations]:
    """Agent operations over the target's Event Socket; ``bridges`` collects every
    CHANNEL_BRIDGE as (Bridge-A, Bridge-B)."""
    port = t.switch.port if where == "sim" else t.switch.esl_port
    api = Connection("127.0.0.1", port, t.switch.password)
    events = Connection("127.0.0.1", port, t.switch.password)
    api.connect()
    events.connect()

    def bridged(e: codec.Event) -> None:
        bridges.append((e.get("Bridge-A-Unique-ID") or "", e.get("Bridge-B-Unique-ID") or ""))

    events.register_handle("CHANNEL_BRIDGE", bridged)
    events.subscribe(["CHANNEL_BRIDGE"])
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
        with operations(t, where, bridges) as ops:
            c = t.controller()
            try:
                caller = gevent.spawn(t.call, "447700900111", 8.0)
                assert wait_for(lambda: agent(t, "acme_a1")["state"] == "Receiving", timeout=30)
                ops.pickup("acme_a3", ringing_at="acme_a1")
                assert wait_for(lambda: agent(t, "acme_a3")["state"] == "In a queue call", timeout=15)
                a3 = agent(t, "acme_a3")
                caller.get(timeout=60)
            finally:
                c.stop(grace=1.0)
        rows = wait_for(lambda: t.rows("SELECT * FROM queue_calls"))
        assert [(q["outcome"], q["agent_id"], q["offers"]) for q in rows] == [("answered", "acme_a3", 2)]
        assert bridges == [(str(a3["offered_member"]), str(a3["agent_leg"]))]
        assert 3 <= float(rows[0]["talk_seconds"]) <= 8, rows
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
