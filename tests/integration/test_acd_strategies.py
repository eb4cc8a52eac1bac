"""Every queue strategy and setting through the emulator, two controllers and PostgreSQL:
the order in which agents' phones ring over several calls.

The expected orders come from mod_callcenter.c (FreeSWITCH 1.10.12; line numbers in each
case's ``source``) applied by hand to each case's agents, and are written out here.
One rig serves the whole module: a tenant of its own with a queue per case, each with
its own four agents (``a1``-``a4`` below, ``<case>_a1`` in the database), so the cases
share no state. Callers go straight into the case's queue node, alternating between
the two controllers; an agent who answers talks for ``talk`` switch seconds.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from fsapps.acd import dispatch
from fsapps.acd.operations import AgentOperations
from fsapps.controller import Controller
from fsapps.esl.client import Connection
from fsapps.flows.check import check
from fsapps.sim.channel import Channel
from fsapps.sim.dialplan import StaticDialplan
from fsapps.sim.endpoints import CallerScript, Endpoint
from fsapps.sim.switch import Switch, SwitchConfig
from fsapps.store import acd
from fsapps.store.db import Store
from fsapps.store.migrate import migrate
from fsapps.store.records import Tenant
from tests.support.controllers import start_controller
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
SPEED = 10.0
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC).timestamp()
RING = 3  # ring-timeout (switch seconds) unless a case says otherwise
# How much later than due a timed decision may come, in switch seconds: a pass every
# switch second (TICK below) plus the controller's own latency at this speed. At 10x a
# switch second is 0.1 s of the wall: in CI the acceptance tier's switch runs beside this
# tier at real-time priority (SCHED_FIFO), and a 0.26 s stall once made 2.5 too few.
SLACK = 4.0
ALL = ("a1", "a2", "a3", "a4")


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    strategy: str
    # Who rang, offer by offer, over all the case's calls: an agent, or a tuple of the
    # agents one offer rang at once (ring-all).
    expected: tuple[str | tuple[str, ...], ...]
    source: str  # where in mod_callcenter.c the order comes from
    calls: int = 1
    answer: tuple[str, ...] = ALL  # whose phones answer (0.3 s after ringing)
    talk: float = 1.0
    # (agent, level, position) when not every agent is level 1 at its place in the list
    tiers: tuple[tuple[str, int, int], ...] = ()
    # agent_state columns before the first call; times are seconds before the rig's start
    presets: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    settings: dict[str, Any] = dataclasses.field(default_factory=dict)
    node: dict[str, Any] = dataclasses.field(default_factory=dict)  # the queue node's data
    hang_up_after_rings: int | None = None  # the caller leaves once this many have rung


CASES = [
    Case(
        "ring_all", "ring-all",
        expected=(("a2", "a1", "a3", "a4"), ("a2", "a1", "a3", "a4")),
        source="l.2678-2683: ORDER BY level, position; l.2461-2462: agents_callback goes on to"
               " the next agent, so one pass offers every eligible agent",
        calls=2, answer=("a3",),
        tiers=(("a1", 1, 2), ("a2", 1, 1), ("a3", 1, 3), ("a4", 2, 1)),
    ),
    Case(
        "longest_idle", "longest-idle-agent",
        expected=("a3", "a4", "a1", "a2", "a3", "a4"),
        source="l.2672-2673: ORDER BY level, last_bridge_end, position; l.2087: last_bridge_end"
               " is when the agent's last bridge ended",
        calls=6,
        presets={"a1": {"last_bridge_end": 20}, "a2": {"last_bridge_end": 10},
                 "a3": {"last_bridge_end": 40}, "a4": {"last_bridge_end": 30}},
    ),
    Case(
        "round_robin", "round-robin",
        expected=("a3", "a4", "a1", "a2", "a3", "a4"),
        source="l.2651-2663: first the agents at a higher position than the queue's agent with the"
               " latest last_offered_call, at its level, then all by level, position; l.1059: an"
               " offer sets last_offered_call",
        calls=6,
        presets={"a1": {"last_offered_call": 40}, "a2": {"last_offered_call": 20},
                 "a3": {"last_offered_call": 30}},
    ),
    Case(
        "top_down", "top-down",
        expected=("a1", "a2", "a3", "a4", "a1", "a2", "a3", "a4"),
        source="l.2615-2650: first the agents below the member's last tier (higher position at its"
               " level, then higher levels); l.2436-2443: each offer sets the member's last tier;"
               " a new caller starts from the top",
        calls=2, answer=("a4",),
    ),
    Case(
        "top_down_wraps", "top-down",
        expected=("a1", "a2", "a3", "a4", "a1"),
        source="l.2736-2745: no agent listed below the member's last tier, so the tier is"
               " cleared and the next pass starts from the top",
        answer=(), hang_up_after_rings=5,
    ),
    Case(
        "least_talk", "agent-with-least-talk-time",
        expected=("a2", "a4", "a1", "a3", "a2", "a4"),
        source="l.2674-2675: ORDER BY level, talk_time, position; l.2087: each call adds its"
               " bridged time (10 s here) to talk_time",
        calls=6, talk=10.0,
        presets={"a1": {"talk_time": 4}, "a2": {"talk_time": 0}, "a3": {"talk_time": 6},
                 "a4": {"talk_time": 2}},
    ),
    Case(
        "fewest_calls", "agent-with-fewest-calls",
        expected=("a2", "a2", "a4", "a1", "a2", "a4"),
        source="l.2676-2677: ORDER BY level, calls_answered, position; l.2034: an answered call"
               " adds 1",
        calls=6,
        presets={"a1": {"calls_answered": 3}, "a2": {"calls_answered": 1},
                 "a3": {"calls_answered": 4}, "a4": {"calls_answered": 2}},
    ),
    Case(
        "sequentially", "sequentially-by-agent-order",
        expected=("a4", "a4", "a3", "a3", "a3"),
        source="l.2686-2687: ORDER BY level, position, last_offered_call, so the first agent is"
               " rung again while free (unlike top-down); l.2172-2176: after max-no-answer (2"
               " here) the agent goes On Break",
        calls=3, answer=("a1", "a2", "a3"),
        tiers=(("a1", 1, 3), ("a2", 2, 1), ("a3", 1, 2), ("a4", 1, 1)),
        presets={"a4": {"max_no_answer": 2}},
    ),
    Case(
        "skills", "skills-based",
        expected=("a4", "a2", "a4", "a2", "a4"),
        source="fsapps' own (fsapps.acd.decide.ordered): ORDER BY level, proficiency in the"
               " caller's skills (highest first), last_bridge_end, position; below the required"
               " level never",
        calls=5, node={"skills": {"fibre": 2}},
        presets={"a1": {"skills": {"fibre": 1}}, "a2": {"skills": {"fibre": 8}, "last_bridge_end": 10},
                 "a3": {"skills": {"fibre": 5}}, "a4": {"skills": {"fibre": 8}, "last_bridge_end": 20}},
    ),
]  # fmt: skip

PROGRESSIVE = Case(
    "progressive", "ring-progressively",
    expected=("a1", "a2", "a3", "a4"),
    source="l.2704-2716: ring-progressively-delay (2 s here) after the last agent was added"
           " (cc_last_originated_call, l.2427-2432), the next one joins, one per pass"
           " (l.2463-2464), while the others still ring (ring-timeout 30 s)",
    # A ring-timeout far above 3 x the delay: at the rig's 10x, 8 s was 0.8 s of real time,
    # and a loaded machine let a1's ring time out before a3 joined.
    answer=("a4",), settings={"ring-progressively-delay": 2, "ring-timeout": 30},
)  # fmt: skip

RANDOM = Case(
    "random", "random", expected=(), source="l.2684-2685: ORDER BY level, random()",
    answer=(), settings={"ring-timeout": 1}, hang_up_after_rings=60,
)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Ring:
    at: float  # switch time the agent's leg was created
    agent: str  # the database id: <case>_<a>
    member: str  # the caller's channel
    leg: str = ""  # the agent's leg


@dataclasses.dataclass
class Phone(Endpoint):
    """An agent's phone that notes each call it rings with."""

    agent: str = ""
    rig: Any = None

    def attach(self, ch: Channel) -> None:
        self.rig.rings.append(
            Ring(self.rig.switch.clock.now(), self.agent, ch.get_var("fsapps_member") or "", ch.uuid)
        )
        super().attach(ch)


