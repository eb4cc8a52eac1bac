"""The dispatcher's state between passes lives in PostgreSQL, as mod_callcenter keeps it,
so that it holds across passes, controllers and a caller handed from one controller to
another: round-robin's last offered agent (agents' last_offered_call), top-down's last
tier and ring-progressively's last originate (the caller's row), the caller's time in
the switch (time-base-score system) and when a queue lost its last agent
(max-wait-time-with-no-agent).

Dispatchers here run no greenlets: each test calls ``dispatch()`` itself, on a clock it
moves, against a real PostgreSQL; the callers' side (answered, no answer) is the
dispatcher's own API, which the queue application calls."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import gevent
import gevent.event
import psycopg
import pytest

from fsapps.acd.config import queue_key
from fsapps.acd.decide import Exit, Offer
from fsapps.acd.dispatch import AgentOffer, Dispatcher, Waiter
from fsapps.acd.housekeeping import DEAD_AFTER
from fsapps.acd.model import AgentStatus, Member
from fsapps.store import acd
from fsapps.store.db import Dedicated, Store
from fsapps.store.records import Tenant

NOW = 2_000_000_000.0
AGENTS = ("a1", "a2", "a3", "a4")


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


class Acme:
    """Tenant acme's queues (their YAML mappings) and a dispatcher per controller."""

    def __init__(self, store: Store, queues: dict[str, dict[str, Any]]) -> None:
        self.store, self.clock = store, Clock()
        tenant = SimpleNamespace(id="acme", queues={n: SimpleNamespace(data=d) for n, d in queues.items()})
        self.project = SimpleNamespace(tenants=[tenant])
        self.dispatchers: list[Dispatcher] = []
        with store.operator() as op:
            op.add_tenant(Tenant("acme", "Acme", "acme.example"))
            for a in AGENTS:
                op.add_agent(a, a, {"acme": 1}, f"user/{a}@acme.example")
                acd.ensure_agent(op.conn, a)
                acd.set_status(op.conn, a, AgentStatus.AVAILABLE, NOW - 100)

    def controller(self) -> Dispatcher:
        d = Dispatcher(self.store, lambda: self.project, self.clock, name=f"c{len(self.dispatchers) + 1}")
        self.dispatchers.append(d)
        return d

    def caller(self, d: Dispatcher, queue: str, adds_legs: bool = False, system_epoch: float = 0,
               member: str | None = None) -> Waiter:  # fmt: skip
        m = Member(member or str(uuid.uuid4()), queue, self.clock(), system_epoch=system_epoch)
        w = Waiter(m, "acme", queue, caller="1000")
        w.adds_legs = adds_legs
        d.join(w)
        return w

    def settings(self, queue: str) -> Any:
        found = self.dispatchers[0].queue("acme", queue)
        assert found is not None
        return found.settings

    def row(self, member: str) -> dict[str, Any]:
        with self.store.operator() as op:
            got = op._one("SELECT * FROM queue_members WHERE uuid = %s", (member,))
        assert got is not None
        return got

    def agent_rows(self) -> dict[str, tuple[str, str | None]]:
        with self.store.operator() as op:
            rows = op._all("SELECT agent_id, state, offered_member::text AS m FROM agent_state")
        return {r["agent_id"]: (r["state"], r["m"]) for r in rows}

    def set_status(self, agent: str, status: str) -> None:
        with self.store.operator() as op:
            acd.set_status(op.conn, agent, status, self.clock())


def inbox(w: Waiter) -> Iterator[Any]:
    while not w.inbox.empty():
        yield w.inbox.get_nowait()


def rung(w: Waiter) -> list[str]:
    """The agents of the offers this caller was handed since last asked."""
    return [a for item in inbox(w) if isinstance(item, AgentOffer) for a in item.offer.agents]


def four(strategy: str, **settings: Any) -> dict[str, Any]:
    return {"strategy": strategy, "tiers": list(AGENTS), **settings}


