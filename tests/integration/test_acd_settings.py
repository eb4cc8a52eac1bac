"""What the README promises of queues, where callers and agents meet it: the queue settings,
the screen pop, an attended transfer whose parties hang up, /metrics, and records through a
PostgreSQL outage, on the emulator running the rendered dialplan of a tenant of its own, one
controller and PostgreSQL.

One rig serves the module: tenant ``claims`` with a queue per scenario (each with agents of
its own, ``cl_*``), each reached by an access number of its own; the flows are below.
Times are the switch's (10x speed); ``SLACK`` is how late a timed decision may come.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gevent
import psycopg
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from psycopg.conninfo import make_conninfo

from fsapps import cli
from fsapps.acd import dispatch
from fsapps.acd.config import DEFAULT_MOH
from fsapps.acd.operations import AgentOperations
from fsapps.acd.phones import PhoneCalls
from fsapps.acd.visit import announcement
from fsapps.config import EslSettings, MetricsSettings
from fsapps.controller import Controller
from fsapps.esl.client import Connection, InboundClient
from fsapps.flows.check import check
from fsapps.httpserve import metrics_server
from fsapps.sim.channel import Channel
from fsapps.sim.endpoints import CallerScript, Endpoint
from fsapps.sim.switch import Switch, SwitchConfig
from fsapps.store import acd
from fsapps.store.db import Store
from fsapps.store.migrate import migrate
from fsapps.store.records import Tenant
from fsapps.testing.freeswitch import free_port
from tests.support.controllers import load_rendered, start_controller
from tests.support.hostile import create_lookup_table
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SPEED = 10.0
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC).timestamp()
SLACK = 2.5  # a pass every switch second (TICK below) plus the controller's own latency
STOP_JITTER = 1.0  # how much sooner a hold clip may stop one time than another (0.1 s here)

QUEUES: dict[str, dict[str, Any]] = {
    "waiting": {"announce-frequency": 15, "max-wait-time": 40, "callback-key": "1", "tiers": ["cl_w1"]},
    "sticky": {"sticky-seconds": 5, "tiers": ["cl_mgr", "cl_other"]},
    "owned": {"sticky-seconds": 5, "tiers": ["cl_own", "cl_peer"]},
    "aging": {"priority-aging": 2, "tiers": ["cl_p1"]},
    "skilled": {"strategy": "skills-based", "skill-relax": [{"after": 4, "drop": 1}], "tiers": ["cl_k1"]},
    "pop": {"strategy": "top-down", "ring-timeout": 3, "tiers": ["cl_pop1", "cl_pop2"]},
    "resume": {"abandoned-resume-allowed": True, "discard-abandoned-after": 4, "tiers": ["cl_r1"]},
    # ring-timeout 12: ``fast`` must join while cl_slow still rings for ``slow`` (1.2 s of wall
    # time for its failing lookup and its join on a loaded host).
    "metered": {"service-level-seconds": 4, "ring-timeout": 12, "tiers": ["cl_slow", "cl_fast"]},
    "served": {"tiers": ["cl_o1", "cl_o3"]},
    "answered_away": {"tiers": ["cl_o4"]},
    "answered_back": {"tiers": ["cl_o5"]},
    "answered_parked": {"strategy": "ring-progressively", "tiers": ["cl_o6"]},
    "answered_gone": {"tiers": ["cl_o7"]},
    "unstaffed": {"tiers": ["cl_o2"]},
    "consult": {"tiers": ["cl_c1", {"agent": "cl_c2", "level": 2}]},
    "elsewhere": {"tiers": ["cl_e1"]},
    "music": {"moh-sound": "holdtune", "agent-no-answer-status": "Logged Out", "ring-timeout": 2,
              "tiers": ["cl_m1"]},
    "outside": {"tiers": ["cl_x1"]},
    "outside_anyway": {"skip-agents-with-external-calls": False, "tiers": ["cl_x2"]},
}


def _queue(queue: str, children: dict[str, str], **data: Any) -> dict[str, Any]:
    return {"type": "queue", "data": {"queue": queue, **data}, "children": children}


def _play(prompt: str) -> dict[str, Any]:
    return {"type": "play", "data": {"prompt": prompt}, "children": {"_": "bye"}}


BYE = {"type": "hangup"}


def _then_surveyed(queue: str) -> dict[str, Any]:
    """A flow: the queue, then the one-question survey (which names the agent)."""
    return {
        "start": _queue(queue, {"_": "rate"}),
        "rate": {"type": "survey", "data": {"questions": ["rate"]}, "children": {"_": "bye"}}, "bye": BYE,
    }


# access number -> (flow, its nodes); every flow starts at ``start``.
FLOWS: dict[str, tuple[str, dict[str, Any]]] = {
    "7001": ("waits", {
        "start": _queue("waiting", {"_": "bye", "timeout": "over", "callback": "later"}),
        "over": {"type": "play", "data": {"prompt": "over"}, "children": {"_": "cb"}},
        # After the queue: the callback node stores the queue and the caller's place in it.
        "cb": {"type": "callback", "data": {"prompt": "offer"}, "children": {"_": "bye"}},
        "later": _play("later"), "bye": BYE,
    }),
    # No timeout branch: max-wait-time takes the node's fallback.
    "7002": ("plain", {"start": _queue("waiting", {"_": "bye", "fallback": "after"}), "after": _play("after"),
                       "bye": BYE}),
    "7003": ("sticky", {
        "start": {"type": "set", "data": {"variables": {"fsapps_account_manager": "cl_mgr"}},
                  "children": {"_": "q"}},
        "q": _queue("sticky", {"_": "bye"}), "bye": BYE,
    }),
    # No flow variable: the caller's customer's account owner (the CRM's) is their manager.
    "7018": ("owned", {"start": _queue("owned", {"_": "bye"}), "bye": BYE}),
    "7004": ("aging", {"start": _queue("aging", {"_": "bye"}), "bye": BYE}),
    "7005": ("vip", {"start": _queue("aging", {"_": "bye"}, priority=3), "bye": BYE}),
    "7006": ("skilled", {"start": _queue("skilled", {"_": "bye"}, skills={"fibre": 3}), "bye": BYE}),
    "7007": ("pop", {
        "start": {"type": "lookup", "data": {"source": {"table": "claims_accounts", "column": "phone"},
                                             "key": "caller_id", "fields": ["name", "plan"], "prefix": "cl_"},
                  "children": {"found": "q", "not_found": "q", "fallback": "q"}},
        "q": _queue("pop", {"_": "bye"}), "bye": BYE,
    }),
    "7008": ("resume", {"start": _queue("resume", {"_": "bye"}), "bye": BYE}),
    # A lookup whose table does not exist: it fails, and the call goes on by its fallback.
    "7009": ("metered", {
        "start": {"type": "lookup", "data": {"source": {"table": "no_such_table", "column": "phone"},
                                             "key": "caller_id", "fields": ["name"], "prefix": "cl_",
                                             "retries": 0},
                  "children": {"found": "q", "not_found": "q", "fallback": "q"}},
        "q": _queue("metered", {"_": "bye"}), "bye": BYE,
    }),
    "7010": ("served", _then_surveyed("served")),
    "7011": ("callme", {
        "start": {"type": "callback", "data": {"prompt": "offer"}, "children": {"_": "bye"}}, "bye": BYE,
    }),
    "7019": ("answered_away", _then_surveyed("answered_away")),
    "7020": ("answered_back", _then_surveyed("answered_back")),
    "7021": ("answered_parked", _then_surveyed("answered_parked")),
    "7022": ("answered_gone", _then_surveyed("answered_gone")),
    "7012": ("unstaffed", {"start": _queue("unstaffed", {"_": "bye"}), "bye": BYE}),
    "7014": ("elsewhere", {"start": _queue("elsewhere", {"_": "bye"}), "bye": BYE}),
    "7013": ("consult", {"start": _queue("consult", {"_": "after"}), "after": _play("after"), "bye": BYE}),
    "7015": ("music", {"start": _queue("music", {"_": "bye"}), "bye": BYE}),
    "7016": ("outside", {"start": _queue("outside", {"_": "bye"}), "bye": BYE}),
    "7017": ("outside_anyway", {"start": _queue("outside_anyway", {"_": "bye"}), "bye": BYE}),
}  # fmt: skip
PROMPTS = {
    "over": "All our agents are still busy.",
    "later": "We will call you back.",
    "after": "Please call again later.",
    "offer": "Press 1 to be called back.",
    "holdtune": "Claims hold music.",
    # Long enough to stop PostgreSQL while the caller hears it (about 30 switch seconds).
    "rate": "How would you rate the service you had today? " * 8 + "Press one to five.",
}


def _write_dialplan(root: Path) -> Path:
    """Tenant ``claims``, and ``ghost``, whose flows are checked but who was never added to the
    database (``fsapps tenant add``): PostgreSQL refuses its records. YAML is read from JSON."""
    claims = {
        "id": "claims", "name": "Claims", "domain": "claims.example", "timezone": "UTC", "language": "en",
        "access_numbers": {n: flow for n, (flow, _) in FLOWS.items()},
        "prompts": {name: {"text": text} for name, text in PROMPTS.items()}, "queues": QUEUES,
    }  # fmt: skip
    ghost = {
        "id": "ghost", "name": "Ghost", "domain": "ghost.example", "timezone": "UTC", "language": "en",
        "access_numbers": {"7099": "main"}, "prompts": {"rate": {"text": "Rate us."}},
    }  # fmt: skip
    for tenant, flows in ((claims, {f: n for f, n in FLOWS.values()}), (ghost, {"main": {
        "start": {"type": "survey", "data": {"questions": ["rate"]}, "children": {"_": "bye"}}, "bye": BYE,
    }})):  # fmt: skip
        d = root / tenant["id"]
        (d / "flows").mkdir(parents=True)
        (d / "tenant.yaml").write_text(json.dumps(tenant, indent=1))
        for name, nodes in flows.items():
            (d / "flows" / f"{name}.yaml").write_text(
                json.dumps({"start": "start", "nodes": nodes}, indent=1)
            )
    (root / "operator.yaml").write_text("tts: {engine: flite, voice: slt}\n")
    return root


@dataclasses.dataclass(frozen=True)
class Ring:
    at: float  # switch time the agent's leg was created
    agent: str
    member: str  # the caller's channel
    leg: str
    shown: str = ""  # the caller ID the phone shows


@dataclasses.dataclass
class Phone(Endpoint):
    """An agent's phone that notes each call it rings with."""

    agent: str = ""
    rig: Any = None

    def attach(self, ch: Channel) -> None:
        self.rig.rings.append(Ring(self.rig.switch.clock.now(), self.agent, ch.get_var("fsapps_member") or "",
                                   ch.uuid, ch.get_var("caller_id_number") or ""))  # fmt: skip
        super().attach(ch)