# --- the rig ---------------------------------------------------------------------------

# Queues of the settings tests below: max-wait-time-with-no-agent and tier rules.
SETTINGS_QUEUES: dict[str, dict[str, Any]] = {
    "nw_reached": {"max-wait-time-with-no-agent": 4, "max-wait-time-with-no-agent-time-reached": 3},
    "nw_at_once": {"max-wait-time-with-no-agent": 4, "max-wait-time-with-no-agent-time-reached": 0},
    "nw_default": {"max-wait-time-with-no-agent": 4},  # time-reached: mod_callcenter's default, 5
    "nw_logout": {"max-wait-time-with-no-agent": 4, "max-wait-time-with-no-agent-time-reached": 1},
    "nw_nobranch": {"max-wait-time-with-no-agent": 2, "max-wait-time-with-no-agent-time-reached": 0},
    "tr_wait": {"tier-rules-apply": True, "tier-rule-wait-second": 4},
    "tr_multiply": {"tier-rules-apply": True, "tier-rule-wait-second": 4, "tier-rule-wait-multiply-level": True},
    "tr_empty_level": {"tier-rules-apply": True, "tier-rule-wait-second": 4},
    "tr_empty_level_waits": {"tier-rules-apply": True, "tier-rule-wait-second": 4,
                             "tier-rule-no-agent-no-wait": False},
    "tr_off": {"tier-rule-wait-second": 4},
    "tbs_system": {"time-base-score": "system"},
    "tbs_queue": {"time-base-score": "queue"},
    # A pickup while ring-progressively rings: t1 alone (a delay the pickup lands in however
    # loaded the machine: 3 s of real time), then t1 and t2 (the last leg).
    "rp_pick_first": {"strategy": "ring-progressively", "ring-progressively-delay": 30, "ring-timeout": 60},
    "rp_pick_last": {"strategy": "ring-progressively", "ring-progressively-delay": 2, "ring-timeout": 30},
}  # fmt: skip
NO_BRANCH = ("nw_nobranch",)