def test_round_robin_goes_on_from_the_agent_another_controller_offered_last(store) -> None:
    """Callers alternate between two controllers; each takes up where the other left off,
    because the starting point is the agents' last_offered_call (mod_callcenter.c:2655)."""
    acme = Acme(store, {"rr": four("round-robin")})
    controllers = [acme.controller(), acme.controller()]
    settings = acme.settings("rr")
    order = []
    for k in range(6):
        d = controllers[k % 2]
        w = acme.caller(d, "rr")
        d.dispatch()
        (agent,) = rung(w)
        order.append(agent)
        assert d.answered(w, agent, [], settings, acme.clock()) is not None
        acme.clock.now += 5
        d.call_ended(w, agent, acme.clock())
        d.leave(w, abandoned=False)
        acme.clock.now += 1
    assert order == ["a1", "a2", "a3", "a4", "a1", "a2"]


def test_top_down_tier_is_kept_on_the_callers_row_across_controllers_and_rewinds(store) -> None:
    acme = Acme(store, {"td": four("top-down", tiers=["a1", "a2", "a3"])})
    first, second = acme.controller(), acme.controller()
    settings = acme.settings("td")
    w = acme.caller(first, "td")
    first.dispatch()
    assert rung(w) == ["a1"]
    assert (acme.row(w.member.uuid)["last_tier_level"], acme.row(w.member.uuid)["last_tier_position"]) == (
        1,
        1,
    )
    first.offer_failed(w, ["a1"], "NO_ANSWER", settings, acme.clock())
    first.dispatch()
    assert rung(w) == ["a2"]  # a1 is free again (no delay): top-down still moves on
    first.offer_failed(w, ["a2"], "NO_ANSWER", settings, acme.clock())
    # The caller's controller goes away; the next one resumes them from their row.
    first.forget(w)
    again = acme.caller(second, "td", member=w.member.uuid)
    second.dispatch()
    assert rung(again) == ["a3"]
    second.offer_failed(again, ["a3"], "NO_ANSWER", settings, acme.clock())
    second.dispatch()  # nobody listed below a3: back to the top (l.2736-2745)
    assert rung(again) == []
    assert (acme.row(w.member.uuid)["last_tier_level"], acme.row(w.member.uuid)["last_tier_position"]) == (
        0,
        0,
    )
    second.dispatch()
    assert rung(again) == ["a1"]


def test_ring_progressively_adds_the_next_agent_after_the_delay_to_a_ring_that_can_take_it(store) -> None:
    acme = Acme(store, {"rp": four("ring-progressively", **{"ring-progressively-delay": 4})})
    d = acme.controller()
    w = acme.caller(d, "rp", adds_legs=True)
    d.dispatch()
    assert rung(w) == ["a1"]
    row = acme.row(w.member.uuid)
    assert (row["state"], row["last_originated"]) == ("Trying", NOW)
    acme.clock.now += 3
    d.dispatch()
    assert rung(w) == []
    acme.clock.now += 1
    d.dispatch()
    assert rung(w) == ["a2"]  # a1 still rings: it is not offered twice
    member = w.member.uuid
    assert {a: s for a, s in acme.agent_rows().items() if s[1]} == {
        "a1": ("Receiving", member),
        "a2": ("Receiving", member),
    }
    assert acme.row(member)["last_originated"] == NOW + 4
    acme.clock.now += 4
    d.dispatch()
    assert rung(w) == ["a3"]


def test_ring_progressively_holds_no_agent_for_a_ring_that_cannot_add_legs(store) -> None:
    """The queue application's bridge cannot gain a leg: while its offer rings, the
    caller is offered nobody else, and the free agents serve the next caller."""
    acme = Acme(store, {"rp": four("ring-progressively", **{"ring-progressively-delay": 2})})
    d = acme.controller()
    w = acme.caller(d, "rp")
    d.dispatch()
    assert rung(w) == ["a1"]
    acme.clock.now += 10
    d.dispatch()
    assert rung(w) == []
    assert acme.agent_rows()["a2"] == ("Waiting", None)
    nxt = acme.caller(d, "rp")
    d.dispatch()
    assert rung(nxt) == ["a2"]


