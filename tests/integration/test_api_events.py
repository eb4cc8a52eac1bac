"""The live event stream over real HTTP: each role sees what the API's rules let them see,
changes made by other processes (the CLI) arrive through PostgreSQL, a client that
reconnects with its last id gets exactly what it missed, streams are bounded apart from
the API's other requests and end when they should. test_a_callers_offer_... places a
real call through the emulator and a controller other than the API's."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from fsapps.acd.notifier import LegChanged, MemberChanged, Notifier, OfferMade, QueueFigures
from fsapps.acd.relay import Relay
from fsapps.store import api as repo
from fsapps.web.app import ApiContext
from fsapps.web.live import LiveEvents, StreamSlots
from tests.support.api import QUEUES, CallCenter, Client, populate, serve_api, static_queues
from tests.support.sse import Frame, Stream, open_stream
from tests.support.waiting import wait_for

A, G = "/api/v1/tenants/acme", "/api/v1/tenants/globex"


@dataclass
class Live:
    port: int
    cc: CallCenter
    live: LiveEvents
    ctx: ApiContext
    dsn: str

    def stream(self, role: str, path: str = A + "/events", tenant: str = "acme", **kw: Any) -> Stream:
        return open_stream(self.port, path, token=self.cc.token(role, tenant), **kw)


@contextmanager
def live_api(store: Any, db_dsn: str, *, slots: StreamSlots | None = None, heartbeat: float = 15.0,
             history: int = 10_000) -> Iterator[Live]:  # fmt: skip
    """The two-tenant call center of tests.support.api, its API's streams following a hub that
    the test publishes on (as the API's own controller would) and that hears the other
    processes through the relay."""
    cc = populate(store)

    def agent_tenants() -> dict[str, frozenset[str]]:
        with store.operator() as op:
            return repo.agent_tenants(op)

    live = LiveEvents(agent_tenants, history=history).start()
    relay = Relay(db_dsn, Notifier(), origin="the-api")
    relay.follow(live.put, resumed=live.restart)
    assert relay.listening.wait(10)
    ctx = ApiContext(store, static_queues(QUEUES), live=live, streams=slots or StreamSlots(20),
                     heartbeat=heartbeat)  # fmt: skip
    server = serve_api(ctx)
    try:
        yield Live(server.server_port, cc, live, ctx, db_dsn)
    finally:
        server.stop(timeout=2)
        relay.stop()
        live.stop()


def cli(dsn: str, *argv: str) -> None:
    """``fsapps ...`` in a process of its own."""
    env = {**os.environ, "FSAPPS_DATABASE_DSN": dsn}
    argv = (sys.executable, "-m", "fsapps.cli", *argv)
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def said(frames: list[Frame]) -> list[tuple[str, ...]]:
    """Each event, short: kind and what it is about."""
    out = []
    for f in frames:
        d = f.data
        if f.event == "agent_state":
            out.append((f.event, d["agent"], d["status"]))
        elif f.event == "offer":
            out.append((f.event, d["tenant"], d["queue"], d["agent"]))
        elif f.event == "queue":
            out.append((f.event, d["tenant"], d["queue"]))
        elif f.event in ("member", "leg"):
            out.append((f.event, d["tenant"], d["queue"], d["member"]))
        else:
            out.append((f.event,))
    return out


def test_each_role_sees_its_own_events_the_clis_too_and_resumes_without_loss(store, db_dsn) -> None:
    with live_api(store, db_dsn) as x:
        agent, sup, admin = x.stream("agent"), x.stream("supervisor"), x.stream("tenant_admin")
        reference = x.stream("agent")  # stays open: what the reconnecting stream must add up to
        globex = x.stream("tenant_admin", G + "/events", tenant="globex")
        ops = x.stream("operator", "/api/v1/events")
        # No live view for qa; another tenant's stream is not there for anyone but the operator.
        qa = x.stream("qa")
        assert (qa.status, qa.body["code"]) == (403, "forbidden")
        assert qa.headers["content-type"] == "application/json"
        other = x.stream("tenant_admin", G + "/events")
        assert (other.status, other.body["code"]) == (404, "no_such_tenant")
        assert (x.stream("tenant_admin", "/api/v1/events").status) == 403
        assert agent.headers["content-type"].startswith("text/event-stream")
        assert agent.headers["cache-control"] == "no-store"

        # Another process (the CLI) changes an agent's status in the database: no notifier
        # of this one saw it, the relay brings it.
        cli(x.dsn, "agent", "status", "acme1", "break", "--reason", "lunch")
        first = agent.until(lambda f: f.event == "agent_state")
        assert [(f.data["agent"], f.data["status"], f.data["state"]) for f in first] == [
            ("acme1", "On Break", "Waiting")
        ]
        # The rest, as this process's controller publishes them.
        m1, m2, m3 = "m-support", "m-sales", "m-globex"
        screen_pop = (("fsapps_member", m1), ("cn_balance", "42.50"), ("cn_name", "Li Lei"))
        events = [
            OfferMade("acme", "support", m1, "acme1", "leg-1", screen_pop, 1.0),
            OfferMade("acme", "sales", m2, "acme2", "leg-2", (), 1.0),
            OfferMade("globex", "support", m3, "globex1", "leg-3", (), 1.0),
            QueueFigures("acme", "support", 1, 30.0, (("Available", "Receiving", 1),), 1.0),
            QueueFigures("acme", "sales", 1, 30.0, (("Available", "Receiving", 1),), 1.0),
            # The same figures, to the second: not shown again.
            QueueFigures("acme", "sales", 1, 30.4, (("Available", "Receiving", 1),), 1.4),
            LegChanged("acme", "support", m1, "leg-1", "answered", 2.0, agent="acme1"),
            MemberChanged("acme", "support", m1, "answered", 2.0, agent="acme1", wait=3.0),
            MemberChanged("acme", "sales", m2, "abandoned", 2.0),
            MemberChanged("globex", "support", m3, "joined", 2.0),
        ]
        for e in events:
            x.live.put(e)
        offer = agent.until(lambda f: f.event == "offer")[-1]
        # The agent's offer carries the leg's variables, the lookup's screen-pop fields among them.
        assert offer.data["variables"] == dict(screen_pop)
        assert (offer.data["member"], offer.data["leg"]) == (m1, "leg-1")
        agent.close()  # the agent's console loses its connection here
        # An admin of acme changes acme1's status through the API, another acme2's: the marker
        # every acme stream ends on.
        r = Client(x.port, token=x.cc.token("tenant_admin", "acme")).request(
            "PUT", A + "/agents/acme1/status", {"status": "Available"}
        )
        assert r.status == 200, r.json
        r = Client(x.port, token=x.cc.token("tenant_admin", "globex")).request(
            "PUT", G + "/agents/globex2/status", {"status": "Available"}
        )
        assert r.status == 200, r.json

        def end(agent_id: str) -> Any:
            return lambda f: f.event == "agent_state" and (f.data["agent"], f.data["status"]) == (
                agent_id, "Available"
            )

        want_agent = [
            ("agent_state", "acme1", "On Break"),
            ("offer", "acme", "support", "acme1"),
            ("queue", "acme", "support"),  # acme1 serves support only
            ("leg", "acme", "support", m1),
            ("member", "acme", "support", m1),
            ("agent_state", "acme1", "Available"),
        ]
        assert said(reference.until(end("acme1"))) == want_agent
        # The supervisor: their group's agent (acme1) and queue (support).
        assert said(sup.until(end("acme1"))) == [
            ("agent_state", "acme1", "On Break"),
            ("offer", "acme", "support", "acme1"),
            ("queue", "acme", "support"),
            ("leg", "acme", "support", m1),
            ("member", "acme", "support", m1),
            ("agent_state", "acme1", "Available"),
        ]
        # The tenant admin: all of acme's, the unchanged figures once.
        assert said(admin.until(end("acme1"))) == [
            ("agent_state", "acme1", "On Break"),
            ("offer", "acme", "support", "acme1"),
            ("offer", "acme", "sales", "acme2"),
            ("queue", "acme", "support"),
            ("queue", "acme", "sales"),
            ("leg", "acme", "support", m1),
            ("member", "acme", "support", m1),
            ("member", "acme", "sales", m2),
            ("agent_state", "acme1", "Available"),
        ]
        # globex's admin: none of acme's.
        assert said(globex.until(end("globex2"))) == [
            ("offer", "globex", "support", "globex1"),
            ("member", "globex", "support", m3),
            ("agent_state", "globex2", "Available"),
        ]
        # The operator, across tenants: everything, once.
        assert len(ops.until(end("globex2"))) == 12

        # The agent reconnects with the last id they saw: what they missed, nothing twice.
        seen = agent.frames
        again = x.stream("agent", last_id=seen[-1].id)
        rest = again.until(end("acme1"))
        assert [f.id for f in seen + rest] == [f.id for f in reference.frames]
        assert said(seen + rest) == want_agent
        # The same with the id in the query (for clients that cannot set headers).
        by_query = x.stream("agent", A + f"/events?last_event_id={seen[0].id}")
        assert [f.id for f in by_query.until(end("acme1"))] == [f.id for f in reference.frames[1:]]
        # An id this server never gave (another process's, before a restart): reset, then on.
        stranger = x.stream("agent", last_id="1-5")
        reset = stranger.next()
        assert reset is not None and reset.event == "reset" and reset.data["last_event_id"] == "1-5"
        assert reset.id == f"{x.live.epoch}-{x.live.notifier.seq}"
        for s in (reference, sup, admin, globex, ops, again, by_query, stranger):
            s.close()


def test_streams_are_bounded_and_end_when_they_should(store, db_dsn) -> None:
    slots = StreamSlots(3, per_user=2)
    with live_api(store, db_dsn, slots=slots, heartbeat=0.2) as x:
        a1, a2 = x.stream("tenant_admin"), x.stream("tenant_admin")
        r = x.stream("tenant_admin")
        assert (r.status, r.body["code"], r.headers["retry-after"]) == (503, "too_many_streams", "5")
        ops = x.stream("operator", "/api/v1/events")
        r = x.stream("supervisor")
        assert (r.status, r.body["code"]) == (503, "too_many_streams")
        # The API's other requests are still answered.
        assert Client(x.port, token=x.cc.token("supervisor", "acme")).get(A + "/agents").status == 200

        # A client that went away is noticed at the next heartbeat: its slot is free again.
        a2.close()
        assert wait_for(lambda: slots.open == 2, timeout=5), slots.open
        sup = x.stream("supervisor")
        assert sup.status == 200 and ops.status == 200

        # A client that falls 1000 events behind is dropped: its stream ends after what it was
        # given, and it resumes from the history with nothing lost.
        members = [f"m{i}" for i in range(1001)]
        for m in members:  # on this greenlet, without yielding: nothing is written meanwhile
            x.live.publish(MemberChanged("acme", "sales", m, "joined", 1.0))
        given = a1.rest()
        assert a1.ended and len(given) == 1000
        again = x.stream("tenant_admin", last_id=given[-1].id)
        missed = again.until(lambda f: f.data["member"] == "m1000")
        assert [f.data["member"] for f in given + missed] == members

        # A token revoked while its stream is open ends the stream.
        token = Client(x.port, token=x.cc.token("tenant_admin", "acme")).request(
            "POST", A + f"/users/{x.cc.users[('acme', 'supervisor')]}/tokens", {"name": "console"}
        ).json["token"]
        console = open_stream(x.port, A + "/events", token=token)
        assert console.status == 200
        listed = Client(x.port, token=x.cc.token("tenant_admin", "acme")).get(
            A + f"/users/{x.cc.users[('acme', 'supervisor')]}/tokens"
        ).json
        newest = max(t["id"] for t in listed)
        Client(x.port, token=x.cc.token("tenant_admin", "acme")).request(
            "DELETE", A + f"/users/{x.cc.users[('acme', 'supervisor')]}/tokens/{newest}"
        )
        assert console.rest(timeout=5) == [] and console.ended
        for s in (again, ops, sup):
            s.close()


def test_resume_points() -> None:
    """Which ids resume and which reset: another epoch, a number never given, one out of the history."""
    clock = iter([1000.0, 2000.0])
    live = LiveEvents(dict, history=3, clock=lambda: next(clock))
    for i in range(5):
        live.publish(MemberChanged("acme", "q", f"m{i}", "joined", 1.0))
    notifier, epoch, seq = live.where()
    assert (epoch, seq, notifier.oldest()) == (1_000_000, 5, 3)
    point = lambda last: live.resume_point(last, notifier, epoch, seq)  # noqa: E731
    assert [point(f"1000000-{n}") for n in (2, 3, 5)] == [2, 3, 5]
    assert [point(x) for x in ("1000000-1", "1000000-6", "999-3", "1000000", "abc-1", "")] == [None] * 6
    live.restart()  # events were missed: ids of before are unknown from now on
    notifier, epoch, seq = live.where()
    assert (epoch, seq) == (2_000_000, 0)
    assert live.resume_point("1000000-5", notifier, epoch, seq) is None
    assert live.resume_point("2000000-0", notifier, epoch, seq) == 0


@pytest.mark.parametrize("size", [100, 20_000])
def test_relayed_events_come_back_whole(size: int) -> None:
    """An offer's screen pop bigger than one NOTIFY goes in fragments and comes back whole."""
    from fsapps.acd.relay import LIMIT, Assembly, payloads

    offer = OfferMade("acme", "q", "m", "a", "leg", (("cn_note", "é" * size),), 1.0)
    sent = payloads("c1", 7, offer)
    assert all(len(p.encode()) <= LIMIT for p in sent)
    assembly = Assembly()
    got = [assembly.add(p) for p in sent]
    assert got[:-1] == [None] * (len(sent) - 1) and got[-1] == ("c1", offer)


def test_a_relay_passes_on_the_others_events_and_drops_its_own_unread(caplog) -> None:
    """Its own events come back from PostgreSQL too (the notifier had them first): dropped by
    their origin before any of them is put together or parsed; the others' are delivered."""
    from fsapps.acd.notifier import Notifier
    from fsapps.acd.relay import Assembly, Relay, payloads

    relay = Relay("", Notifier(), origin="c1")
    offer = OfferMade("acme", "q", "m", "a", "leg", (("cn_note", "x" * 20_000),), 1.0)
    heard: list = []
    assembly = Assembly()
    head, _, body = payloads("c1", 1, offer)[0].partition("\n")
    own = [f"{head}\nnot json {body}", *payloads("c1", 1, offer)[1:]]  # read, it would be refused
    with caplog.at_level("WARNING", logger="fsapps.acd"):
        for p in [*own, *payloads("c11", 1, offer)]:
            relay._received(assembly, p, heard.append)
    assert heard == [offer]
    assert not caplog.records, [r.getMessage() for r in caplog.records]


def test_a_callers_offer_reaches_the_agents_stream_from_another_controller(store, tmp_path) -> None:
    """A real call: the emulator hands the caller to controller 0; the API follows controller
    1, which hears controller 0's events through PostgreSQL. cn_wang's stream shows the offer
    with the caller's screen pop, the answer, the legs and the end; cn_zhao's and another
    tenant's admin's streams show none of it."""
    from fsapps.acd.config import queue_key, queue_tiers
    from fsapps.sim.endpoints import CallerScript, Endpoint
    from fsapps.store import acd
    from fsapps.store.records import Tenant
    from fsapps.web.live import live_events
    from tests.integration.test_acd_calls import rig
    from tests.integration.test_api_calls import cablenet_queues

    with rig(store, tmp_path, controllers=2) as r:
        # Talks 3 s: every controller publishes its queues' figures each second, the hub passes
        # on only changed ones, and a shorter call could fall between two.
        r.agent("cn_wang", Endpoint(answer_after=0.5, hangup_after=3.0))
        r.agent("cn_zhao", Endpoint(answer_after=0.5), status="On Break")
        with store.operator() as op:
            op.add_tenant(Tenant("acme", "Acme", "acme.example"))
            op.add_agent("acme_li", "Li", {"acme": 1})
            acd.ensure_agent(op.conn, "acme_li")
        tokens, users = {}, {}
        with store.tenant("cablenet") as t:
            for name in ("wang", "zhao"):
                users[name] = t.add_user(name, "a-long-password", "agent").id
                tokens[name] = t.issue_token(users[name], "tests")
        with store.operator() as op:
            for name in ("wang", "zhao"):
                op.conn.execute("UPDATE agents SET user_id = %s WHERE id = %s", (users[name], f"cn_{name}"))
        with store.tenant("acme") as t:
            admin = t.add_user("acme_admin", "a-long-password", "tenant_admin")
            tokens["acme"] = t.issue_token(admin.id, "tests")
        api_side = r.controllers[1]
        live = live_events(store, api_side)
        assert api_side.relay is not None and api_side.relay.listening.wait(10)
        queues = cablenet_queues()
        server = serve_api(ApiContext(store, lambda t: queues if t == "cablenet" else {}, live=live))
        port = server.server_port
        try:
            wang = open_stream(port, "/api/v1/tenants/cablenet/events", token=tokens["wang"])
            zhao = open_stream(port, "/api/v1/tenants/cablenet/events", token=tokens["zhao"])
            acme = open_stream(port, "/api/v1/tenants/acme/events", token=tokens["acme"])
            screen_pop = {"export_vars": "cn_name,cn_balance", "cn_name": "Li Lei", "cn_balance": "42.50"}
            caller = r.switch.place_call("96171", caller_id_number="13800000001", variables=screen_pop,
                                         script=CallerScript(keypad=["1"]))  # fmt: skip
            states: list[str] = []

            def back_to_waiting(f: Frame) -> bool:
                if f.event == "agent_state":
                    states.append(f.data["state"])
                return states[-2:] == ["In a queue call", "Waiting"]

            frames = wang.until(back_to_waiting, timeout=60)
            offers = [f.data for f in frames if f.event == "offer"]
            assert len(offers) == 1, frames
            variables = offers[0]["variables"]
            assert (variables["cn_name"], variables["cn_balance"]) == ("Li Lei", "42.50")
            assert offers[0]["member"] == caller.uuid
            assert variables["origination_caller_id_number"] == "13800000001"
            assert states == ["Receiving", "In a queue call", "Waiting"]
            about = {f.data["agent"] for f in frames if f.event in ("agent_state", "offer", "leg", "member")}
            assert about == {"cn_wang"}
            # The agent's leg bridged to the caller and unbridged at the end: theirs (named so
            # though the news goes out before the visit takes the leg as its agent's).
            legs = [f.data for f in frames if f.event == "leg"]
            assert [(x["what"], x["agent"]) for x in legs] == [
                ("bridged", "cn_wang"), ("unbridged", "cn_wang"),
            ]  # fmt: skip
            # Figures of the queues whose tiers name cn_wang (here: all of cablenet's; the test
            # above shows an agent not seeing another queue's).
            served = {
                name
                for name, data in queues.items()
                if any(t.agent == "cn_wang" for t in queue_tiers(queue_key("cablenet", name), data))
            }
            # They go at least once a tick: a call shorter than that may end before they come.
            def business(f: Frame) -> bool:
                return f.event == "queue" and f.data["queue"] == "business"

            if not any(business(f) for f in frames):
                # Figures pass on only when they change: on a loaded host the call can fall
                # between two ticks. cn_wang's break changes business's, published within one.
                with store.operator() as op:
                    acd.set_status(op.conn, "cn_wang", "On Break", 0)
                frames += wang.until(business, timeout=20)
            figures = {f.data["queue"] for f in frames if f.event == "queue"}
            assert "business" in figures and figures <= served, (figures, served)
            # None of it was controller 1's own: it came through the relay.
            mine = api_side.notifier.subscribe(after=0)
            assert not [p for p in iter(lambda: mine.get(timeout=0), None) if isinstance(p.event, OfferMade)]
            mine.close()

            # Markers each of the other two streams sees, published after all of the above.
            with store.operator() as op:
                acd.set_status(op.conn, "cn_zhao", "Logged Out", 1.0)
                acd.set_status(op.conn, "acme_li", "Available", 1.0)
            # cn_zhao: the figures of the queues they serve, nothing of cn_wang's call.
            theirs = [f for f in zhao.until(lambda f: f.event == "agent_state") if f.event != "queue"]
            assert said(theirs) == [("agent_state", "cn_zhao", "Logged Out")]
            marker = acme.until(lambda f: f.event == "agent_state")
            assert said(marker) == [("agent_state", "acme_li", "Available")]
            for s in (wang, zhao, acme):
                s.close()
        finally:
            server.stop(timeout=2)
            live.stop()