def _tiers(case: Case) -> list[Any]:
    if case.tiers:
        return [{"agent": f"{case.id}_{a}", "level": lv, "position": pos} for a, lv, pos in case.tiers]
    return [f"{case.id}_{a}" for a in ALL]


def _tenant_dir(root: Path) -> Path:
    """Tenant ``strat``: a queue and a queue node per case. YAML is read from JSON text."""
    queues: dict[str, Any] = {}
    nodes: dict[str, Any] = {
        "overflow": {"type": "hangup"},
        "bye": {"type": "hangup"},
    }
    for case in [*CASES, PROGRESSIVE, RANDOM]:
        queues[case.id] = {
            "strategy": case.strategy,
            "ring-timeout": RING,
            "tiers": _tiers(case),
            **case.settings,
        }
    for name, settings in SETTINGS_QUEUES.items():
        tiers = [{"agent": f"{name}_t1", "level": 1}, {"agent": f"{name}_t2", "level": 2}]
        queues[name] = {"ring-timeout": RING, "tiers": tiers, **settings}
    names = list(queues)
    for name, after in zip(names, [*names[1:], "bye"], strict=True):
        case = next((c for c in [*CASES, PROGRESSIVE, RANDOM] if c.id == name), None)
        data = {"queue": name, **(case.node if case else {})}
        # Callers start at their case's node (the dialplan says which); each node's callback
        # branch, never taken (no callback-key), only chains them for the reachability check.
        children = {"_": "bye", "callback": after}
        if name not in NO_BRANCH:
            children["timeout"] = "overflow"
        nodes[name] = {"type": "queue", "data": data, "children": children}
    tenant = {"id": "strat", "name": "Strategies", "domain": "strat.example", "timezone": "UTC",
              "language": "en", "queues": queues}  # fmt: skip
    d = root / "strat"
    (d / "flows").mkdir(parents=True)
    (d / "tenant.yaml").write_text(json.dumps(tenant, indent=1))
    (d / "flows" / "main.yaml").write_text(json.dumps({"start": names[0], "nodes": nodes}, indent=1))
    return root