def test_max_wait_time_with_no_agent_counts_from_the_last_logout(store) -> None:
    acme = Acme(store, {
        "empty": {"tiers": ["a1"], "max-wait-time-with-no-agent": 30,
                  "max-wait-time-with-no-agent-time-reached": 5},
        "resting": {"tiers": ["a2"], "max-wait-time-with-no-agent": 30},
    })  # fmt: skip
    d = acme.controller()
    acme.set_status("a1", AgentStatus.LOGGED_OUT)  # at NOW: the queue has had nobody since
    acme.set_status("a2", AgentStatus.ON_BREAK)  # listed: the queue still has an agent
    acme.set_status("a3", AgentStatus.LOGGED_OUT)
    acme.set_status("a4", AgentStatus.LOGGED_OUT)
    acme.clock.now += 10
    w = acme.caller(d, "empty")
    resting = acme.caller(d, "resting")
    acme.clock.now += 34  # the queue has been empty 44 s, the caller has waited 34 < 30 + 5
    d.dispatch()
    assert list(inbox(w)) == []
    acme.clock.now += 1
    d.dispatch()
    assert list(inbox(w)) == [Exit(w.member.uuid, queue_key("acme", "empty"), "max-wait-time-with-no-agent")]
    acme.clock.now += 100
    d.dispatch()
    assert list(inbox(resting)) == []


@pytest.mark.parametrize(
    ("base", "first"), [("system", "in the switch longer"), ("queue", "in the queue longer")]
)
def test_time_base_score_system_counts_the_callers_time_in_the_switch(store, base: str, first: str) -> None:
    acme = Acme(store, {"q": {"tiers": ["a1"], "time-base-score": base}})
    d = acme.controller()
    acme.set_status("a1", AgentStatus.LOGGED_OUT)
    queued = acme.caller(d, "q", system_epoch=NOW - 1)
    acme.clock.now += 5
    switched = acme.caller(d, "q", system_epoch=NOW - 60)  # a minute in the IVR, then the queue
    assert acme.row(switched.member.uuid)["system_epoch"] == NOW - 60
    acme.set_status("a1", AgentStatus.AVAILABLE)
    d.dispatch()
    served = {"in the switch longer": switched, "in the queue longer": queued}[first]
    assert rung(served) == ["a1"]


def test_an_offer_whose_caller_left_meanwhile_reserves_nobody(store) -> None:
    """The agents are locked first, then the caller's row claimed: a caller gone by
    then reserves none of them."""
    acme = Acme(store, {"q": four("ring-all")})
    d = acme.controller()
    w = acme.caller(d, "q")
    with store.operator() as op:
        acd.remove_member(op.conn, w.member.uuid)
    _, agents = d._snapshot({w.key}, *d.queues(), acme.clock())
    d._offer_all([(w, Offer(w.member.uuid, w.key, AGENTS, 20))], agents, {})
    assert rung(w) == []
    assert {s for s, _ in acme.agent_rows().values()} == {"Waiting"}
    assert not w.trying


def test_becoming_available_starts_the_agents_counts_from_zero(store) -> None:
    """mod_callcenter.c:1016-1021: talk time, calls answered and no-answers count from the
    login (agent-with-least-talk-time, agent-with-fewest-calls, max-no-answer); a status
    set again unchanged moves nothing, so a queue's no-agent time stays the last logout."""
    acme = Acme(store, {})
    with store.operator() as op:
        op.conn.execute("UPDATE agent_state SET talk_time = 500, calls_answered = 7, no_answer_count = 3")
    acme.clock.now += 1
    acme.set_status("a1", AgentStatus.ON_BREAK)
    acme.set_status("a2", AgentStatus.AVAILABLE)  # already Available
    acme.set_status("a3", AgentStatus.LOGGED_OUT)
    acme.clock.now += 1
    acme.set_status("a1", AgentStatus.AVAILABLE)
    acme.set_status("a3", AgentStatus.LOGGED_OUT)
    with store.operator() as op:
        rows = {
            r["agent_id"]: (
                r["talk_time"],
                r["calls_answered"],
                r["no_answer_count"],
                r["last_status_change"],
            )
            for r in op._all("SELECT * FROM agent_state")
        }
    assert rows["a1"] == (0, 0, 0, NOW + 2)
    assert rows["a2"] == (500, 7, 3, NOW - 100)
    assert rows["a3"] == (500, 7, 3, NOW + 1)


