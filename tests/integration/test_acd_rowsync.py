"""A controller puts its rows back as its memory has its callers (fsapps.acd.rowsync):
what a crash of PostgreSQL undid of its unflushed routing commits.

What such a crash undoes is made here by hand on a real PostgreSQL (a join, a leave, a
ring nobody answered), and each test shows the harm first (a caller not offered, a queue
blocked) and then the dispatcher's heartbeat, on a wall clock the test moves, fixing it
once the divergence has lasted."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest
from psycopg.types.json import Jsonb

from fsapps.acd.dispatch import HANDED_ON_KEPT, AgentOffer, Dispatcher, Waiter
from fsapps.acd.model import AgentStatus, Member
from fsapps.acd.notifier import AgentStateChanged
from fsapps.acd.rowsync import AFTER
from fsapps.store import acd, customers
from fsapps.store.db import Store
from fsapps.store.records import Tenant

NOW = 2_000_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def rows(store: Store) -> dict[str, dict[str, Any]]:
    with store.operator() as op:
        got = op._all("SELECT uuid::text AS uuid, state, joined_epoch, owner_agent FROM queue_members")
    return {r["uuid"]: r for r in got}


def agents(store: Store) -> dict[str, tuple[str, str | None]]:
    with store.operator() as op:
        got = op._all("SELECT agent_id, state, offered_member::text AS m FROM agent_state")
    return {r["agent_id"]: (r["state"], r["m"]) for r in got}


def rung(w: Waiter) -> list[str]:
    out = []
    while not w.inbox.empty():
        item = w.inbox.get_nowait()
        if isinstance(item, AgentOffer):
            out += item.offer.agents
    return out


@pytest.fixture
def rig(store: Store) -> Iterator[SimpleNamespace]:
    with store.operator() as op:
        op.add_tenant(Tenant("acme", "Acme", "acme.example"))
        op.add_agent("a1", "a1", {"acme": 1}, "user/a1@acme.example")
        acd.ensure_agent(op.conn, "a1", max_no_answer=0)
        acd.set_status(op.conn, "a1", AgentStatus.AVAILABLE, NOW - 100)
        # Only q2's agent: a transfer's next queue (test_a_transfer_undone...).
        op.add_agent("a2", "a2", {"acme": 1}, "user/a2@acme.example")
        acd.ensure_agent(op.conn, "a2", max_no_answer=0)
        acd.set_status(op.conn, "a2", AgentStatus.AVAILABLE, NOW - 100)
    queue = {"strategy": "longest-idle-agent", "tiers": ["a1"], "max-wait-time": 120}
    second = {"strategy": "longest-idle-agent", "tiers": ["a2"]}
    project = SimpleNamespace(tenants=[SimpleNamespace(id="acme", queues={
        "q": SimpleNamespace(data=queue), "q2": SimpleNamespace(data=second),
    })])  # fmt: skip
    clock, wall = Clock(), Clock()
    d = Dispatcher(store, lambda: project, clock, name="c1", wall=wall)
    rig = SimpleNamespace(d=d, clock=clock, wall=wall, store=store)

    def beats(*, after: float = AFTER) -> None:
        """Heartbeats over ``after`` seconds of the wall clock, one a second."""
        for _ in range(int(after) + 1):
            d.housekeeping()
            wall.now += 1

    rig.beats = beats
    yield rig
    d.own.close()
    d.wakeup.stop()


def caller(rig: SimpleNamespace, seconds_ago: float) -> Waiter:
    w = Waiter(Member(str(uuid.uuid4()), "q", rig.clock() - seconds_ago), "acme", "q", caller="1000")
    rig.d.join(w)
    return w


def test_a_join_undone_is_written_back_with_the_callers_place_and_account_owner(rig) -> None:
    d, store = rig.d, rig.store
    # The caller's customer belongs to a1 (the CRM's account owner, found by number at the
    # join, not by the flow): the row written back keeps a1 as their owner.
    with store.tenant("acme") as t:
        customers.create(t, {"name": "Ada", "company": "", "tags": [], "custom_fields": {},
                             "numbers": ["1000"], "owner_agent": "a1"})  # fmt: skip
    w = caller(rig, 30)
    joined = rows(store)[w.member.uuid]["joined_epoch"]
    assert rows(store)[w.member.uuid]["owner_agent"] == "a1"
    with store.operator() as op:
        op.conn.execute("DELETE FROM queue_members")
    d.dispatch()
    assert rung(w) == []  # no row: no pass sees them
    d.housekeeping()
    rig.wall.now += AFTER / 2
    d.housekeeping()
    assert rows(store) == {}  # not before the divergence has lasted
    rig.beats()
    assert (rows(store)[w.member.uuid]["joined_epoch"], rows(store)[w.member.uuid]["owner_agent"]) == (
        joined,
        "a1",
    )
    d.dispatch()
    assert rung(w) == ["a1"]


def test_a_leave_undone_no_longer_takes_the_agent_from_the_caller_behind(rig) -> None:
    d, store = rig.d, rig.store
    gone = caller(rig, 60)
    behind = caller(rig, 10)
    del d.waiters[gone.member.uuid]  # the caller left; their row stayed (its DELETE undone)
    d.dispatch()
    assert rung(behind) == []  # the row ahead takes a1 in every pass, and nobody rings it
    rig.beats()
    assert set(rows(store)) == {behind.member.uuid}
    d.dispatch()
    assert rung(behind) == ["a1"]


def test_a_no_answer_undone_lets_the_caller_be_offered_again(rig) -> None:
    d, store = rig.d, rig.store
    w = caller(rig, 30)
    d.dispatch()
    assert rung(w) == ["a1"]
    settings = d.queue("acme", "q").settings
    d.offer_failed(w, ["a1"], "NO_ANSWER", settings, rig.clock())
    rig.clock.now += 60  # a1's no-answer delay over
    # The crash undid the no-answer: the caller's row Trying, a1 Receiving for them.
    with store.operator() as op:
        op.conn.execute("UPDATE queue_members SET state = 'Trying'")
        op.conn.execute(
            "UPDATE agent_state SET state = 'Receiving', offered_member = %s, offered_by = 'c1'"
            " WHERE agent_id = 'a1'",
            (w.member.uuid,),
        )
    d.dispatch()
    assert rung(w) == []
    news = d.notifier.subscribe()  # from now on
    rig.beats()
    assert rows(store)[w.member.uuid]["state"] == "Waiting"
    assert agents(store)["a1"] == ("Waiting", None)
    # The floor and the event streams hear a1 is free (their last news of a1 was the ring).
    heard = [
        p.event for p in iter(lambda: news.get(timeout=0), None) if isinstance(p.event, AgentStateChanged)
    ]
    news.close()
    assert [(e.agent, e.state, e.status) for e in heard] == [("a1", "Waiting", "Available")]
    d.dispatch()
    assert rung(w) == ["a1"]


def test_rows_that_agree_and_a_caller_handed_on_are_left_alone(rig) -> None:
    d, store = rig.d, rig.store
    ringing, handed = caller(rig, 30), caller(rig, 20)
    d.dispatch()
    assert rung(ringing) == ["a1"]
    d.forget(handed)  # their socket closed: the row waits for the next controller
    before = rows(store), agents(store)
    rig.beats(after=AFTER + 3)
    assert (rows(store), agents(store)) == before
    rig.wall.now += HANDED_ON_KEPT
    rig.beats()
    assert set(rows(store)) == {ringing.member.uuid}  # nobody took it up in a minute: gone


def test_a_caller_told_to_leave_while_their_offer_rings_keeps_their_row(rig) -> None:
    """max-wait-time runs out while the caller's offer rings: the pass tells them to leave
    (Exit) and stops holding them, but their visit waits for the ring, which may yet be
    answered; their row is theirs until the visit leaves."""
    from fsapps.acd.decide import Exit

    d, store = rig.d, rig.store
    w = caller(rig, 100)
    d.dispatch()
    assert rung(w) == ["a1"]
    rig.clock.now += 30
    d.dispatch()
    assert any(isinstance(item, Exit) for item in list(w.inbox.queue))
    assert w.member.uuid not in d.waiters
    rig.beats(after=AFTER + 2)
    assert rows(store)[w.member.uuid]["state"] == "Trying"
    d.answered(w, "a1", [], d.queue("acme", "q").settings, rig.clock())
    rig.beats()
    assert rows(store)[w.member.uuid]["state"] == "Answered"
    assert agents(store)["a1"] == ("In a queue call", w.member.uuid)


def test_a_caller_told_to_leave_is_let_go_when_their_visit_leaves(rig) -> None:
    """Held as exiting until their visit leaves, then not at all: otherwise their row would
    be written back for a caller long gone."""
    from fsapps.acd.decide import Exit

    d, store = rig.d, rig.store
    w = caller(rig, 130)  # past max-wait-time
    d.dispatch()
    assert any(isinstance(item, Exit) for item in list(w.inbox.queue))
    assert w.member.uuid not in d.waiters and d.holding(w.member.uuid) is w
    d.leave(w, abandoned=False)
    assert d.holding(w.member.uuid) is None
    rig.beats()
    assert rows(store) == {}


def as_written(store: Store, member: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The caller's row and a1's as they are now, to be written back by ``undo``."""
    with store.operator() as op:
        row = op._all("SELECT * FROM queue_members WHERE uuid = %s", (member,))[0]
        agent = op._all("SELECT * FROM agent_state WHERE agent_id = 'a1'")[0]
    return row, agent


