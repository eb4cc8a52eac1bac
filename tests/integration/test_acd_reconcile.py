"""What a live controller frees that no live call holds, asking the switch (the emulator over
its Event Socket) rather than trusting the rows: an offer left Receiving long past any ring
whose caller and agent legs are gone, while an offer whose call is still up stays."""

from __future__ import annotations

import time
import uuid as uuidlib

import psycopg
import pytest

from fsapps.acd.dispatch import Dispatcher
from fsapps.acd.housekeeping import DEAD_AFTER
from fsapps.acd.model import Member
from fsapps.acd.notifier import AgentStateChanged, Notifier
from fsapps.acd.relay import Relay
from fsapps.esl.client import Connection
from fsapps.flows.model import Operator, Project
from fsapps.sim.dialplan import StaticDialplan
from fsapps.sim.endpoints import CallerScript
from fsapps.sim.switch import Switch
from fsapps.store import acd
from fsapps.store.records import Tenant
from tests.support.waiting import wait_for


def _offer(op, agent: str, member: str, leg: str, at: float) -> None:
    acd.ensure_agent(op.conn, agent)
    acd.set_status(op.conn, agent, "Available", 0)
    acd.send_join(op.conn, Member(uuid=member, queue="support", joined_epoch=at), "acme", "support",
                  "controller-x", "5550100", "", at)()  # fmt: skip
    assert acd.claim_member(op.conn, member, agent, "controller-x")
    assert acd.reserve(op.conn, agent, member, "controller-x", at, leg)


def test_a_stale_offer_whose_call_is_gone_is_freed_and_a_live_one_is_not(store) -> None:
    parked = StaticDialplan().add("public", r"^1$", [("park", "")])
    sw = Switch(speed=1.0, password="pw", dialplan=parked).start()
    conn = Connection("127.0.0.1", sw.port, "pw")
    conn.connect()
    try:
        live = sw.place_call("1", script=CallerScript(hangup_after=60))
        assert wait_for(lambda: conn.api(f"uuid_exists {live.uuid}").strip() == "true")
        long_ago = time.time() - 1000
        with store.operator() as op:
            op.add_tenant(Tenant("acme", "Acme", "acme.example"))
            acd.heartbeat(op.conn, "controller-x", time.time())  # the controller that made them is alive
            op.add_agent("gone_a", "gone_a", {"acme": 1}, "user/1")
            op.add_agent("live_a", "live_a", {"acme": 1}, "user/2")
            gone = str(uuidlib.uuid4())
            _offer(op, "gone_a", gone, str(uuidlib.uuid4()), long_ago)
            _offer(op, "live_a", live.uuid, str(uuidlib.uuid4()), long_ago)
        d = Dispatcher(store, lambda: Project(".", Operator(), []), time.time, api=conn.api, api_many=conn.api_many)
        d.housekeeping()
        with store.operator() as op:
            states = {r["agent_id"]: (r["state"], r["offered_member"], r["no_answer_count"])
                      for r in op._all("SELECT * FROM agent_state")}  # fmt: skip
            members = {str(r["uuid"]): r["state"] for r in op._all("SELECT uuid, state FROM queue_members")}
        assert states["gone_a"] == ("Waiting", None, 0)
        assert states["live_a"][0] == "Receiving"
        assert members == {gone: "Abandoned", live.uuid: "Trying"}
    finally:
        conn.stop()
        sw.stop()


def test_a_controller_stopped_mid_conversation_leaves_it_whole(store, tmp_path) -> None:
    """fsapps serve stopped (SIGTERM's path: hand calls back) while its caller talks to an agent:
    the conversation goes on, and when the agent hangs up the caller comes back to the other
    controller, which completes the visit once, with the whole talk time."""
    from fsapps.sim.endpoints import Endpoint
    from tests.integration.test_acd_calls import SPEED, rig

    with rig(store, tmp_path, controllers=2) as r:
        r.agent("cn_wang", Endpoint(answer_after=1.0, hangup_after=40.0))
        ch = r.call(keypad=["1", "4"])
        assert wait_for(lambda: r.agent_row("cn_wang")["state"] == "In a queue call", timeout=60)
        first = r.controllers[0]
        assert first.server.calls, "the call is not on the first controller"
        first.stop(grace=0.1)  # hands its calls back: this one must stay with its agent
        assert wait_for(lambda: not first.server.calls, timeout=10)
        assert r.agent_row("cn_wang")["state"] == "In a queue call"
        assert ch.destroyed.wait(120 / SPEED + 60), r.switch.call_log(ch.uuid)
        rows = wait_for(r.queue_calls, timeout=30)
        assert [(q["outcome"], q["agent_id"]) for q in rows] == [("answered", "cn_wang")]
        assert float(rows[0]["talk_seconds"]) >= 38.0, rows[0]
        assert wait_for(lambda: r.agent_row("cn_wang")["state"] == "Waiting", timeout=10)


