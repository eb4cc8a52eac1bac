"""ACD state in PostgreSQL: two controllers (two connection pools) deciding on
the same snapshot and racing to reserve agents never offer one agent two
calls, nor one caller to two agents."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import gevent
import gevent.pool
import psycopg

from fsapps.acd.agent_events import answered, call_ended, offer_failed
from fsapps.acd.decide import Offer, decide
from fsapps.acd.model import Agent, AgentStatus, Member, Queue, QueueSettings, Snapshot, Tier
from fsapps.acd.notifier import Notifier
from fsapps.acd.transitions import AgentTransitions
from fsapps.store import acd
from fsapps.store.db import Store
from fsapps.store.records import Tenant

NOW = 2_000_000_000.0


def setup_agents(store: Store, n: int) -> list[str]:
    with store.operator() as op:
        op.add_tenant(Tenant("acme", "Acme", "acme.example"))
        for i in range(n):
            op.conn.execute("INSERT INTO agents (id, name) VALUES (%s, %s)", (f"a{i}", f"Agent {i}"))
            acd.ensure_agent(op.conn, f"a{i}", wrap_up_time=0)
            acd.set_status(op.conn, f"a{i}", AgentStatus.AVAILABLE, NOW)
    return [f"a{i}" for i in range(n)]


def snapshot(store: Store, members: list[str], round_no: int) -> Snapshot:
    with store.operator() as op:
        rows = op._all("SELECT agent_id, status, state, last_bridge_end FROM agent_state")
    agents = {
        r["agent_id"]: Agent(r["agent_id"], r["status"], r["state"], last_bridge_end=r["last_bridge_end"])
        for r in rows
    }
    q = Queue("sales", "acme", QueueSettings(strategy="longest-idle-agent"))
    return Snapshot(
        {"sales": q}, agents, tuple(Tier("sales", a) for a in agents),
        tuple(Member(m, "sales", NOW - i) for i, m in enumerate(members)),
    )  # fmt: skip


def test_two_controllers_never_offer_one_agent_two_calls(db_dsn) -> None:
    stores = [Store(db_dsn, max_size=10).open(), Store(db_dsn, max_size=10).open()]
    try:
        agents = setup_agents(stores[0], 12)
        wins: list[tuple[int, str, str]] = []  # (round, agent, member)
        for round_no in range(30):
            members = [str(uuid.uuid4()) for _ in range(20)]
            with stores[0].operator() as op:
                for i, m in enumerate(members):
                    op.conn.execute(
                        "INSERT INTO queue_members (uuid, tenant_id, queue, joined_epoch) VALUES (%s, 'acme', 'sales', %s)",
                        (m, NOW - i),
                    )
            snap = snapshot(stores[0], members, round_no)
            # Each controller decides alone, with a different seed and member order: the offers collide.
            plans = [decide(snap, NOW, seed=0), list(reversed(decide(snap, NOW, seed=1)))]

            def apply(store: Store, offer: Offer, name: str, round_no: int = round_no) -> None:
                with store.operator() as op:
                    if not acd.claim_member(op.conn, offer.member, offer.agents[0], name):
                        return
                    if acd.reserve(op.conn, offer.agents[0], offer.member, name, NOW):
                        wins.append((round_no, offer.agents[0], offer.member))
                    else:
                        op.conn.execute(
                            "UPDATE queue_members SET state = 'Waiting' WHERE uuid = %s", (offer.member,)
                        )

            pool = gevent.pool.Pool(40)
            for (store, plan), name in zip(zip(stores, plans, strict=True), ("c1", "c2"), strict=True):
                for d in plan:
                    if isinstance(d, Offer):
                        pool.spawn(apply, store, d, name)
                        pool.spawn(apply, store, d, name)  # and each controller retries its own offer
            pool.join(raise_error=True)
            this_round = [(a, m) for r, a, m in wins if r == round_no]
            assert len({a for a, _ in this_round}) == len(this_round), this_round
            assert len({m for _, m in this_round}) == len(this_round), this_round
            assert len(this_round) == len(agents)  # every free agent got exactly one caller
            with stores[0].operator() as op:
                rows = op._all(
                    "SELECT agent_id, offered_member::text AS m FROM agent_state WHERE state = 'Receiving'"
                )
                assert {(r["agent_id"], r["m"]) for r in rows} == set(this_round)
                # End the calls: the agents are Waiting again for the next round.
                for agent, member in this_round:
                    a = Agent(agent, AgentStatus.AVAILABLE)
                    done = call_ended(answered(a, NOW), NOW + 1)
                    assert acd.release(
                        op.conn, agent, member, {"state": done.state, "last_bridge_end": NOW - 10}
                    )
                op.conn.execute("DELETE FROM queue_members")
        assert len(wins) == 30 * 12
    finally:
        for s in stores:
            s.close()


def test_release_only_touches_the_agent_still_on_that_offer(db_dsn) -> None:
    store = Store(db_dsn).open()
    try:
        setup_agents(store, 1)
        with store.operator() as op:
            assert acd.reserve(op.conn, "a0", "00000000-0000-0000-0000-000000000001", "c1", NOW)
            assert not acd.reserve(op.conn, "a0", "00000000-0000-0000-0000-000000000002", "c2", NOW)
            failed = offer_failed(
                Agent("a0", AgentStatus.AVAILABLE, no_answer_delay_time=15), "NO_ANSWER", QueueSettings(), NOW
            )
            fields = {
                "state": failed.state,
                "ready_time": failed.ready_time,
                "no_answer_count": failed.no_answer_count,
            }
            assert not acd.release(op.conn, "a0", "00000000-0000-0000-0000-000000000002", fields)
            assert acd.release(op.conn, "a0", "00000000-0000-0000-0000-000000000001", fields)
            row = op._one("SELECT state, ready_time, no_answer_count, offered_member FROM agent_state")
        assert row == {
            "state": "Waiting",
            "ready_time": NOW + 15,
            "no_answer_count": 1,
            "offered_member": None,
        }
    finally:
        store.close()


def test_what_the_agent_operations_read_comes_from_the_acd_repository(store) -> None:
    """fsapps.acd.operations and the agent command read through fsapps.store.acd."""
    with store.operator() as op:
        op.add_tenant(Tenant("acme", "Acme", "acme.example"))
        op.add_tenant(Tenant("beta", "Beta", "beta.example"))
        op.add_agent("li", "Li", {"acme": 1, "beta": 2}, "user/1001@acme.example")
        op.add_agent("wang", "Wang", {"acme": 1}, None)
        acd.ensure_agent(op.conn, "li")
        acd.set_status(op.conn, "li", AgentStatus.ON_BREAK, NOW, "lunch")
        member, leg = str(uuid.uuid4()), str(uuid.uuid4())
        assert acd.reserve(op.conn, "li", member, "c1", NOW, leg)
        overview = acd.agents_overview(op.conn)
        call = acd.agent_call(op.conn, "li")
        ringing = acd.ringing_for(op.conn, member)
        rings, not_leg = acd.still_ringing(op.conn, member, [leg]), acd.still_ringing(op.conn, member, [member])
        contacts = acd.agent_contact(op.conn, "li"), acd.agent_contact(op.conn, "wang"), acd.agent_contact(op.conn, "x")
        queued = acd.member_transfer(op.conn, member)
    assert [(r["id"], r["status"], r["break_reason"], r["tenants"]) for r in overview] == [
        ("li", "On Break", "lunch", "acme,beta"), ("wang", None, None, "acme"),
    ]  # fmt: skip
    assert call is not None and (call["state"], str(call["offered_member"]), str(call["agent_leg"])) == (
        "Receiving", member, leg)  # fmt: skip
    assert [(r["agent_id"], str(r["agent_leg"]), r["offered_by"]) for r in ringing] == [("li", leg, "c1")]
    assert (rings, not_leg) == (True, False)
    assert contacts == ("user/1001@acme.example", None, None)
    assert queued == (False, {})  # no row for that caller


def test_a_caller_being_moved_is_offered_nothing_more_and_is_moved_once(store) -> None:
    """A dispatcher that read the caller before the move was noted must not ring them here."""
    setup_agents(store, 1)
    member = str(uuid.uuid4())
    with store.operator() as op:
        acd.send_join(op.conn, Member(member, "sales", NOW), "acme", "sales", "c1", "", "", NOW)()
        assert acd.ask_move(op.conn, "acme", "sales", member, "billing")
        assert not acd.ask_move(op.conn, "acme", "sales", member, "support")  # being moved already
        assert not acd.claim_member(op.conn, member, "a0", "c1", now=NOW)
        (m, _, _) = acd.load_members(op.conn, [("acme", "sales")])[0]
        assert (m.state, m.moving_to) == ("Waiting", "billing")
        assert not acd.ask_move(op.conn, "globex", "sales", member, "billing")  # another tenant's


def _member(store: Store, state: str = "Waiting", controller: str | None = None) -> str:
    m = str(uuid.uuid4())
    with store.operator() as op:
        op.conn.execute(
            "INSERT INTO queue_members (uuid, tenant_id, queue, joined_epoch, state, controller)"
            " VALUES (%s, 'acme', 'sales', %s, %s, %s)",
            (m, NOW, state, controller),
        )
    return m


def _legs(*agents: str) -> dict[str, str]:
    return {a: str(uuid.uuid4()) for a in agents}


def _rows(store: Store) -> tuple[dict[str, tuple[str, str | None, str | None]], dict[str, tuple[Any, ...]]]:
    with store.operator() as op:
        agents = op._all("SELECT agent_id, state, offered_member::text AS m, agent_leg::text AS leg FROM agent_state")
        members = op._all("SELECT uuid::text AS m, state, serving_agent, controller, last_tier_level,"
                          " last_tier_position FROM queue_members")  # fmt: skip
    return (
        {r["agent_id"]: (r["state"], r["m"], r["leg"]) for r in agents},
        {r["m"]: (r["state"], r["serving_agent"], r["controller"], r["last_tier_level"], r["last_tier_position"])
         for r in members},
    )  # fmt: skip


def test_a_pass_s_offers_in_one_statement_follow_the_pass_s_order(store: Store) -> None:
    """The first offer naming an agent has them, whether or not its caller is still there to
    claim; a caller answered meanwhile reserves nobody; a caller's row names the first of
    their agents won, with that agent's tier; the legs are the plan's."""
    setup_agents(store, 3)
    gone, m1, m2 = _member(store, "Answered"), _member(store), _member(store)
    plans = [
        acd.OfferPlan(gone, _legs("a2"), {}),
        acd.OfferPlan(m1, _legs("a1", "a0"), {"a1": (1, 2), "a0": (1, 1)}),
        acd.OfferPlan(m2, _legs("a0", "a2"), {}),
    ]
    with store.operator() as op:
        got = acd.make_offers(op.conn, plans, "c1", NOW)
    assert got == {m1: plans[1].legs}
    assert list(got[m1]) == ["a1", "a0"]  # the offer's order
    agents, members = _rows(store)
    assert agents == {
        "a0": ("Receiving", m1, plans[1].legs["a0"]),
        "a1": ("Receiving", m1, plans[1].legs["a1"]),
        "a2": ("Waiting", None, None),
    }
    assert members[m1] == ("Trying", "a1", "c1", 1, 2)
    assert members[m2][0] == "Waiting" and members[gone][0] == "Answered"


def test_an_agent_another_transaction_holds_is_skipped_not_waited_for(store: Store, db_dsn) -> None:
    setup_agents(store, 2)
    m1 = _member(store)
    with psycopg.connect(db_dsn) as other:
        other.execute("SELECT 1 FROM agent_state WHERE agent_id = 'a0' FOR UPDATE")
        plan = acd.OfferPlan(m1, _legs("a0", "a1"), {})
        with store.operator() as op:
            op.conn.execute("SET LOCAL lock_timeout = '2s'")  # a wait would fail, not hang
            got = acd.make_offers(op.conn, [plan], "c1", NOW)
        other.rollback()
    assert got == {m1: {"a1": plan.legs["a1"]}}
    assert _rows(store)[1][m1][:3] == ("Trying", "a1", "c1")


def test_a_ring_going_on_gets_another_agent_only_from_its_own_controller(store: Store) -> None:
    setup_agents(store, 2)
    ringing = _member(store, "Trying", controller="c1")
    plan = acd.OfferPlan(ringing, _legs("a0"), {}, adding=True)
    with store.operator() as op:
        assert acd.make_offers(op.conn, [plan], "c2", NOW) == {}
        assert acd.make_offers(op.conn, [replace(plan, adding=False)], "c1", NOW) == {}
        assert acd.make_offers(op.conn, [plan], "c1", NOW) == {ringing: plan.legs}


def test_a_ring_a_pickup_is_taking_gets_no_other_agent_and_no_second_pickup(store: Store) -> None:
    setup_agents(store, 3)
    ringing = _member(store, "Trying", controller="c1")
    note = {"pickup": "a1", "leg": str(uuid.uuid4()), "dial": "user/a1"}
    with store.operator() as op:
        assert acd.note_pickup(op.conn, ringing, note) is True
        # Another agent's pickup at the same moment would leave its agent reserved for nothing.
        assert acd.note_pickup(op.conn, ringing, {**note, "pickup": "a0"}) is False
        assert acd.peek_transfer(op.conn, ringing) == note
        assert acd.note_pickup(op.conn, str(uuid.uuid4()), note) is None
        # ring-progressively's next agent is not added while the pickup takes the call.
        plan = acd.OfferPlan(ringing, _legs("a0"), {}, adding=True)
        assert acd.make_offers(op.conn, [plan], "c1", NOW) == {}
        # A waiting caller with a pickup note (its controller died as the pickup happened) is
        # offered agents still, and a resumed visit drops the note: its picker was freed.
        waiting = _member(store, "Waiting", controller="c1")
        assert acd.note_pickup(op.conn, waiting, note) is True
        acd.send_join(op.conn, Member(waiting, "sales", NOW), "acme", "sales", "c2", "", "", NOW)()
        assert acd.peek_transfer(op.conn, waiting) is None
        assert acd.note_pickup(op.conn, waiting, note) is True
        fresh = acd.OfferPlan(waiting, _legs("a2"), {})
        assert acd.make_offers(op.conn, [fresh], "c2", NOW) == {waiting: fresh.legs}
        # The visit took the note (and rings the picking agent, with no adds of its own).
        assert acd.take_transfer(op.conn, ringing, NOW) == note
        assert acd.make_offers(op.conn, [plan], "c1", NOW) == {ringing: plan.legs}


def test_two_controllers_passes_making_offers_at_once_never_offer_one_agent_twice(store: Store, db_dsn) -> None:
    """make_offers, as two dispatchers' passes run it at the same time: each offers its own
    callers the same agents (each decided alone). No agent is reserved for two callers, no
    caller is left Trying with nobody rung, nobody waits for a lock, and what each was told
    is what PostgreSQL holds."""
    stores = [store, Store(db_dsn, max_size=4).open()]
    try:
        setup_agents(stores[0], 12)
        for round_no in range(20):
            members = [_member(stores[0]) for _ in range(20)]
            told: dict[str, dict[str, dict[str, str]]] = {}

            def run(store: Store, name: str, decisions: Any, told: dict[str, Any] = told) -> None:
                offers = [d for d in decisions if isinstance(d, Offer)]
                plans = [acd.OfferPlan(o.member, _legs(*o.agents), {}) for o in offers]
                with store.operator() as op:
                    op.conn.execute("SET LOCAL lock_timeout = '2s'")  # a wait fails, never hangs
                    told[name] = acd.make_offers(op.conn, plans, name, NOW)

            # Each controller's callers its own, the agents shared: the offers collide.
            plans = {
                "c1": decide(snapshot(stores[0], members[:10], round_no), NOW, seed=0),
                "c2": decide(snapshot(stores[0], members[10:], round_no), NOW, seed=1),
            }
            assert all(len([d for d in p if isinstance(d, Offer)]) == 10 for p in plans.values())
            jobs = [gevent.spawn(run, store, name, plans[name]) for store, name in zip(stores, ("c1", "c2"), strict=True)]
            gevent.joinall(jobs, raise_error=True)
            offered = [(a, m, name) for name, got in told.items() for m, legs in got.items() for a in legs]
            assert len({a for a, _, _ in offered}) == len(offered), offered
            assert len({m for _, m, _ in offered}) == len(offered), offered
            assert 10 <= len(offered) <= 12
            state, rows = _rows(stores[0])
            assert {(a, s[1]) for a, s in state.items() if s[0] == "Receiving"} == {(a, m) for a, m, _ in offered}
            assert {m: r[1:3] for m, r in rows.items() if r[0] == "Trying"} == {m: (a, n) for a, m, n in offered}
            with stores[0].operator() as op:
                op.conn.execute("UPDATE agent_state SET state = 'Waiting', offered_member = NULL, agent_leg = NULL")
                op.conn.execute("DELETE FROM queue_members")
    finally:
        stores[1].close()


def test_an_abandoned_place_is_discarded_only_while_it_is_abandoned(store) -> None:
    """A pass saw the place Abandoned past discard-abandoned-after; the caller resumed it
    meanwhile (Waiting again): the discard leaves it."""
    setup_agents(store, 1)
    gone, back = str(uuid.uuid4()), str(uuid.uuid4())
    with store.operator() as op:
        for member in (gone, back):
            acd.send_join(op.conn, Member(member, "sales", NOW), "acme", "sales", "c1", "", "", NOW)()
            acd.member_state(op.conn, member, "Abandoned", abandoned_epoch=NOW + 1, wake=False)
        acd.send_join(op.conn, Member(back, "sales", NOW + 5), "acme", "sales", "c2", "", "", NOW + 5)()
        for member in (gone, back):
            acd.discard_abandoned(op.conn, member)
        left = op._all("SELECT uuid::text AS m, state FROM queue_members")
    assert [(r["m"], r["state"]) for r in left] == [(back, "Waiting")]


def test_a_visit_noted_on_the_channel_is_completed_with_its_agent_whatever_the_row_said(store: Store) -> None:
    """An agent (a1) answered while PostgreSQL was away: their answer was never written, the
    caller's row still says Trying and a1 and a0 (rung with them) Receiving. The controller
    the caller comes back to makes the row Answered as it joins, then completes the visit with
    the agent the channel names: a1 answered and ended their call at the noted times, a0 lost
    the race (no no-answer counted). A name of an agent who does not serve the caller's tenant
    is not taken: nothing is completed in its name."""
    setup_agents(store, 3)
    with store.operator() as op:
        op.conn.execute("INSERT INTO agent_tenants (agent_id, tenant_id) VALUES ('a0', 'acme'), ('a1', 'acme')")
    caller = _member(store, "Waiting", controller="c1")
    legs = _legs("a0", "a1")
    with store.operator() as op:
        assert acd.make_offers(op.conn, [acd.OfferPlan(caller, legs, {})], "c1", NOW) == {caller: legs}
        placed = acd.send_join(op.conn, Member(caller, "sales", NOW + 60), "acme", "sales", "c2", "", "", NOW + 60,
                               completing=True)()  # fmt: skip
        assert placed[:2] == (NOW, "Trying")
    assert _rows(store)[1][caller][0] == "Answered"  # no offer is made to them meanwhile
    transitions = AgentTransitions(store, Notifier())
    row = transitions.complete_answered(caller, NOW + 40, "a1", NOW + 10)
    assert row is not None and (row["agent_id"], row["last_bridge_start"]) == ("a1", NOW + 10)
    with store.operator() as op:
        got = acd.load_agents(op.conn, ["a0", "a1"])
    a0, a1 = got["a0"][0], got["a1"][0]
    assert (a1.state, a1.offered_member, a1.calls_answered, a1.talk_time, a1.last_bridge_end) == (
        "Waiting", "", 1, 30, NOW + 40)  # fmt: skip
    assert (a0.state, a0.offered_member, a0.no_answer_count) == ("Waiting", "", 0)
    assert caller not in _rows(store)[1]
    # A row gone meanwhile is written Answered by the join; an agent of another tenant named.
    gone = str(uuid.uuid4())
    with store.operator() as op:
        placed = acd.send_join(op.conn, Member(gone, "sales", NOW + 60), "acme", "sales", "c2", "", "", NOW + 60,
                               completing=True)()  # fmt: skip
        assert placed[:2] == (NOW + 60, "")
    assert _rows(store)[1][gone][0] == "Answered"
    row = transitions.complete_answered(gone, NOW + 40, "a2", NOW + 10)
    assert row is not None and row["agent_id"] is None


def test_an_answer_told_twice_counts_once_and_one_for_another_caller_changes_nothing(store: Store) -> None:
    """The visit tells the answer again after a failure that may have come after the COMMIT:
    the agent answered once (calls_answered 1, the first start kept). An agent who is not on
    the caller's offer (freed meanwhile) is not made to answer it."""
    setup_agents(store, 2)
    caller = _member(store, "Waiting", controller="c1")
    legs = _legs("a0")
    with store.operator() as op:
        assert acd.make_offers(op.conn, [acd.OfferPlan(caller, legs, {})], "c1", NOW) == {caller: legs}
    transitions = AgentTransitions(store, Notifier())
    first = transitions.answered(caller, "a0", [], QueueSettings(), NOW + 5)
    again = transitions.answered(caller, "a0", [], QueueSettings(), NOW + 9)
    assert first is not None and again is not None
    assert (again.state, again.calls_answered, again.last_bridge_start) == ("In a queue call", 1, NOW + 5)
    assert transitions.answered(caller, "a1", [], QueueSettings(), NOW + 9) is None
    agents, members = _rows(store)
    assert (agents["a0"][:2], agents["a1"][:2], members[caller][0]) == (
        ("In a queue call", caller), ("Waiting", None), "Answered")  # fmt: skip