def undo(store: Store, member: str, written: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """What a crash of PostgreSQL undoes: every commit since ``written`` was read."""
    row, agent = ({k: Jsonb(v) if isinstance(v, dict | list) else v for k, v in r.items()} for r in written)
    with store.operator() as op:
        op.conn.execute("DELETE FROM queue_members WHERE uuid = %s", (member,))
        op.conn.execute(
            f"INSERT INTO queue_members ({', '.join(row)}) VALUES ({', '.join(['%s'] * len(row))})",
            list(row.values()),
        )
        op.conn.execute(
            f"UPDATE agent_state SET ({', '.join(agent)}) = ROW({', '.join(['%s'] * len(agent))})"
            " WHERE agent_id = 'a1'",
            list(agent.values()),
        )


@pytest.mark.parametrize(("to", "next_agent"), [("q2", "a2"), ("q", "a1")])
def test_a_transfer_to_a_queue_undone_puts_the_caller_in_their_queue_and_ends_the_agents_call(
    rig, to: str, next_agent: str
) -> None:
    """The agent transfers the caller to a queue (another one, or the same again): the end
    of their call with its leave, and the join of the next visit, undone together. The
    caller's row is the earlier visit's (its queue, Answered), so no pass of the queue they
    wait in sees them, and the agent stays In a queue call."""
    d, store = rig.d, rig.store
    w = caller(rig, 30)
    d.dispatch()
    assert rung(w) == ["a1"]
    d.answered(w, "a1", [], d.queue("acme", "q").settings, rig.clock())
    written = as_written(store, w.member.uuid)
    assert written[1]["state"] == "In a queue call"
    rig.clock.now += 40
    d.call_ended(w, "a1", rig.clock(), leave=True)
    rig.clock.now += 1
    again = Waiter(Member(w.member.uuid, to, rig.clock()), "acme", to, caller="1000")
    d.join(again)
    joined = rows(store)[w.member.uuid]["joined_epoch"]
    undo(store, w.member.uuid, written)
    d.dispatch()
    assert rung(again) == []  # their row is in q, Answered: nobody offers them
    assert agents(store)["a1"] == ("In a queue call", w.member.uuid)
    news = d.notifier.subscribe()
    rig.clock.now += 5  # the caller waits in their new queue before the fix
    rig.beats()
    with store.operator() as op:
        row = op._all(
            "SELECT queue, state, joined_epoch FROM queue_members WHERE uuid = %s", (w.member.uuid,)
        )
    assert [dict(r) for r in row] == [{"queue": to, "state": "Waiting", "joined_epoch": joined}]
    assert agents(store)["a1"] == ("Waiting", None)  # no wrap-up in this queue
    # The agent's call ended when the caller joined the queue they wait in, not at the fix:
    # 41 s from the answer (the end undone was at 40), not 46.
    with store.operator() as op:
        a1 = op._one("SELECT last_bridge_start, last_bridge_end, talk_time FROM agent_state WHERE agent_id = 'a1'")
    assert a1["last_bridge_end"] == joined
    assert a1["talk_time"] == pytest.approx(joined - a1["last_bridge_start"]) == pytest.approx(41)
    heard = [
        p.event for p in iter(lambda: news.get(timeout=0), None) if isinstance(p.event, AgentStateChanged)
    ]
    news.close()
    assert [(e.agent, e.state) for e in heard] == [("a1", "Waiting")]
    rig.clock.now += 1  # an agent is free once their call ended before now (mod_callcenter's)
    d.dispatch()
    assert rung(again) == [next_agent]


def test_a_caller_resumed_at_their_flows_queue_after_a_transfer_waits_there_with_their_place(
    rig, caplog
) -> None:
    """An agent moved the caller to q2; their controller went and the next one resumes them
    at their flow's queue node (q). They wait in q with their place, their row there at
    once: no pass of q misses them and rowsync finds nothing to put right (no crash)."""
    d, store = rig.d, rig.store
    member = str(uuid.uuid4())
    moved = Waiter(Member(member, "q2", rig.clock() - 30), "acme", "q2", caller="1000")
    d.join(moved)
    joined = rows(store)[member]["joined_epoch"]
    with store.operator() as op:  # what q2's visit left: the tiers it tried, a pickup's note
        op.conn.execute(
            "UPDATE queue_members SET last_tier_level = 2, last_tier_position = 3, last_originated = 5,"
            " transfer = '{\"pickup\": \"a2\"}' WHERE uuid = %s",
            (member,),
        )
    d.forget(moved)  # the socket closed: the row waits for the next controller
    resumed = Waiter(Member(member, "q", rig.clock()), "acme", "q", caller="1000")
    assert d.join(resumed) == (joined, "Waiting")
    with store.operator() as op:
        placed = op._all(
            "SELECT queue, state, joined_epoch, last_tier_level, last_tier_position, last_originated, transfer"
            " FROM queue_members WHERE uuid = %s",
            (member,),
        )
    assert [dict(r) for r in placed] == [{
        "queue": "q", "state": "Waiting", "joined_epoch": joined, "last_tier_level": 0, "last_tier_position": 0,
        "last_originated": 0, "transfer": None,
    }]  # fmt: skip
    with caplog.at_level("WARNING", logger="fsapps.acd"):
        rig.beats(after=AFTER + 2)
    assert "put back" not in caplog.text
    d.dispatch()
    assert rung(resumed) == ["a1"]


def test_a_replace_gives_way_to_a_change_made_since_the_look(rig) -> None:
    """The look saw the earlier visit's row (q, Answered); the visit changed it since (here
    its state): the replace touches nothing, and the next look decides again."""
    store = rig.store
    w = caller(rig, 30)
    with store.operator() as op:
        op.conn.execute("UPDATE queue_members SET state = 'Trying' WHERE uuid = %s", (w.member.uuid,))
        held = acd.HeldCaller(replace(w.member, queue="q2"), "acme", "q2", "1000", "", "Waiting")
        assert not acd.replace_member(op.conn, "c1", held, ("acme", "q", "Answered"))
        assert not acd.replace_member(op.conn, "c2", held, ("acme", "q", "Trying"))  # not c2's row
        assert acd.replace_member(op.conn, "c1", held, ("acme", "q", "Trying"))
    assert rows(store)[w.member.uuid]["state"] == "Waiting"
    with store.operator() as op:
        assert op._all("SELECT queue FROM queue_members")[0]["queue"] == "q2"