def test_a_calls_clock_running_ahead_does_not_make_a_live_controller_dead(store) -> None:
    """Liveness runs on the wall clock, not the calls' clock. An emulated clock at 4x turns a
    2.5 s stall of a process holding two controllers into 10 s of call time: read as the
    heartbeat's age, each controller then freed the other's waiting callers, who were never
    served (seen under load in test_two_controllers_never_offer_one_agent_two_calls)."""
    acme = Acme(store, {"rr": four("round-robin")})
    wall = Clock()
    first, second = acme.controller(), acme.controller()
    for d in (first, second):
        d.wall = wall
    w = acme.caller(second, "rr")
    second.housekeeping()  # its heartbeat
    acme.clock.now += 4 * DEAD_AFTER  # the calls' clock races ahead; the wall moves a little
    wall.now += 1
    first.housekeeping()
    assert acme.row(w.member.uuid)["state"] == "Waiting"
    wall.now += DEAD_AFTER + 1  # silent on the wall clock too: dead
    first.housekeeping()
    assert acme.row(w.member.uuid)["state"] == "Abandoned"


# --- the agents kept between passes ---------------------------------------------------------


def test_a_pass_sees_an_agent_changed_by_a_transaction_that_commits_after_a_later_one(store, db_dsn) -> None:
    """A pass reads only the agents changed since its last read. A transaction that began
    before that read and commits after it, behind a later one already seen, is still seen
    by the next pass (reading from the last read's snapshot xmin, not the newest change)."""
    acme = Acme(store, {"q": four("longest-idle-agent")})
    d = acme.controller()
    acme.set_status("a1", AgentStatus.LOGGED_OUT)
    acme.set_status("a2", AgentStatus.LOGGED_OUT)
    agents = lambda: d._snapshot({queue_key("acme", "q")}, *d.queues(), acme.clock())[1]  # noqa: E731
    agents()  # the first read: every agent
    slow = psycopg.connect(db_dsn)
    try:
        slow.execute("UPDATE agent_state SET status = %s WHERE agent_id = 'a1'", (AgentStatus.AVAILABLE,))
        acme.set_status("a2", AgentStatus.AVAILABLE)  # begun later, committed first
        seen = agents()
        assert seen["a2"][0].status == AgentStatus.AVAILABLE
        assert seen["a1"][0].status == AgentStatus.LOGGED_OUT  # not committed yet
        slow.commit()
    finally:
        slow.close()
    assert agents()["a1"][0].status == AgentStatus.AVAILABLE


def test_a_pass_rings_an_agent_at_the_contact_set_since_the_last_pass(store) -> None:
    """A phone provisioned or moved (agents.contact, not the agent's state) between passes
    is rung at its new address, not the one the last read saw."""
    acme = Acme(store, {"q": {"strategy": "longest-idle-agent", "tiers": ["a1"]}})
    d = acme.controller()
    d.refresh_gauges()  # a pass's read of every agent
    with store.operator() as op:
        op.conn.execute("UPDATE agents SET contact = 'user/a1-new@acme.example' WHERE id = 'a1'")
    w = acme.caller(d, "q")
    d.dispatch()
    offers = [item for item in inbox(w) if isinstance(item, AgentOffer)]
    assert [o.contacts for o in offers] == [{"a1": "user/a1-new@acme.example"}]


def test_a_pass_offers_an_agent_who_became_available_since_the_last_pass(store) -> None:
    acme = Acme(store, {"q": {"strategy": "longest-idle-agent", "tiers": ["a1"]}})
    d = acme.controller()
    acme.set_status("a1", AgentStatus.LOGGED_OUT)
    w = acme.caller(d, "q")
    d.dispatch()
    assert rung(w) == []
    acme.set_status("a1", AgentStatus.AVAILABLE)
    d.dispatch()
    assert rung(w) == ["a1"]