@dataclasses.dataclass
class Rig:
    switch: Switch
    controller: Controller
    store: Store
    dsn: str
    tmp: Path
    rings: list[Ring] = dataclasses.field(default_factory=list)

    def agent(self, agent_id: str, answer_after: float | None = 0.3, talk: float | None = 1.0,
              status: str = "Available", **settings: Any) -> None:  # fmt: skip
        with self.store.operator() as op:
            op.add_agent(agent_id, agent_id, {"claims": 1}, f"sofia/external/{agent_id}@127.0.0.1:5080")
            acd.ensure_agent(op.conn, agent_id, **settings)
            acd.set_status(op.conn, agent_id, status, START - 1000)
        self.switch.register_user(
            agent_id, Phone(answer_after=answer_after, hangup_after=talk, agent=agent_id, rig=self)
        )

    def set_status(self, agent_id: str, status: str) -> None:
        with self.store.operator() as op:
            acd.set_status(op.conn, agent_id, status, self.switch.clock.now())

    def call(self, number: str, caller: str, **script: Any) -> Channel:
        return self.switch.place_call(number, caller_id_number=caller, script=CallerScript(**script))

    def joined(self, ch: Channel) -> float:
        """When the caller joined their queue (their place), once they have."""

        def row() -> float | None:
            with self.store.operator() as op:
                got = op._one("SELECT joined_epoch FROM queue_members WHERE uuid = %s", (ch.uuid,))
            return None if got is None else float(got["joined_epoch"])

        found = wait_for(row)
        assert found is not None, "\n".join(self.switch.call_log(ch.uuid)[-20:])
        return found

    def member_state(self, uuid: str) -> str | None:
        with self.store.operator() as op:
            got = op._one("SELECT state FROM queue_members WHERE uuid = %s", (uuid,))
        return None if got is None else str(got["state"])

    def queue_call(self, ch: Channel) -> dict[str, Any]:
        def row() -> dict[str, Any] | None:
            with self.store.tenant("claims") as t:
                got = t._all("SELECT * FROM queue_calls WHERE call_uuid = %s", (ch.uuid,))
            return got[0] if got else None

        found = wait_for(row)
        assert found is not None, "\n".join(self.switch.call_log(ch.uuid)[-20:])
        return found

    def done(self, *calls: Channel, timeout: float = 30) -> None:
        for ch in calls:
            assert ch.destroyed.wait(timeout), "\n".join(self.switch.call_log(ch.uuid)[-20:])

    def rung(self, agent: str) -> list[Ring]:
        return [r for r in self.rings if r.agent == agent]

    def until(self, at: float) -> None:
        """Wait for the switch's clock to reach ``at``."""
        assert wait_for(lambda: self.switch.clock.now() >= at, timeout=60)

    def leg_variables(self, leg: str) -> dict[str, str]:
        ch = self.switch.channels.get(leg)
        return dict(ch.variables) if ch is not None else dict(self.switch.history[leg].variables)

    def heard(self, ch: Channel) -> list[tuple[float, str]]:
        """What the caller heard played, with the switch time each began."""
        live = self.switch.channels.get(ch.uuid)
        log = live.log if live is not None else self.switch.history[ch.uuid].log
        return [(at, text) for at, text in log if text.startswith("playback(")]