@dataclasses.dataclass
class Rig:
    switch: Switch
    controllers: list[Controller]
    store: Store
    rings: list[Ring] = dataclasses.field(default_factory=list)

    def agent(
        self, agent_id: str, answers: bool, talk: float = 1.0, status: str = "Available", after: float = 0.3
    ) -> None:
        with self.store.operator() as op:
            op.add_agent(agent_id, agent_id, {"strat": 1}, f"sofia/external/{agent_id}@127.0.0.1:5080")
            acd.ensure_agent(op.conn, agent_id)
            acd.set_status(op.conn, agent_id, status, START - 1000)
        phone = Phone(answer_after=after if answers else None, hangup_after=talk, agent=agent_id, rig=self)
        self.switch.register_user(agent_id, phone)

    def preset(self, agent_id: str, columns: dict[str, Any]) -> None:
        with self.store.operator() as op:
            for column, value in columns.items():
                if column in ("last_bridge_end", "last_offered_call"):
                    value = START - value
                elif column == "skills":
                    value = json.dumps(value)
                op.conn.execute(
                    sql.SQL("UPDATE agent_state SET {} = %s WHERE agent_id = %s").format(
                        sql.Identifier(column)
                    ),
                    (value, agent_id),
                )

    def set_status(self, agent_id: str, status: str) -> None:
        with self.store.operator() as op:
            acd.set_status(op.conn, agent_id, status, self.switch.clock.now())

    def call(self, queue: str, route: str = "0", caller: str = "15550001") -> Channel:
        return self.switch.place_call(f"{queue}-{route}", caller_id_number=caller, script=CallerScript())

    def rung(self, prefix: str) -> list[Ring]:
        return [r for r in self.rings if r.agent.startswith(prefix)]

    def queue_call(self, member: str) -> dict[str, Any]:
        def row() -> dict[str, Any] | None:
            with self.store.tenant("strat") as t:
                got = t._all("SELECT * FROM queue_calls WHERE call_uuid = %s", (member,))
            return got[0] if got else None

        found = wait_for(row, timeout=10)
        assert found is not None, f"no queue_calls row for {member}"
        return found