def test_two_controllers_passes_racing_never_offer_one_agent_twice(store, db_dsn) -> None:
    """Each controller makes its pass's offers in one transaction, skipping agents another
    transaction holds: run at the same time on the same agents, no agent is offered twice,
    no caller gets two offers, and what the callers were told is what PostgreSQL holds."""
    other = Store(db_dsn, max_size=10).open()
    try:
        acme = Acme(store, {"q": four("longest-idle-agent")})
        first = acme.controller()
        second = Dispatcher(other, lambda: acme.project, acme.clock, name="c2")
        for _ in range(12):
            callers = [acme.caller(d, "q") for d in (first, second) for _ in range(3)]
            gevent.joinall(
                [gevent.spawn(d.dispatch) for d in (first, second, second, first)], raise_error=True
            )
            offered = [(a, w.member.uuid) for w in callers for a in rung(w)]
            assert len({a for a, _ in offered}) == len(offered), offered
            assert len({m for _, m in offered}) == len(offered), offered
            assert 1 <= len(offered) <= len(AGENTS)
            receiving = {(a, m) for a, (state, m) in acme.agent_rows().items() if state == "Receiving"}
            assert receiving == set(offered)
            with store.operator() as op:
                trying = {
                    r["m"]
                    for r in op._all("SELECT uuid::text AS m FROM queue_members WHERE state = 'Trying'")
                }
                assert trying == {m for _, m in offered}
                # The calls end: the agents are Waiting again, the callers gone.
                op.conn.execute(
                    "UPDATE agent_state SET state = 'Waiting', offered_member = NULL, offered_by = NULL,"
                    " agent_leg = NULL"
                )
            for w in callers:
                (first if w in first.waiters.values() else second).leave(w, abandoned=False)
    finally:
        other.close()


class CountingStore(Store):
    """A Store that counts the transactions and single statements asked of it."""

    def __init__(self, dsn: str) -> None:
        super().__init__(dsn)
        self.transactions = self.statements = self.pipelined = self.unflushed = 0

    @contextmanager
    def operator(self, *, pipelined: bool = False, flushed: bool = True) -> Iterator[Any]:
        self.transactions += 1
        self.pipelined += pipelined
        self.unflushed += not flushed
        with super().operator(pipelined=pipelined, flushed=flushed) as op:
            yield op

    @contextmanager
    def statement(self, *, flushed: bool = True) -> Iterator[Any]:
        self.statements += 1
        self.unflushed += not flushed
        with super().statement(flushed=flushed) as op:
            yield op


def test_a_queue_call_takes_two_transactions_and_two_statements_besides_the_passes(db_dsn) -> None:
    """What one answered queue call asks of the calls' pool, beside the dispatcher's passes
    (on its own connection): the join and the look for a transfer note are one statement
    each; the answer, and the end of the agent's call with the caller leaving the queue,
    one transaction each (it took seven transactions, the offer among them), pipelined: the
    read, then the writes with the COMMIT, two round trips. The join, the answer and the end
    are routing state, committed without waiting for the WAL flush; the read is not."""
    store = CountingStore(db_dsn).open()
    try:
        acme = Acme(store, {"q": {"strategy": "longest-idle-agent", "tiers": ["a1"]}})
        d = acme.controller()
        store.transactions = store.statements = 0
        w = acme.caller(d, "q")
        d.dispatch()
        assert rung(w) == ["a1"]
        settings = acme.settings("q")
        d.answered(w, "a1", [], settings, acme.clock())
        assert d.peek_transfer(w) is None
        acme.clock.now += 30
        d.call_ended(w, "a1", acme.clock(), leave=True)
        assert (store.transactions, store.pipelined, store.statements) == (2, 2, 2)
        assert store.unflushed == 3
        with store.operator() as op:
            assert op._all("SELECT uuid FROM queue_members") == []
        assert acme.agent_rows()["a1"] == ("Waiting", None)
        assert w.member.uuid not in d.waiters
    finally:
        store.close()