@pytest.fixture(scope="module")
def rig(pg_server, tmp_path_factory) -> Iterator[Rig]:
    tmp = tmp_path_factory.mktemp("settings")
    with psycopg.connect(pg_server.dsn, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS acd_settings")
        conn.execute("CREATE DATABASE acd_settings")
    dsn = make_conninfo(pg_server.dsn, dbname="acd_settings")
    migrate(dsn)
    store = Store(dsn, max_size=30).open()
    with store.operator() as op:
        op.add_tenant(Tenant("claims", "Claims", "claims.example"))
        create_lookup_table(op.conn, "phone text, name text, plan text", table="claims_accounts")
        op.conn.execute(
            "INSERT INTO lookup.claims_accounts VALUES ('claims', '15550301', 'Ada Lovelace', 'gold')"
        )
    project = check(_write_dialplan(tmp / "dialplan"))
    assert project.problems == []
    switch = Switch(SwitchConfig(speed=SPEED, start=START)).start()
    # A pass every switch second when nothing happens (1 s at this speed would be 10).
    patch = pytest.MonkeyPatch()
    patch.setattr(dispatch, "TICK", 1.0 / SPEED)
    controller: Controller | None = None
    try:
        # With the switch's Event Socket, as deployed: the agents' phones' calls come from it.
        esl = EslSettings("127.0.0.1", switch.port, switch.password)
        controller = start_controller(project, store, switch.clock, tmp / "c0", esl=esl)
        load_rendered(switch, project, [controller], tmp / "conf")
        assert controller.client is not None and controller.client.wait_connected(10)
        yield Rig(switch, controller, store, dsn, tmp)
    finally:
        if controller is not None:
            controller.stop(grace=1.0)
        switch.stop()
        store.close()
        patch.undo()


# --- waiting: announce-frequency, max-wait-time, callback-key -------------------------------


def test_waiting_callers_hear_their_place_and_leave_by_max_wait_time_or_the_callback_key(rig, capsys):
    """Queue ``waiting``: announce-frequency 15, max-wait-time 40, callback-key 1; its only
    agent is On Break. Four callers join one after another: ``over`` and ``plain`` wait until
    max-wait-time (the node with a timeout branch overflows there; the one without times out
    and takes its fallback); ``first`` and ``second`` press 1, ``second`` first. ``over``
    then asks to be called back at the flow's callback node."""
    rig.agent("cl_w1", status="On Break")
    over = rig.call("7001", "15550101", keypad=["1"])
    j_over = rig.joined(over)
    plain = rig.call("7002", "15550102")
    j_plain = rig.joined(plain)
    first = rig.call("7001", "15550103")
    j_first = rig.joined(first)
    second = rig.call("7001", "15550104")
    j_second = rig.joined(second)
    rig.until(j_second + 3)
    second.queue_dtmf("1")
    rig.done(second)
    first.queue_dtmf("1")
    rig.done(first, over, plain, timeout=60)

    # The timeout: the branch there, or the fallback; overflowed or timed_out, after 40 s.
    for ch, joined, outcome, went_on in ((over, j_over, "overflowed", "All our agents are still busy."),
                                         (plain, j_plain, "timed_out", "Please call again later.")):  # fmt: skip
        row = rig.queue_call(ch)
        assert (row["outcome"], row["agent_id"]) == (outcome, None)
        assert row["joined_at"].timestamp() == pytest.approx(joined, abs=0.01)
        assert 40 <= float(row["wait_seconds"]) < 40 + SLACK, row
        assert any(went_on in text for _, text in rig.heard(ch)), rig.switch.call_log(ch.uuid)

    # The queue node's own record: the branch taken, or no branch (the fallback).
    def node_outcomes() -> list[tuple[str, str]]:
        with rig.store.tenant("claims") as t:
            got = t._all(
                "SELECT call_uuid, outcome FROM usage_records WHERE call_uuid = ANY(%s)"
                " AND resource_id LIKE '%%.start'",
                ([over.uuid, plain.uuid],),
            )
        return sorted((str(n["call_uuid"]), n["outcome"]) for n in got)

    expected = sorted([(over.uuid, "timeout"), (plain.uuid, "fallback")])
    assert wait_for(lambda: node_outcomes() == expected), node_outcomes()

    # On joining, then every 15 s: each caller's position and expected wait (no call handled
    # yet: 180 s a call; one agent listed).
    for ch, joined, position in ((over, j_over, 1), (plain, j_plain, 2)):
        said = [(at, text) for at, text in rig.heard(ch) if "You are number" in text]
        assert [text for _, text in said] == [
            f"playback(say:{announcement('en', position, 180 * position)})"
        ] * 3
        assert said[0][0] - joined < SLACK, (joined, said)
        # Announcements are decided 15 s apart; each plays once the hold clip has stopped,
        # which takes a little longer one time than another (STOP_JITTER).
        gaps = [b - a for (a, _), (b, _) in itertools.pairwise(said)]
        assert all(15 - STOP_JITTER <= g < 15 + SLACK for g in gaps), gaps

    # The callback key: the callback branch, and a request that keeps the caller's place.
    for ch, joined in ((first, j_first), (second, j_second)):
        row = rig.queue_call(ch)
        assert row["outcome"] == "callback" and row["joined_at"].timestamp() == pytest.approx(
            joined, abs=0.01
        )
        assert any("We will call you back." in text for _, text in rig.heard(ch))
    config = rig.tmp / "fsapps.yaml"
    config.write_text(f"database: {{dsn: '{rig.dsn}'}}\n")
    capsys.readouterr()
    assert wait_for(lambda: cli.main(["callbacks", "--tenant", "claims", "--config", str(config)]) == 0
                    and len(capsys.readouterr().out.splitlines()) == 3)  # fmt: skip
    assert cli.main(["callbacks", "--tenant", "claims", "--config", str(config)]) == 0
    listed = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    # Oldest place first, whenever they asked: ``over`` asked last, 40 s on, and ``first``
    # after ``second``.
    assert [(n, q, datetime.fromisoformat(place).timestamp()) for n, q, place, _ in listed] == [
        ("15550101", "waiting", pytest.approx(j_over, abs=0.01)),
        ("15550103", "waiting", pytest.approx(j_first, abs=0.01)),
        ("15550104", "waiting", pytest.approx(j_second, abs=0.01)),
    ]
    asked = [datetime.fromisoformat(a) for *_, a in listed]
    assert asked[0] > asked[1] > asked[2]


# --- routing: sticky-seconds, priority-aging, skill-relax -----------------------------------


def test_the_account_manager_first_priority_as_a_head_start_and_skills_that_relax(rig):
    # sticky-seconds 5: the caller's account manager (set by the flow) is rung first, though
    # cl_other has been idle longer; while the manager is away, the caller waits 5 s for them.
    rig.agent("cl_mgr")
    rig.agent("cl_other")
    with rig.store.operator() as op:
        op.conn.execute(
            "UPDATE agent_state SET last_bridge_end = %s WHERE agent_id = 'cl_mgr'", (START - 10,)
        )
    managed = rig.call("7003", "15550201")
    rig.done(managed)
    assert [r.member for r in rig.rung("cl_mgr")] == [managed.uuid] and rig.rung("cl_other") == []
    rig.set_status("cl_mgr", "On Break")
    waits = rig.call("7003", "15550202")
    joined = rig.joined(waits)
    rig.done(waits)
    (ring,) = rig.rung("cl_other")
    assert ring.member == waits.uuid and 5 <= ring.at - joined < 5 + SLACK, ring.at - joined

    # priority-aging 2: a caller of priority 3 is served as if they had waited 6 s longer.
    # ``low`` (priority 0) joins first; ``soon`` (3) 3 s later, ``late`` (3) 8 s later:
    # ``soon`` goes first, then ``low``, then ``late`` (first come: low, soon, late;
    # priority alone: soon, late, low).
    rig.agent("cl_p1", talk=0.5, status="On Break")
    low = rig.call("7004", "15550211")
    j_low = rig.joined(low)
    rig.until(j_low + 3)
    soon = rig.call("7005", "15550212")
    rig.until(j_low + 8)
    late = rig.call("7005", "15550213")
    places = {ch.uuid: rig.joined(ch) for ch in (low, soon, late)}
    rig.set_status("cl_p1", "Available")
    rig.done(low, soon, late, timeout=60)
    served = [r.member for r in rig.rung("cl_p1")]
    head_start = {low.uuid: 0, soon.uuid: 3 * 2, late.uuid: 3 * 2}
    assert served == sorted(places, key=lambda u: places[u] - head_start[u]), places
    assert served == [soon.uuid, low.uuid, late.uuid], places

    # skill-relax after 4 s, 1 level: the caller needs fibre 3, the agent has 2.
    rig.agent("cl_k1")
    with rig.store.operator() as op:
        op.conn.execute(
            "UPDATE agent_state SET skills = %s WHERE agent_id = 'cl_k1'", (json.dumps({"fibre": 2}),)
        )
    skilled = rig.call("7006", "15550221")
    joined = rig.joined(skilled)
    rig.done(skilled)
    (ring,) = rig.rung("cl_k1")
    assert 4 <= ring.at - joined < 4 + SLACK, ring.at - joined
    assert rig.queue_call(skilled)["outcome"] == "answered"


def test_a_customers_account_owner_is_rung_first_with_no_flow_variable(rig):
    # Queue ``owned`` (sticky-seconds 5; its flow sets no fsapps_account_manager): cl_peer has
    # been idle longer than cl_own, so longest-idle-agent would ring cl_peer first.
    from fsapps.store import customers

    rig.agent("cl_own")
    rig.agent("cl_peer")
    with rig.store.operator() as op:
        op.conn.execute("UPDATE agent_state SET last_bridge_end = %s WHERE agent_id = 'cl_own'", (START - 10,))
    with rig.store.tenant("claims") as t:
        customers.create(t, {"name": "Ada", "company": "", "tags": [], "custom_fields": {},
                             "numbers": ["15550601", "15550602"], "owner_agent": "cl_own"})  # fmt: skip
    # The customer calls: their owner is rung, and nobody else.
    owned = rig.call("7018", "15550601")
    rig.done(owned)
    assert [r.member for r in rig.rung("cl_own")] == [owned.uuid] and rig.rung("cl_peer") == []
    # A caller who is nobody's customer: the usual order (the longest idle, cl_peer).
    with rig.store.operator() as op:
        op.conn.execute("UPDATE agent_state SET last_bridge_end = %s WHERE agent_id = 'cl_own'", (START - 10,))
    stranger = rig.call("7018", "15550699")
    rig.done(stranger)
    assert [r.member for r in rig.rung("cl_peer")] == [stranger.uuid]
    assert [r.member for r in rig.rung("cl_own")] == [owned.uuid]
    # The owner is on a break: the customer (from their other number) waits sticky-seconds for
    # them, then goes to the others.
    rig.set_status("cl_own", "On Break")
    waits = rig.call("7018", "15550602")
    joined = rig.joined(waits)
    rig.done(waits)
    ring = rig.rung("cl_peer")[-1]
    assert ring.member == waits.uuid and 5 <= ring.at - joined < 5 + SLACK, ring.at - joined
    assert [r.member for r in rig.rung("cl_own")] == [owned.uuid]


# --- the screen pop; discard-abandoned-after --------------------------------------------------


def test_the_agents_phone_rings_with_the_looked_up_record_and_the_wait(rig):
    """Queue ``pop`` (top-down, ring-timeout 3): cl_pop1 does not answer, cl_pop2 does. The
    caller's record was looked up by their number before the queue."""
    rig.agent("cl_pop1", answer_after=None)
    rig.agent("cl_pop2")
    ch = rig.call("7007", "15550301")
    joined = rig.joined(ch)
    rig.done(ch)
    assert rig.queue_call(ch)["agent_id"] == "cl_pop2"
    (missed,) = rig.rung("cl_pop1")
    (answered,) = rig.rung("cl_pop2")
    for ring in (missed, answered):
        assert ring.shown == "15550301"
        pop = rig.leg_variables(ring.leg)
        assert (pop.get("cl_name"), pop.get("cl_plan")) == ("Ada Lovelace", "gold")
        assert (pop.get("fsapps_tenant"), pop.get("fsapps_queue"), pop.get("fsapps_member")) == (
            "claims", "pop", ch.uuid)  # fmt: skip
        # Whole seconds waited when the phone rang.
        assert 0 <= ring.at - joined - int(pop["fsapps_queue_wait"]) < 1 + 0.5, (ring.at - joined, pop)
    assert int(rig.leg_variables(answered.leg)["fsapps_queue_wait"]) >= 3


def test_an_abandoned_place_is_kept_until_discard_abandoned_after(rig):
    """Queue ``resume``: abandoned-resume-allowed, discard-abandoned-after 4; nobody serves it."""
    rig.agent("cl_r1", status="On Break")
    first = rig.call("7008", "15550401")
    place = rig.joined(first)
    first.hangup()
    assert wait_for(lambda: rig.member_state(first.uuid) == "Abandoned")
    # Back within 4 s: the same place.
    again = rig.call("7008", "15550401")
    assert rig.joined(again) == place
    assert rig.member_state(first.uuid) is None
    again.hangup()
    assert wait_for(lambda: rig.member_state(again.uuid) == "Abandoned")
    rig.until(rig.switch.clock.now() + 4 + SLACK)
    # Past it: a place of their own, and the old one is discarded.
    late = rig.call("7008", "15550401")
    assert rig.joined(late) > place + 4
    assert wait_for(lambda: rig.member_state(again.uuid) is None), rig.member_state(again.uuid)
    late.hangup()
    rig.done(first, again, late)
    outcomes = [rig.queue_call(ch)["outcome"] for ch in (first, again, late)]
    assert outcomes == ["abandoned"] * 3


# --- moh-sound, agent-no-answer-status -------------------------------------------------------


def test_a_waiting_caller_hears_the_queues_moh_sound_and_an_unanswering_agent_takes_its_status(rig):
    """Queue ``music``: moh-sound ``holdtune`` (a prompt of the tenant), agent-no-answer-status
    Logged Out, ring-timeout 2. Its only agent, cl_m1 (max-no-answer 1), lets the phone ring:
    after that one no-answer they are Logged Out (not On Break, the default), and the caller
    keeps waiting to the queue's own music, never the default chime. Calling back at once, they
    do not get their place back: abandoned-resume-allowed is false unless set."""
    rig.agent("cl_m1", answer_after=None, max_no_answer=1)
    ch = rig.call("7015", "15550501", hangup_after=15)
    place = rig.joined(ch)

    def status() -> str:
        with rig.store.operator() as op:
            got = op._one("SELECT status FROM agent_state WHERE agent_id = 'cl_m1'")
        assert got is not None
        return str(got["status"])

    assert wait_for(lambda: status() == "Logged Out", timeout=30), status()
    rig.done(ch)
    assert len(rig.rung("cl_m1")) == 1  # logged out: never rung again
    assert rig.queue_call(ch)["outcome"] == "abandoned"
    heard = [text for _, text in rig.heard(ch)]
    clips = [t for t in heard if t == f"playback(say:{PROMPTS['holdtune']})"]
    assert len(clips) >= 2, heard  # in short clips, again after the ring
    assert not any(DEFAULT_MOH in t for t in heard), heard
    # abandoned-resume-allowed is not set: mod_callcenter's default, false. The caller who
    # hung up calls straight back and gets a new place (test_an_abandoned_place_... shows
    # the same call keeping it where resume is allowed).
    again = rig.call("7015", "15550501", hangup_after=1)
    assert rig.joined(again) > place + 15
    rig.done(again)


# --- skip-agents-with-external-calls ----------------------------------------------------------


def test_an_agent_whose_phone_is_on_another_call_is_skipped_until_it_ends(rig):
    """Queue ``outside`` (skip-agents-with-external-calls unset: true, as mod_callcenter):
    cl_x1 is Available, but a colleague rings their phone straight from the switch (no
    queue). A caller waits there while that call lasts, pass after pass, and is offered to
    cl_x1 once it ends. Queue ``outside_anyway`` sets it false: cl_x2, on such a call too,
    is rung for its caller at once."""
    rig.agent("cl_x1", talk=None)
    rig.agent("cl_x2", talk=None)
    colleague = {}
    for agent_id in ("cl_x1", "cl_x2"):
        reply = rig.switch.api("originate", f"sofia/external/{agent_id}@127.0.0.1:5080 &park()")
        assert reply.startswith("+OK "), reply
        colleague[agent_id] = reply.split()[1]
    # A controller connecting now finds those calls in the switch's channels (show channels).
    late = InboundClient("127.0.0.1", rig.switch.port, rig.switch.password)
    seeded = PhoneCalls(late)
    late.start()
    try:
        assert wait_for(lambda: seeded.calls("sofia/external/cl_x1@127.0.0.1:5080") == 1), seeded.channels
    finally:
        late.stop()
    waits = rig.call("7016", "15550601", hangup_after=40)
    anyway = rig.call("7017", "15550602", hangup_after=40)
    rig.joined(waits)
    rig.joined(anyway)
    assert wait_for(lambda: [r.member for r in rig.rung("cl_x2")] == ["", anyway.uuid]), rig.rung("cl_x2")
    dispatcher = rig.controller.dispatcher
    assert dispatcher is not None
    passes = dispatcher.passes
    assert wait_for(lambda: dispatcher.passes >= passes + 5)  # five looks at the waiting caller
    assert [r.member for r in rig.rung("cl_x1")] == [""]  # the colleague's call alone
    assert rig.member_state(waits.uuid) == "Waiting"
    hung_up_at = rig.switch.clock.now()
    assert rig.switch.api("uuid_kill", colleague["cl_x1"]).startswith("+OK")
    assert wait_for(lambda: [r.member for r in rig.rung("cl_x1")] == ["", waits.uuid]), rig.rung("cl_x1")
    assert rig.rung("cl_x1")[1].at - hung_up_at < SLACK  # offered once the call has ended
    assert wait_for(lambda: rig.member_state(waits.uuid) == "Answered")
    for ch in (waits, anyway):
        ch.hangup()
    rig.switch.api("uuid_kill", colleague["cl_x2"])
    rig.done(waits, anyway)
    assert [rig.queue_call(ch)["outcome"] for ch in (waits, anyway)] == ["answered", "answered"]


# --- an attended transfer: the consulted party hangs up, then the agent --------------------


def test_a_consult_whose_party_hangs_up_returns_the_caller_and_one_the_agent_leaves_completes(rig):
    """Queue ``consult``: cl_c1 answers and consults cl_c2, who hangs up: the caller is back
    with cl_c1. cl_c1 consults an outside number (``cl_ext9``) and hangs up: the transfer
    completes, the caller talks to cl_ext9; cl_c1's talk time ends there."""
    rig.agent("cl_c1", talk=None)
    rig.agent("cl_c2", talk=None, status="On Break")
    rig.switch.register_user("cl_ext9", Endpoint(answer_after=0.3))
    conn = Connection("127.0.0.1", rig.switch.port, rig.switch.password)
    conn.connect()
    ops = AgentOperations(rig.store, conn.api, now=rig.switch.clock.now)
    caller = rig.call("7013", "15550701")
    assert wait_for(lambda: rig.rung("cl_c1"))
    (ring,) = rig.rung("cl_c1")
    ch = rig.switch.channels[caller.uuid]

    def bridged_to(uuid: str) -> bool:
        return ch.bridged_to is not None and ch.bridged_to.uuid == uuid

    def agent_row(agent_id: str) -> dict[str, Any]:
        with rig.store.operator() as op:
            got = op._one("SELECT * FROM agent_state WHERE agent_id = %s", (agent_id,))
        assert got is not None
        return dict(got)

    assert wait_for(lambda: bridged_to(ring.leg))
    # The agent consults once their call is theirs (the operation refuses one still ringing).
    assert wait_for(lambda: agent_row("cl_c1")["state"] == "In a queue call")
    held = len(rig.heard(caller))
    consulted = ops.consult("cl_c1", to_agent="cl_c2")
    assert wait_for(lambda: ch.bridged_to is None and len(rig.heard(caller)) > held), rig.switch.call_log(
        caller.uuid
    )[-20:]
    assert wait_for(lambda: rig.switch.channels[consulted].bridged_to is not None)
    assert rig.switch.channels[consulted].bridged_to.uuid == ring.leg
    # The consulted party hangs up: the caller is back with the agent, still on their call.
    rig.switch.channels[consulted].hangup("NORMAL_CLEARING")
    assert wait_for(lambda: bridged_to(ring.leg), timeout=15), rig.switch.call_log(caller.uuid)[-20:]
    assert agent_row("cl_c1")["state"] == "In a queue call"
    assert agent_row("cl_c2")["state"] == "Waiting"

    # The agent hangs up during the next consult: the transfer completes.
    outside = ops.consult("cl_c1", dial="sofia/external/cl_ext9@127.0.0.1:5080")
    assert wait_for(lambda: ch.bridged_to is None)
    assert wait_for(
        lambda: outside in rig.switch.channels and rig.switch.channels[outside].bridged_to is not None
    )
    rig.switch.channels[ring.leg].hangup("NORMAL_CLEARING")
    left = rig.switch.clock.now()
    assert wait_for(lambda: bridged_to(outside), timeout=15), rig.switch.call_log(caller.uuid)[-20:]
    c1 = wait_for(lambda: (row := agent_row("cl_c1"))["state"] == "Waiting" and row)
    assert (c1["calls_answered"], c1["agent_leg"], c1["offered_member"]) == (1, None, None)
    row = rig.queue_call(caller)
    assert (row["outcome"], row["agent_id"]) == ("answered", "cl_c1")
    # From the answer (the ring plus cl_c1's 0.3 s) to cl_c1's hangup, both consults included.
    assert left - ring.at - 0.3 - 1 < float(row["talk_seconds"]) < left - ring.at + 1, (left - ring.at, row)
    rig.switch.channels[outside].hangup("NORMAL_CLEARING")
    rig.done(caller)


# --- /metrics ---------------------------------------------------------------------------------


def readme_metrics() -> dict[str, set[str]]:
    """Every metric the README names, with the labels it gives it: the ``fsapps_*`` names of
    each paragraph (or list item) that mentions ``/metrics``; labels written after a name
    (``{status,state}``) and those a paragraph gives all of its metrics ("all by tenant and
    queue")."""
    out: dict[str, set[str]] = {}
    for block in re.split(r"\n\s*\n|\n(?=\s*- )", README):
        if "`/metrics`" not in block:
            continue
        common = re.search(r"all by ([a-z_]+(?:(?:, | and )[a-z_]+)*)", block)
        shared = set(re.split(r", | and ", common.group(1))) if common else set()
        for name, labels in re.findall(r"`(fsapps_[a-z_]+)(?:\{([a-z_,]*)\})?`", block):
            out.setdefault(name, set()).update({*filter(None, labels.split(",")), *shared})
    return out


def scrape(port: int) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_readme_metric_extraction_sees_every_counter_and_histogram_it_names() -> None:
    """A metric named outside a paragraph about /metrics would escape the test below."""
    named = readme_metrics()
    assert {"fsapps_acd_agents", "fsapps_ivr_sessions_total", "fsapps_records_quarantined_total"} <= set(
        named
    )
    assert named["fsapps_acd_agents"] >= {"tenant", "queue", "status", "state"}
    everywhere = set(re.findall(r"\b(fsapps_[a-z_]+_(?:total|seconds))\b", README))
    assert everywhere <= set(named), everywhere - set(named)


def test_every_metric_the_readme_names_is_served_with_its_labels_and_counts_the_calls(rig) -> None:
    """Queue ``metered`` (service-level-seconds 4, ring-timeout 12), after a lookup that fails.
    ``slow`` rings cl_slow, who does not answer (then On Break: max-no-answer 1), and waits
    for cl_fast, who talks 20 s with ``fast``; ``gone`` hangs up while waiting. A caller of
    ``ghost``, a tenant PostgreSQL does not have, answers a survey: its records are refused.
    Meanwhile ``aside`` waits in another queue on the same controller: the gauges of
    ``metered`` follow it all the same."""
    server = metrics_server(MetricsSettings(port=free_port()))
    server.start()
    rig.agent("cl_e1", status="On Break")
    aside = rig.call("7014", "15550509")
    rig.joined(aside)
    try:
        port = server.server_port
        before = scrape(port)
        rig.agent("cl_slow", answer_after=None, max_no_answer=1)
        # cl_fast talks longer than slow's ring (12 s), so it is busy until gone has hung up.
        rig.agent("cl_fast", talk=20.0)
        slow = rig.call("7009", "15550501")
        assert wait_for(lambda: rig.rung("cl_slow"))
        fast = rig.call("7009", "15550502")
        # cl_fast is rung for fast; were slow's ring over first, cl_fast would be rung for slow.
        assert wait_for(lambda: rig.rung("cl_fast"))
        assert [r.member for r in rig.rung("cl_fast")] == [fast.uuid], (rig.rings, slow.uuid)
        gone = rig.call("7009", "15550503")
        rig.joined(gone)

        def gauge(name: str, **labels: str) -> float | None:
            key = frozenset({"tenant": "claims", "queue": "metered", **labels}.items())
            return scrape(port).get((name, key))

        # slow (ringing, then waiting) and gone wait; fast talks.
        assert wait_for(lambda: gauge("fsapps_acd_callers_waiting") == 2)
        assert wait_for(lambda: (gauge("fsapps_acd_longest_wait_seconds") or 0) >= 2)
        gone.hangup()
        ghost = rig.call("7099", "15550504", keypad=["3"])
        rig.done(slow, fast, gone, ghost, timeout=60)
        rows = {ch.uuid: rig.queue_call(ch) for ch in (slow, fast, gone)}
        assert wait_for(lambda: rig.controller.writer.quarantined >= 3)
        # The gauges follow the queue once nobody is left in it (a pass every tick).
        assert wait_for(lambda: gauge("fsapps_acd_agents", status="Available", state="Waiting") == 1)
        after = scrape(port)
    finally:
        server.stop()
        aside.hangup()

    names = readme_metrics()
    for name, labels in names.items():
        served = [dict(key) for (sample, key) in after if sample in (name, f"{name}_count")]
        assert served, f"{name}: not on /metrics"
        assert all(labels <= set(s) for s in served), (name, labels, served)

    def delta(name: str, **labels: str) -> float:
        key = (name, frozenset(labels.items()))
        return after.get(key, 0.0) - before.get(key, 0.0)

    q = {"tenant": "claims", "queue": "metered"}
    answered = [r for r in rows.values() if r["outcome"] == "answered"]
    assert [rows[ch.uuid]["outcome"] for ch in (slow, fast, gone)] == ["answered", "answered", "abandoned"]
    assert [r["offers"] for r in rows.values()] == [2, 1, 0]
    # Ringing: slow's unanswered ring-timeout (12 s) and cl_fast's 0.3 s; fast's 0.3 s.
    rang = [float(rows[ch.uuid]["ring_seconds"]) for ch in (slow, fast, gone)]
    assert 12.3 <= rang[0] < 12.3 + SLACK and 0.3 <= rang[1] < 0.3 + SLACK and rang[2] == 0, rang
    assert delta("fsapps_acd_offers_total", **q) == 3
    assert delta("fsapps_acd_calls_total", **q, outcome="answered") == 2
    assert delta("fsapps_acd_calls_total", **q, outcome="abandoned") == 1
    # Within service-level-seconds: fast (at once), not slow (after fast's call).
    assert [float(r["wait_seconds"]) <= 4 for r in answered] == [False, True], answered
    assert delta("fsapps_acd_answered_within_service_level_total", **q) == 1
    assert delta("fsapps_acd_wait_seconds_count", **q, outcome="answered") == 2
    assert delta("fsapps_acd_wait_seconds_sum", **q, outcome="answered") == pytest.approx(
        sum(float(r["wait_seconds"]) for r in answered), abs=0.01)  # fmt: skip
    assert delta("fsapps_acd_wait_seconds_count", **q, outcome="abandoned") == 1
    assert delta("fsapps_acd_handle_seconds_count", **q) == 2
    assert delta("fsapps_acd_handle_seconds_sum", **q) == pytest.approx(
        sum(float(r["talk_seconds"]) + float(r["wrap_up_seconds"]) for r in answered), abs=0.01)  # fmt: skip
    assert after[("fsapps_acd_callers_waiting", frozenset(q.items()))] == 0
    assert after[("fsapps_acd_longest_wait_seconds", frozenset(q.items()))] == 0
    agents = {(dict(k)["status"], dict(k)["state"]): v for (n, k), v in after.items()
              if n == "fsapps_acd_agents" and {**dict(k), **q} == dict(k) and v}  # fmt: skip
    assert agents == {("On Break", "Waiting"): 1, ("Available", "Waiting"): 1}
    # Every node the controller ran, by its outcome; the lookup failed each time.
    node = {"tenant": "claims", "flow": "metered"}
    assert delta("fsapps_ivr_sessions_total", **node, node="start", outcome="fallback") == 3
    assert delta("fsapps_ivr_sessions_total", **node, node="q", outcome="_") == 2
    assert delta("fsapps_ivr_sessions_total", **node, node="q", outcome="caller_hung_up") == 1
    assert delta("fsapps_ivr_sessions_total", tenant="ghost", flow="main", node="start", outcome="_") == 1
    assert delta("fsapps_lookup_seconds_count", tenant="claims", source="table") == 3
    assert delta("fsapps_lookup_errors_total", tenant="claims", source="table", error="database") == 3
    # Each of ghost's records once, refused by a constraint (class 23: no such tenant): its
    # survey answer and usage record, and the CDR of its call (from the switch's events).
    quarantined = {(dict(k)["kind"], dict(k)["reason"]): v - before.get((n, k), 0.0) for (n, k), v in after.items()
                   if n == "fsapps_records_quarantined_total"}  # fmt: skip
    assert {k: v for k, v in quarantined.items() if v} == {("survey", "23"): 1, ("usage", "23"): 1,
                                                          ("cdr", "23"): 1}, (  # fmt: skip
        quarantined
    )


# --- a PostgreSQL outage ----------------------------------------------------------------------


def test_queue_calls_callback_requests_and_survey_answers_outlive_a_postgresql_outage(rig, pg_server):
    """PostgreSQL stops while ``rated`` hears the survey after an answered queue call,
    ``talking`` talks to an agent and ``waiting`` waits in a queue nobody serves. Meanwhile
    ``rated`` answers the survey, ``waiting`` hangs up (an abandon), ``asks`` asks to be called
    back, and ``talking``'s agent hangs up. Their records go through the controller's spool
    and into PostgreSQL once it is back, once each; ``talking`` is held by the dialplan until
    then, their visit completed with the agent they had, who their survey answer names."""
    writer = rig.controller.writer
    answered = ("fsapps_acd_calls_total", {"tenant": "claims", "queue": "served", "outcome": "answered"})
    answered_before = REGISTRY.get_sample_value(*answered) or 0
    rig.agent("cl_o1", talk=1.0)
    rig.agent("cl_o3", talk=None, status="On Break")
    rig.agent("cl_o2", status="On Break")
    rated = rig.call("7010", "15550601")
    assert wait_for(lambda: surveyed(rig, rated))
    rig.set_status("cl_o1", "On Break")
    rig.set_status("cl_o3", "Available")
    talking = rig.call("7010", "15550605")
    assert wait_for(lambda: rig.rung("cl_o3"))
    (ring,) = rig.rung("cl_o3")
    assert wait_for(lambda: rig.switch.channels[talking.uuid].bridged_to is not None)
    waiting = rig.call("7012", "15550602")
    rig.joined(waiting)
    spooled = writer.spooled
    # The outage begins as the stop does (fast shutdown: sessions ended, new ones refused);
    # the stop itself then waits for its checkpoint, which on a loaded machine outlasts the
    # survey's wait for a digit: the caller answers once PostgreSQL refuses, not once it is down.
    stopping = gevent.spawn(pg_server.stop_server)
    try:
        assert wait_for(lambda: refuses(rig.dsn), timeout=30)
        rated.queue_dtmf("4")
        waiting.hangup()
        asks = rig.call("7011", "15550603", keypad=["1"])
        rig.switch.channels[ring.leg].hangup("NORMAL_CLEARING")  # the agent hangs up
        hung_up = rig.switch.clock.now()
        rig.done(rated, waiting, asks)
        # The survey answer, the abandoned visit, the callback request and their calls' usage.
        assert wait_for(lambda: writer.spooled - spooled >= 6), writer.spooled - spooled
        assert rig.switch.history[rated.uuid].variables.get("fsapps_survey_1") == "4"
        assert talking.up and not surveyed(rig, talking)
    finally:
        stopping.join()
        pg_server.start_server()
    assert wait_for(lambda: surveyed(rig, talking), timeout=30), rig.switch.call_log(talking.uuid)[-20:]
    talking.queue_dtmf("5")
    rig.done(talking)
    # The visit's records wait in the controller's batches, then in its writer.
    assert wait_for(lambda: rig.controller.record_batches.flush(0.5) and writer.pending == 0, timeout=30), writer.pending
    # Read with a store of our own: the rig's lost its connections with the server.
    with Store(rig.dsn, max_size=2).open() as store, store.tenant("claims") as t:
        calls = t._all("SELECT * FROM queue_calls WHERE call_uuid = ANY(%s) ORDER BY joined_at",
                       ([rated.uuid, talking.uuid, waiting.uuid],))  # fmt: skip
        answers = t._all("SELECT call_uuid, agent_id, queue, score FROM survey_answers ORDER BY answered_at")
        callbacks = t._all("SELECT call_uuid, number, queue FROM callback_requests WHERE call_uuid = %s",
                           (asks.uuid,))  # fmt: skip
        usage = t._all("SELECT call_uuid, resource_id, outcome FROM usage_records WHERE call_uuid = ANY(%s)"
                       " AND resource = 'ivr'", ([rated.uuid, waiting.uuid, asks.uuid],))  # fmt: skip
        handled = t._all("SELECT resource_id, kind, workload FROM usage_records WHERE call_uuid = %s"
                         " AND resource = 'agent'", (talking.uuid,))  # fmt: skip
    assert [(str(c["call_uuid"]), c["queue"], c["outcome"], c["agent_id"]) for c in calls] == [
        (rated.uuid, "served", "answered", "cl_o1"),
        (talking.uuid, "served", "answered", "cl_o3"),
        (waiting.uuid, "unstaffed", "abandoned", None),
    ]
    # talking's conversation lasted until the agent hung up, not until PostgreSQL was back.
    talked = hung_up - ring.at
    assert talked - 1 < float(calls[1]["talk_seconds"]) < talked + 1, (talked, calls[1])
    # And the agent's call, its usage record, as long.
    assert [(h["resource_id"], h["kind"], float(h["workload"])) for h in handled] == [
        ("cl_o3", "handled_call", float(calls[1]["talk_seconds"]))
    ]
    assert [(str(a["call_uuid"]), a["agent_id"], a["queue"], a["score"]) for a in answers] == [
        (rated.uuid, "cl_o1", "served", 4),
        (talking.uuid, "cl_o3", "served", 5),
    ]
    assert [(str(c["call_uuid"]), c["number"], c["queue"]) for c in callbacks] == [
        (asks.uuid, "15550603", None)
    ]
    assert sorted((str(u["call_uuid"]), u["resource_id"], u["outcome"]) for u in usage) == sorted([
        (rated.uuid, "served.start", "_"), (rated.uuid, "served.rate", "_"),
        (waiting.uuid, "unstaffed.start", "caller_hung_up"), (asks.uuid, "callme.start", "_"),
    ])  # fmt: skip
    # Each answered visit counted once on /metrics, whichever way it was completed.
    assert (REGISTRY.get_sample_value(*answered) or 0) - answered_before == 2


@pytest.mark.parametrize(("back", "agent", "number"), [
    ("after the call", "cl_o4", "7019"), ("while they talk", "cl_o5", "7020"),
    # ring-progressively: the caller, bridged by uuid_bridge, is parked under the socket once
    # the agent leaves, and is sent to the queue node's routes rather than handed back.
    ("after the call", "cl_o6", "7021"),
])  # fmt: skip
def test_an_agent_who_answers_while_postgresql_is_away_has_the_visit_completed_once(
    rig, pg_server, back, agent, number
):
    """PostgreSQL stops while the agent's phone rings for ``caller``, and the agent answers: the
    controller cannot say so. The caller talks all the same. PostgreSQL comes back after the
    agent hung up (the dialplan holds the caller until then, the visit handed back with the
    conversation noted on the channel), or while they talk (the answer, told again, lands and
    the visit goes on as any). Either way the caller then goes on to the survey, which names
    the agent, not back into the queue; the visit is answered once, by that agent, for the
    time they talked; and the agent is free afterwards."""
    rig.agent(agent, answer_after=None, talk=None)
    caller = rig.call(number, "15550607")
    assert wait_for(lambda: rig.rung(agent))
    (ring,) = rig.rung(agent)
    stopping = gevent.spawn(pg_server.stop_server)
    running = True
    try:
        assert wait_for(lambda: refuses(rig.dsn), timeout=30)
        running = False
        leg = rig.switch.channels[ring.leg]
        leg.note("phone answered")
        leg.mark_answered()
        assert wait_for(lambda: rig.switch.channels[caller.uuid].bridged_to is leg)
        answered = rig.switch.clock.now()
        if back == "while they talk":
            stopping.join()
            pg_server.start_server()
            running = True
            # The answer lands once PostgreSQL is back: the agent is in a call for the caller.
            assert wait_for(lambda: agent_state_of(rig.dsn, agent) == ("In a queue call", caller.uuid), timeout=30)
        rig.until(answered + 20)
        leg.hangup("NORMAL_CLEARING")  # the agent hangs up
        hung_up = rig.switch.clock.now()
        if back == "after the call":
            assert caller.up and not surveyed(rig, caller)
    finally:
        if not running:
            stopping.join()
            pg_server.start_server()
    assert wait_for(lambda: surveyed(rig, caller), timeout=30), "\n".join(rig.switch.call_log(caller.uuid)[-60:])
    assert rig.switch.channels[caller.uuid].variables.get("fsapps_agent") == agent
    assert len(rig.rung(agent)) == 1  # never queued again
    caller.queue_dtmf("3")
    rig.done(caller)
    writer = rig.controller.writer
    assert wait_for(lambda: rig.controller.record_batches.flush(0.5) and writer.pending == 0, timeout=30), (
        writer.pending
    )
    with Store(rig.dsn, max_size=2).open() as store, store.tenant("claims") as t:
        calls = t._all("SELECT * FROM queue_calls WHERE call_uuid = %s", (caller.uuid,))
        handled = t._all("SELECT resource_id, workload FROM usage_records WHERE call_uuid = %s"
                         " AND resource = 'agent'", (caller.uuid,))  # fmt: skip
        answers = t._all("SELECT agent_id, score FROM survey_answers WHERE call_uuid = %s", (caller.uuid,))
        members = t._all("SELECT uuid FROM queue_members WHERE uuid = %s", (caller.uuid,))
    assert [(c["outcome"], c["agent_id"]) for c in calls] == [("answered", agent)], calls
    talked = hung_up - answered
    assert talked - 1 < float(calls[0]["talk_seconds"]) < talked + 1, (talked, calls[0])
    assert [(h["resource_id"], float(h["workload"])) for h in handled] == [
        (agent, float(calls[0]["talk_seconds"]))
    ]
    assert [(a["agent_id"], a["score"]) for a in answers] == [(agent, 3)]
    assert (agent_state_of(rig.dsn, agent), members) == (("Waiting", ""), [])


def test_a_caller_who_hangs_up_handed_back_after_an_unwritten_answer_has_the_visit_recorded(rig, pg_server):
    """As above, PostgreSQL away from the agent's answer to past the conversation's end: the
    visit is handed back with the conversation noted on the channel. The caller hangs up
    while the dialplan holds them, so no controller completes the visit; the notes in their
    hangup's event record it all the same, once PostgreSQL is back, and once: the answered
    row and the agent's usage record for the time they talked. The agent, left ringing for a
    caller who is gone, is freed."""
    rig.agent("cl_o7", answer_after=None, talk=None)
    caller = rig.call("7022", "15550608")
    assert wait_for(lambda: rig.rung("cl_o7"))
    (ring,) = rig.rung("cl_o7")
    stopping = gevent.spawn(pg_server.stop_server)
    try:
        assert wait_for(lambda: refuses(rig.dsn), timeout=30)
        leg = rig.switch.channels[ring.leg]
        leg.mark_answered()
        assert wait_for(lambda: rig.switch.channels[caller.uuid].bridged_to is leg)
        answered = rig.switch.clock.now()
        rig.until(answered + 20)
        leg.hangup("NORMAL_CLEARING")  # the agent hangs up
        hung_up = rig.switch.clock.now()
        # Handed back, the conversation noted on the channel (its end, and the answer untold:
        # the answer alone is noted earlier, as the database fails to take it); the caller
        # hangs up while held.
        channel = rig.switch.channels[caller.uuid]
        assert wait_for(lambda: channel.variables.get("fsapps_bridge_ended")), (
            "\n".join(rig.switch.call_log(caller.uuid)[-30:])
        )
        assert (channel.variables.get("fsapps_bridge_agent"), channel.variables.get("fsapps_bridge_untold")) == (
            "cl_o7", "true",
        )  # fmt: skip
        assert caller.up and not surveyed(rig, caller)
        caller.hangup()
        recorded_here = rig.controller.noted_visits
        assert recorded_here is not None
    finally:
        stopping.join()
        pg_server.start_server()
    writer = rig.controller.writer

    def recorded() -> list[Any]:
        if not (rig.controller.record_batches.flush(0.5) and writer.pending == 0):
            return []
        with Store(rig.dsn, max_size=2).open() as store, store.tenant("claims") as t:
            return t._all("SELECT * FROM queue_calls WHERE call_uuid = %s", (caller.uuid,))

    calls = wait_for(recorded, timeout=30)
    assert recorded_here.recorded == 1  # from the hangup's notes, not by a visit
    assert [(c["outcome"], c["agent_id"], c["queue"]) for c in calls] == [("answered", "cl_o7", "answered_gone")]
    talked = hung_up - answered
    assert talked - 1 < float(calls[0]["talk_seconds"]) < talked + 1, (talked, calls[0])
    assert str(calls[0]["caller"]) == "15550608"
    with Store(rig.dsn, max_size=2).open() as store, store.tenant("claims") as t:
        handled = t._all("SELECT resource_id, workload FROM usage_records WHERE call_uuid = %s"
                         " AND resource = 'agent'", (caller.uuid,))  # fmt: skip
    assert [(h["resource_id"], float(h["workload"])) for h in handled] == [
        ("cl_o7", float(calls[0]["talk_seconds"]))
    ]
    # The stale-offer sweep frees the agent; nobody is waiting in their queue.
    assert wait_for(lambda: agent_state_of(rig.dsn, "cl_o7") == ("Waiting", ""), timeout=60), agent_state_of(
        rig.dsn, "cl_o7"
    )
    assert rig.member_state(caller.uuid) in (None, "Abandoned")
    assert len(rig.rung("cl_o7")) == 1


def agent_state_of(dsn: str, agent: str) -> tuple[str, str] | None:
    """The agent's state, and the caller it is offered or talking to ('' for none)."""
    with psycopg.connect(dsn, connect_timeout=2) as conn:
        row = conn.execute(
            "SELECT state, coalesce(offered_member::text, '') FROM agent_state WHERE agent_id = %s", (agent,)
        ).fetchone()
    return (str(row[0]), str(row[1])) if row is not None else None


def refuses(dsn: str) -> bool:
    """PostgreSQL takes no new session."""
    try:
        psycopg.connect(dsn, connect_timeout=2).close()
    except psycopg.OperationalError:
        return True
    return False


def surveyed(rig: Rig, ch: Channel) -> bool:
    """The caller hears the survey's question."""
    return any(line.startswith("play_and_get_digits") for line in rig.switch.call_log(ch.uuid))