def test_a_killed_controllers_hold_ends_with_its_connection_not_a_heartbeat_timeout_later(
    store, db_dsn
) -> None:
    """A controller is dead once its lifetime lock (held by its listening connection) is gone
    and its heartbeat is GONE_AFTER old: what it was ringing is freed then, not DEAD_AFTER
    later. A slow controller, heartbeat late but connection up, keeps what it holds; so does
    one whose connection blinked, while its heartbeat is fresh."""
    now = time.time()
    with store.operator() as op:
        op.add_tenant(Tenant("acme", "Acme", "acme.example"))
        op.add_agent("ring_a", "ring_a", {"acme": 1}, "user/1")
        member = str(uuidlib.uuid4())
        _offer(op, "ring_a", member, str(uuidlib.uuid4()), now)
        acd.heartbeat(op.conn, "controller-x", now)
    holder = psycopg.connect(db_dsn, autocommit=True)
    try:
        assert acd.hold_liveness(holder, "controller-x")
        late = now + acd.GONE_AFTER + 1
        with store.operator() as op:
            assert acd.free_the_dead(op.conn, late, DEAD_AFTER) == ([], [])  # slow, not dead
    finally:
        holder.close()  # what a SIGKILL does to its connections
    heard: list = []  # what the API's event streams hear of it (fsapps.acd.relay)
    relay = Relay(db_dsn, Notifier(), "the-api")
    relay.follow(heard.append, resumed=lambda: None)
    assert relay.listening.wait(10)
    try:
        with store.operator() as op:
            assert acd.free_the_dead(op.conn, now + 1, DEAD_AFTER) == ([], [])  # heartbeat still fresh
            assert acd.free_the_dead(op.conn, late, DEAD_AFTER) == ([member], ["ring_a"])
        assert wait_for(lambda: heard, timeout=10)
        assert heard == [AgentStateChanged("ring_a", "Waiting", "Available", late)]
    finally:
        relay.stop()


def test_a_controller_back_from_an_outage_waits_for_its_peers_before_judging_them_dead(
    store, db_dsn
) -> None:
    """A restart of PostgreSQL drops every controller's lifetime lock and silences every
    heartbeat at once. The first controller back must not take a live peer for dead (and
    abandon the callers it holds) before that peer could take its lock back and beat:
    GONE_AFTER from its own return. A peer that does not come back is still freed."""
    wall = [time.time()]
    t0 = wall[0]
    with store.operator() as op:
        op.add_tenant(Tenant("acme", "Acme", "acme.example"))
        member = str(uuidlib.uuid4())
        acd.send_join(op.conn, Member(uuid=member, queue="support", joined_epoch=t0), "acme", "support",
                      "controller-x", "5550100", "", t0)()  # fmt: skip
        acd.heartbeat(op.conn, "controller-x", t0)
    peer = psycopg.connect(db_dsn, autocommit=True)
    assert acd.hold_liveness(peer, "controller-x")
    d = Dispatcher(store, lambda: Project(".", Operator(), []), time.time, wall=lambda: wall[0])

    def terminate(pid: int) -> None:
        with psycopg.connect(db_dsn, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))

    def gone_with(pid: int, end) -> None:
        """``end()``, then wait for the server process ``pid`` to be gone: a lock it holds goes
        only when it exits, after the client has closed."""
        end()
        with psycopg.connect(db_dsn, autocommit=True) as admin:
            assert wait_for(lambda: not admin.execute(
                "SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone())  # fmt: skip

    def state() -> str:
        with psycopg.connect(db_dsn) as conn:
            row = conn.execute("SELECT state FROM queue_members WHERE uuid = %s", (member,)).fetchone()
        assert row is not None
        return str(row[0])

    try:
        d.housekeeper.beat()  # its first beat: a return like any other
        wall[0] = t0 + acd.GONE_AFTER + 1
        d.housekeeper.beat()
        assert state() == "Waiting"  # the peer is slow, its lock still held: alive

        # The outage: every connection goes (the peer's lock with it), heartbeats go silent.
        gone_with(peer.info.backend_pid, peer.close)
        with psycopg.connect(db_dsn, autocommit=True) as admin:
            pids = [r[0] for r in admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchall()]  # fmt: skip
        for pid in pids:
            gone_with(pid, lambda pid=pid: terminate(pid))
        wall[0] = t0 + 9
        with pytest.raises(psycopg.OperationalError):
            d.housekeeper.beat()  # on the connection the outage closed
        wall[0] = t0 + 9.5
        d.housekeeper.beat()  # back first: the peer's lock is gone, its heartbeat 9.5 s old
        assert d.housekeeper.judging.back_since == t0 + 9.5
        assert state() == "Waiting"

        # The peer comes back within the grace: alive, its callers kept.
        peer = psycopg.connect(db_dsn, autocommit=True)
        assert acd.hold_liveness(peer, "controller-x")
        with psycopg.connect(db_dsn, autocommit=True) as conn:
            acd.heartbeat(conn, "controller-x", t0 + 10)
        wall[0] = t0 + 9.5 + acd.GONE_AFTER
        d.housekeeper.beat()
        assert state() == "Waiting"

        # Then it dies for good: freed once its heartbeat is GONE_AFTER old.
        gone_with(peer.info.backend_pid, peer.close)
        wall[0] = t0 + 10 + acd.GONE_AFTER + 0.5
        d.housekeeper.beat()
        assert state() == "Abandoned"
    finally:
        peer.close()
        d.own.close()