def test_a_pass_woken_by_a_change_publishes_figures_at_most_every_quarter_second(store) -> None:
    """Under load passes run every few milliseconds: their queues' figures (gauges, the
    wallboards' events) go at most every FIGURES_EVERY seconds from them; a pass with no
    such bound (the tick's) always publishes."""
    from fsapps.acd.dispatch import FIGURES_EVERY
    from fsapps.acd.notifier import QueueFigures

    acme = Acme(store, {"rr": four("round-robin")})
    d = acme.controller()
    figures: list[int] = []
    d.notifier.listen(lambda item: figures.append(item.event.waiting), lambda e: isinstance(e, QueueFigures))
    acme.caller(d, "rr")
    d.dispatch(figures_every=FIGURES_EVERY)
    acme.caller(d, "rr")
    d.dispatch(figures_every=FIGURES_EVERY)  # well within the bound of the first
    assert figures == [1]
    d.dispatch()  # the tick's
    assert figures == [1, 2]  # both callers, the rung one (Trying) too
    acme.caller(d, "rr")
    d._figures_at = {k: v - FIGURES_EVERY for k, v in d._figures_at.items()}  # as if a quarter second went by
    d.dispatch(figures_every=FIGURES_EVERY)
    assert len(figures) == 3 and figures[-1] == 3


def test_under_sustained_changes_every_queues_figures_still_go_each_tick(store) -> None:
    """Changes every few ms (a caller nobody can take, woken again and again) keep passes
    running and the pass clock never due: a queue with no caller here (qb) must still have
    its figures published each tick, not once at the start."""
    from fsapps.acd.notifier import QueueFigures

    acme = Acme(store, {"qa": four("round-robin", tiers=["a1"]), "qb": four("round-robin", tiers=["a2"])})
    acme.set_status("a1", AgentStatus.ON_BREAK)  # qa's caller waits: every kick is a pass
    d = acme.controller()
    seen = gevent.event.Event()
    published: list[float] = []

    def qb(item: Any) -> None:
        published.append(item.event.at)
        if len(published) >= 3:
            seen.set()

    d.notifier.listen(qb, lambda e: isinstance(e, QueueFigures) and e.queue == "qb")
    acme.caller(d, "qa")
    d.start()

    def changes() -> None:
        while True:
            d.kick.set()
            gevent.sleep(0.005)  # the load: a change every 5 ms

    load = gevent.spawn(changes)
    try:
        assert seen.wait(timeout=10), f"qb's figures went {len(published)} time(s)"
    finally:
        load.kill()
        d.stop()


class CountingDedicated(Dedicated):
    """The dispatcher's own connection, counting its transactions and its statements."""

    def __init__(self, dsn: str) -> None:
        super().__init__(dsn)
        self.transactions = self.statements = self.unflushed = 0

    @contextmanager
    def operator(self) -> Iterator[Any]:
        self.transactions += 1
        with super().operator() as op:
            yield op

    @contextmanager
    def statement(self, *, pipelined: bool = False, flushed: bool = True) -> Iterator[Any]:
        self.statements += 1
        self.unflushed += not flushed
        with super().statement(pipelined=pipelined, flushed=flushed) as op:
            yield op


def test_a_pass_that_offers_is_two_round_trips_and_no_transaction(store) -> None:
    """The pass's reads, pipelined, then its offers, one statement: no BEGIN or COMMIT to
    wait for (it took two transactions and five round trips)."""
    acme = Acme(store, {"q": four("longest-idle-agent")})
    d = acme.controller()
    d.own.close()
    d.own = counting = CountingDedicated(store.dsn)
    d.refresh_gauges()
    counting.transactions = counting.statements = 0
    callers = [acme.caller(d, "q") for _ in range(2)]
    d.dispatch()
    offered = [rung(w) for w in callers]
    assert [len(r) for r in offered] == [1, 1] and offered[0] != offered[1], offered
    assert (counting.transactions, counting.statements) == (0, 2)
    assert counting.unflushed == 1  # the offers: routing state; the reads commit nothing