@pytest.fixture(scope="module")
def rig(pg_server, tmp_path_factory) -> Iterator[Rig]:
    tmp = tmp_path_factory.mktemp("strategies")
    with psycopg.connect(pg_server.dsn, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS acd_strategies")
        conn.execute("CREATE DATABASE acd_strategies")
    dsn = make_conninfo(pg_server.dsn, dbname="acd_strategies")
    migrate(dsn)
    store = Store(dsn, max_size=30).open()
    with store.operator() as op:
        op.add_tenant(Tenant("strat", "Strategies", "strat.example"))
    project = check(_tenant_dir(tmp / "dialplan"), sounds=ROOT / "sounds")
    assert project.problems == []
    switch = Switch(SwitchConfig(speed=SPEED, start=START))
    started: list[Controller] = []
    # A pass every switch second when nothing happens (1 s at this speed would be 10).
    patch = pytest.MonkeyPatch()
    patch.setattr(dispatch, "TICK", 1.0 / SPEED)
    try:
        for i in range(2):
            started.append(start_controller(project, store, switch.clock, tmp / f"c{i}"))
        dp = StaticDialplan()
        head = [("answer", ""), ("set", "fsapps_tenant=strat"), ("set", "fsapps_flow=main"),
                ("set", "fsapps_node=$1"), ("set", "socket_resume=true")]  # fmt: skip
        for i, c in enumerate(started):
            sock = ("socket", f"127.0.0.1:{c.server.port}/flow async full")
            dp.add("public", rf"^(\w+)-{i}$", [*head, sock, ("hangup", "")])
        # The switch answers, then the caller spends 5 s elsewhere (an IVR) before the queue.
        sock = ("socket", f"127.0.0.1:{started[0].server.port}/flow async full")
        dp.add("public", r"^(\w+)-ivr$", [head[0], ("sleep", "5000"), *head[1:], sock, ("hangup", "")])
        switch.dialplan = dp
        switch.start()
        yield Rig(switch, started, store)
    finally:
        for c in started:
            c.stop(grace=1.0)
        switch.stop()
        store.close()
        patch.undo()


# --- strategies ------------------------------------------------------------------------


def offers(rings: list[Ring], prefix: str) -> list[str | tuple[str, ...]]:
    """Rings grouped into offers: the legs one offer rang at once for one caller."""
    out: list[tuple[Ring, list[str]]] = []
    for r in rings:
        name = r.agent.removeprefix(prefix)
        if out and out[-1][0].member == r.member and r.at - out[-1][0].at < 0.5:
            out[-1][1].append(name)
        else:
            out.append((r, [name]))
    return [names[0] if len(names) == 1 else tuple(names) for _, names in out]


def play(rig: Rig, case: Case) -> list[Ring]:
    """The case's agents log in, then its callers call one after another; returns the rings."""
    for a in ALL:
        rig.agent(f"{case.id}_{a}", a in case.answer, case.talk)
        rig.preset(f"{case.id}_{a}", case.presets.get(a, {}))
    prefix = f"{case.id}_"
    expected = [a for o in case.expected for a in ((o,) if isinstance(o, str) else o)]

    def astray() -> bool:
        """Rung otherwise than expected already: no need to wait for the rest."""
        got = [r.agent.removeprefix(prefix) for r in rig.rung(prefix)]
        return bool(expected) and got != expected[: len(got)]

    for k in range(case.calls):
        ch = rig.call(case.id, route=str(k % 2))
        if case.hang_up_after_rings is not None:
            wait_for(lambda: len(rig.rung(prefix)) >= case.hang_up_after_rings or astray(), timeout=60)
            ch.hangup()
        done = wait_for(lambda ch=ch: ch.destroyed.is_set() or astray(), timeout=60)
        if not ch.destroyed.is_set():
            ch.hangup()
        assert done, "\n".join(rig.switch.call_log(ch.uuid)[-20:])
        assert ch.destroyed.wait(10)
        if astray():
            break
    return rig.rung(prefix)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_agents_ring_in_the_strategys_order(rig: Rig, case: Case) -> None:
    rings = play(rig, case)
    assert offers(rings, f"{case.id}_") == list(case.expected), case.source


def test_ring_progressively_adds_an_agent_every_delay_while_the_others_ring(rig: Rig) -> None:
    case = PROGRESSIVE
    rings = play(rig, case)
    assert offers(rings, f"{case.id}_") == list(case.expected), case.source
    # Each joined the ringing 2 s after the one before (not sooner; later by however long a
    # loaded machine delays a pass), long before that one's 30 s ran out.
    gaps = [b.at - a.at for a, b in itertools.pairwise(rings)]
    assert all(1.5 <= g <= 6 for g in gaps), gaps
    # a4 answered while a1-a3 still rang: the caller talked to a4, and the others' legs lost
    # the race (LOSE_RACE, mod_callcenter.c:1927): back to Waiting with no no-answer counted.
    row = rig.queue_call(rings[0].member)
    assert (row["outcome"], row["agent_id"]) == ("answered", "progressive_a4"), row
    with rig.store.operator() as op:
        states = {
            r["agent_id"]: (r["state"], r["no_answer_count"])
            for r in op._all(
                "SELECT agent_id, state, no_answer_count FROM agent_state WHERE agent_id LIKE 'progressive_%%'"
            )
        }
    assert {a: states[f"progressive_{a}"] for a in ("a1", "a2", "a3")} == {
        a: ("Waiting", 0) for a in ("a1", "a2", "a3")
    }, states
    causes = [rig.switch.history[r.leg].hangup_cause for r in rings[:3]]
    assert causes == ["LOSE_RACE"] * 3, causes


def test_random_rings_every_agent_in_no_fixed_order(rig: Rig) -> None:
    """60 rings of one caller, nobody answering, each a fresh draw (l.2684-2685). A fixed
    order (by position, round-robin, top-down) never rings one agent twice in a row, or
    never rings all four; random does both but with chance 4 x (3/4)^60 + (3/4)^59, about
    2e-7: the test does not depend on the seeds the passes happen to get."""
    rings = play(rig, RANDOM)
    names = [r.agent.removeprefix("random_") for r in rings]
    assert len(names) >= 60
    assert set(names) == set(ALL), names
    assert any(a == b for a, b in itertools.pairwise(names)), names


# --- max-wait-time-with-no-agent (l.2888-2903) --------------------------------------------


def _branch(rig: Rig, ch: Channel) -> str:
    """The branch the controller handed the call back to the dialplan with."""
    assert ch.destroyed.wait(30), "\n".join(rig.switch.call_log(ch.uuid)[-20:])
    return rig.switch.history[ch.uuid].variables.get("fsapps_branch", "")


@pytest.mark.parametrize(
    ("queue", "exit_after"),
    [
        # Nobody logged in for long: the caller leaves after max-wait-time-with-no-agent plus
        # max-wait-time-with-no-agent-time-reached of their own wait (l.2892-2894).
        ("nw_reached", 4 + 3),
        # time-reached 0: at once (l.2897-2900).
        ("nw_at_once", 0),
        # time-reached not set: mod_callcenter's default, 5 (mod_callcenter.c:580).
        ("nw_default", 4 + 5),
    ],
)
def test_max_wait_time_with_no_agent_takes_the_timeout_branch(
    rig: Rig, queue: str, exit_after: float
) -> None:
    for t in ("t1", "t2"):
        rig.agent(f"{queue}_{t}", answers=True, status="Logged Out")
    ch = rig.call(queue)
    assert _branch(rig, ch) == "timeout"
    row = rig.queue_call(ch.uuid)
    assert row["outcome"] == "overflowed"
    assert exit_after <= float(row["wait_seconds"]) < exit_after + SLACK, row


def test_max_wait_time_with_no_agent_counts_from_when_the_last_agent_logged_out(rig: Rig) -> None:
    """An agent On Break is still an agent of the queue (the dispatch query lists On Break,
    l.2664): the caller stays past 4 + 1 s. Once the agent logs out, they leave 4 s later."""
    rig.agent("nw_logout_t1", answers=True, status="On Break")
    rig.agent("nw_logout_t2", answers=True, status="Logged Out")
    ch = rig.call("nw_logout")
    joined = wait_for(lambda: _joined(rig, ch.uuid))
    assert wait_for(lambda: rig.switch.clock.now() >= joined + 6)
    assert not ch.destroyed.is_set()
    # The logout lies between these two readings of a clock running 10x: a status change
    # taking 0.1 s under load is a second of it.
    before = rig.switch.clock.now()
    rig.set_status("nw_logout_t1", "Logged Out")
    after = rig.switch.clock.now()
    assert _branch(rig, ch) == "timeout"
    row = rig.queue_call(ch.uuid)
    assert row["outcome"] == "overflowed"
    left = joined + float(row["wait_seconds"])
    assert before + 4 <= left < after + 4 + SLACK, (before - joined, after - joined, left - joined)


def test_max_wait_time_with_no_agent_without_a_timeout_branch_is_a_timeout(rig: Rig) -> None:
    """The README: the node's timeout branch, else the visit's outcome is timed_out and the
    caller goes on in the dialplan (here: hangup)."""
    rig.agent("nw_nobranch_t1", answers=True, status="Logged Out")
    rig.agent("nw_nobranch_t2", answers=True, status="Logged Out")
    ch = rig.call("nw_nobranch")
    assert _branch(rig, ch) == ""
    row = rig.queue_call(ch.uuid)
    assert (row["outcome"], row["agent_id"]) == ("timed_out", None)
    assert 0 <= float(row["wait_seconds"]) < SLACK


def _joined(rig: Rig, member: str) -> float | None:
    with rig.store.operator() as op:
        row = op._one("SELECT joined_epoch FROM queue_members WHERE uuid = %s", (member,))
    return None if row is None else float(row["joined_epoch"])


# --- tier rules (agents_callback, l.2306-2321) --------------------------------------------


@pytest.mark.parametrize(
    ("queue", "first_level", "level_two_after"),
    [
        # The level-1 agent is On Break (listed, not free): the caller may move on to level 2
        # once they have waited tier-rule-wait-second (l.2315).
        ("tr_wait", "On Break", 4),
        # ... level x tier-rule-wait-second with tier-rule-wait-multiply-level (l.2311).
        ("tr_multiply", "On Break", 2 * 4),
        # Nobody logged in at level 1: no wait with tier-rule-no-agent-no-wait (the default, l.2308).
        ("tr_empty_level", "Logged Out", 0),
        ("tr_empty_level_waits", "Logged Out", 4),
        # tier-rules-apply off: every level at once.
        ("tr_off", "On Break", 0),
    ],
)
def test_tier_rules_hold_the_caller_at_level_one(
    rig: Rig, queue: str, first_level: str, level_two_after: float
) -> None:
    rig.agent(f"{queue}_t1", answers=True, status=first_level)
    rig.agent(f"{queue}_t2", answers=True)
    ch = rig.call(queue)
    assert ch.destroyed.wait(30), "\n".join(rig.switch.call_log(ch.uuid)[-20:])
    row = rig.queue_call(ch.uuid)
    assert (row["outcome"], row["agent_id"]) == ("answered", f"{queue}_t2")
    (ring,) = rig.rung(f"{queue}_")
    waited = ring.at - row["joined_at"].timestamp()
    assert level_two_after <= waited < level_two_after + SLACK, waited


# --- time-base-score (l.3037, 3077-3079) ---------------------------------------------------


@pytest.mark.parametrize(("queue", "first"), [("tbs_system", "ivr"), ("tbs_queue", "direct")])
def test_time_base_score_system_counts_the_time_before_the_queue(rig: Rig, queue: str, first: str) -> None:
    """Two callers wait while the queue's agents are logged out. ``ivr`` was answered
    first but spent 5 s elsewhere before the queue; ``direct``, answered 2.5 s later,
    joined the queue first. With
    time-base-score system the time since the switch answered counts (l.3077-3079: the
    member's base score gets now - the channel's answered time), so ``ivr`` goes first."""
    rig.agent(f"{queue}_t1", answers=True, talk=0.5, status="Logged Out")
    rig.agent(f"{queue}_t2", answers=True, talk=0.5, status="Logged Out")
    ivr = rig.switch.place_call(f"{queue}-ivr", caller_id_number="15550002", script=CallerScript())
    direct_at = rig.switch.clock.now() + 2.5
    assert wait_for(lambda: rig.switch.clock.now() >= direct_at)
    direct = rig.call(queue, caller="15550003")
    assert wait_for(lambda: _joined(rig, ivr.uuid) and _joined(rig, direct.uuid))
    assert _joined(rig, direct.uuid) < _joined(rig, ivr.uuid)
    rig.set_status(f"{queue}_t1", "Available")
    for ch in (ivr, direct):
        assert ch.destroyed.wait(30), "\n".join(rig.switch.call_log(ch.uuid)[-20:])
    served = [r.member for r in rig.rung(f"{queue}_")]
    assert served == [{"ivr": ivr, "direct": direct}[first].uuid, {"ivr": direct, "direct": ivr}[first].uuid]


@pytest.mark.parametrize(("queue", "ringing"), [("rp_pick_first", 1), ("rp_pick_last", 2)])
def test_a_pickup_takes_a_ring_progressively_call_from_every_leg_ringing(
    rig: Rig, queue: str, ringing: int
) -> None:
    """An agent outside the queue picks up the call while t1 rings alone, or once t2 has
    joined the ring (the last of the queue's agents): every ringing leg ends PICKED_OFF
    with no no-answer counted, nobody is added to the picking agent's ring, and the caller
    talks to the agent who picked up."""
    for t in ("t1", "t2"):
        rig.agent(f"{queue}_{t}", answers=False)
    picker = f"{queue}_p"
    # The picking agent answers after 5 s: for rp_pick_last, two ring-progressively delays
    # in which nobody may join their ring (neither the agents it took the call from nor
    # anyone else).
    rig.agent(picker, answers=True, talk=20, after=5)
    ch = rig.call(queue)
    assert wait_for(lambda: len(rig.rung(f"{queue}_t")) == ringing, timeout=30)
    conn = Connection("127.0.0.1", rig.switch.port, rig.switch.password)
    conn.connect()
    try:
        leg = AgentOperations(rig.store, conn.api, now=rig.switch.clock.now).pickup(picker, caller=ch.uuid)
    finally:
        conn.stop()
    assert wait_for(lambda: (b := rig.switch.channels[ch.uuid].bridged_to) is not None and b.uuid == leg,
                    timeout=30), "\n".join(rig.switch.call_log(ch.uuid)[-20:])  # fmt: skip
    # The picker hangs up after talking 20 s, in which no agent may join the ring of a call
    # that is no longer ringing (rp_pick_last: 10 ring-progressively delays).
    assert ch.destroyed.wait(30), "\n".join(rig.switch.call_log(ch.uuid)[-20:])
    rung = rig.rung(f"{queue}_t")
    assert len(rung) == ringing, [r.agent for r in rung]
    assert [rig.switch.history[r.leg].hangup_cause for r in rung] == ["PICKED_OFF"] * ringing
    row = rig.queue_call(ch.uuid)
    assert (row["outcome"], row["agent_id"]) == ("answered", picker), row
    with rig.store.operator() as op:
        states = {
            r["agent_id"]: (r["state"], r["no_answer_count"])
            for r in op._all(
                "SELECT agent_id, state, no_answer_count FROM agent_state WHERE agent_id = ANY(%s)",
                ([f"{queue}_t1", f"{queue}_t2"],),
            )
        }
    assert states == {f"{queue}_t1": ("Waiting", 0), f"{queue}_t2": ("Waiting", 0)}, states
