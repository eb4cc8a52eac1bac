"""Dispatchers woken after a change commits (fsapps.acd.wakeup), against a real PostgreSQL:
the ACD's own transactions send no NOTIFY (those commits queued for PostgreSQL's one lock
for notifying transactions); a controller's wake-ups reach every listener, coalesced,
and survive a lost connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from fsapps.acd.model import AgentStatus, Member, QueueSettings
from fsapps.acd.notifier import Notifier
from fsapps.acd.transitions import AgentTransitions
from fsapps.acd.wakeup import Wakeup
from fsapps.store import acd
from fsapps.store.records import Tenant
from tests.integration.test_acd_dispatch_state import NOW, Acme, four

MARKER = "marker"
M1 = "00000000-0000-0000-0000-0000000000a1"


@contextmanager
def listening(dsn: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"LISTEN {acd.CHANNEL}")
        yield conn


def heard_before_marker(dsn: str, conn: psycopg.Connection[Any]) -> list[str]:
    """The notifications that came before a marker sent now: PostgreSQL delivers them in
    commit order, so what is not there by the marker was never sent."""
    with psycopg.connect(dsn, autocommit=True) as other:
        other.execute("SELECT pg_notify(%s, %s)", (acd.CHANNEL, MARKER))
    out = []
    for note in conn.notifies(timeout=10):
        if note.payload == MARKER:
            return out
        out.append(note.payload)
    raise AssertionError(f"the marker never came (heard {out!r})")


def test_a_dispatchers_join_answer_and_call_end_send_no_notify_and_wake_after(store: Any) -> None:
    acme = Acme(store, {"rr": four("round-robin")})
    d = acme.controller()
    wakes: list[str] = []
    d.wakeup.wake = lambda: wakes.append("wake")  # type: ignore[method-assign]
    d.transitions = AgentTransitions(store, d.notifier, wake=d.wakeup.wake)
    with listening(store.dsn) as conn:
        w = acme.caller(d, "rr")
        d.dispatch()
        offer = w.inbox.get_nowait()
        (agent,) = offer.offer.agents
        settings = acme.settings("rr")
        assert d.answered(w, agent, [], settings, acme.clock()) is not None
        acme.clock.now += 5
        d.call_ended(w, agent, acme.clock(), leave=True)
        assert heard_before_marker(store.dsn, conn) == []
    # The join, and the call's end (its agent into wrap-up): the answer frees nobody.
    assert wakes == ["wake", "wake"]


def test_a_transition_without_a_wake_notifies_in_its_transaction(store: Any) -> None:
    """Processes with no Wakeup (none today but tests) keep the NOTIFY in the transaction."""
    with store.operator() as op:
        op.add_tenant(Tenant("acme", "Acme", "acme.example"))
        op.add_agent("a1", "a1", {"acme": 1}, "user/a1@acme.example")
        acd.ensure_agent(op.conn, "a1")
        acd.set_status(op.conn, "a1", AgentStatus.AVAILABLE, NOW - 100)
        acd.send_join(op.conn, Member(M1, "q", NOW), "acme", "q", "c1", "", "", NOW, wake=False)()
        acd.make_offers(op.conn, [acd.OfferPlan(M1, {"a1": "00000000-0000-0000-0000-000000000001"}, {})], "c1", NOW)
    transitions = AgentTransitions(store, Notifier())
    with listening(store.dsn) as conn:
        transitions.offer_failed(M1, ["a1"], "NO_ANSWER", QueueSettings(), NOW + 1, caller_waits=True)
        assert heard_before_marker(store.dsn, conn) == [""]


def test_wakeups_reach_listeners_coalesced_and_after_a_lost_connection(store: Any) -> None:
    wakeup = Wakeup(store.dsn, acd.CHANNEL).start()
    try:
        with listening(store.dsn) as conn:
            for _ in range(50):
                wakeup.wake()
            got = [n.payload for n in conn.notifies(timeout=10, stop_after=1)]
            assert got == [""]
            # Fifty wakes before the greenlet ran: one NOTIFY (the listener may hear it
            # before the sender has read its commit's answer: flush waits for that).
            assert wakeup.flush(10)
            assert wakeup.sent == 1
            sent = wakeup.sent
            # The wake-up's connection is killed under it: the next wake still arrives.
            assert wakeup._conn is not None
            with psycopg.connect(store.dsn, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (wakeup._conn.info.backend_pid,))
            heard_before_marker(store.dsn, conn)  # whatever came before: not counted
            wakeup.wake()
            got = [n.payload for n in conn.notifies(timeout=10, stop_after=1)]
            assert got == [""]
            assert wakeup.flush(10)
            assert wakeup.sent > sent
    finally:
        wakeup.stop()


def test_a_stopping_controller_sends_the_wake_up_its_last_change_asked_for(store: Any) -> None:
    wakeup = Wakeup(store.dsn, acd.CHANNEL).start()
    with listening(store.dsn) as conn:
        wakeup.wake()
        wakeup.stop(flush=10)  # before its greenlet has run
        assert heard_before_marker(store.dsn, conn) == [""]
        assert wakeup.sent == 1


def test_another_controller_hears_one_wake_up_once_the_change_is_visible(store: Any) -> None:
    """What another controller's dispatcher listens to: the join's wake-up, then, for the
    agent's call ending, one more, sent once that commit is visible to whoever reads."""
    acme = Acme(store, {"rr": four("round-robin", tiers=["a1"])})
    d = acme.controller()
    settings = acme.settings("rr")
    d.wakeup.start()
    try:
        with listening(store.dsn) as conn:
            w = acme.caller(d, "rr")
            assert [n.payload for n in conn.notifies(timeout=10, stop_after=1)] == [""]
            d.dispatch()
            (agent,) = w.inbox.get_nowait().offer.agents
            assert d.answered(w, agent, [], settings, acme.clock()) is not None
            acme.clock.now += 5
            d.call_ended(w, agent, acme.clock(), leave=True)
            assert [n.payload for n in conn.notifies(timeout=10, stop_after=1)] == [""]
            # Woken, the other controller reads the agent out of the call and the caller gone.
            assert acme.agent_rows()[agent] == ("Waiting", None)
            with store.operator() as op:
                assert op._all("SELECT uuid FROM queue_members") == []
            assert heard_before_marker(store.dsn, conn) == []  # and nothing more
    finally:
        d.wakeup.stop()
