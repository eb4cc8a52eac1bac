"""The ACD end to end on the emulator: the example tenants' rendered dialplan,
controllers running the queue application, agents' phones, PostgreSQL.

The caller's whole path: IVR menu -> queue (hold music) -> the first agent
does not answer, the second does -> recording while bridged -> the agent hangs
up -> survey. Then: a caller who hangs up while waiting, two controllers
sharing agents under load, and a controller killed while callers wait.
"""

from __future__ import annotations

import dataclasses
import itertools
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import gevent
import pytest
from prometheus_client import REGISTRY

from fsapps.controller import Controller
from fsapps.flows.check import check
from fsapps.sim.endpoints import CallerScript, Endpoint
from fsapps.sim.switch import Switch, SwitchConfig
from fsapps.store import acd
from fsapps.store.records import Tenant
from tests.support.controllers import load_rendered, start_controller
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
CN_OPEN = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai: service hours
SPEED = 4.0


@dataclasses.dataclass
class Rig:
    switch: Switch
    controllers: list[Controller]
    store: object
    recordings: Path
    tenant: str = "cablenet"
    number: str = "96171"  # the tenant's access number

    def agent(self, agent_id: str, endpoint: Endpoint, status: str = "Available", **settings) -> Endpoint:
        with self.store.operator() as op:
            op.add_agent(agent_id, agent_id, {self.tenant: 1}, f"sofia/external/{agent_id}@127.0.0.1:5080")
            acd.ensure_agent(op.conn, agent_id, **settings)
            acd.set_status(op.conn, agent_id, status, 0)
        return self.switch.register_user(agent_id, endpoint)

    def agent_row(self, agent_id: str) -> dict:
        with self.store.operator() as op:
            return op._one("SELECT * FROM agent_state WHERE agent_id = %s", (agent_id,))

    def queue_calls(self) -> list[dict]:
        with self.store.tenant(self.tenant) as t:
            return t._all("SELECT * FROM queue_calls ORDER BY joined_at")

    def members(self) -> list[dict]:
        with self.store.operator() as op:
            return op._all("SELECT uuid, state, joined_epoch, queue, controller FROM queue_members")

    def call(self, keypad: list[str], hangup_after: float | None = None, caller: str = "13800000001"):
        script = CallerScript(keypad=keypad, hangup_after=hangup_after)
        return self.switch.place_call(self.number, caller_id_number=caller, script=script)


@contextmanager
def rig(
    store, tmp_path: Path, controllers: int = 1, tiers: list[str] | None = None, tenant: str = "cablenet",
    queues: dict[str, dict] | None = None,
) -> Iterator[Rig]:
    """``tiers``: the agents of cablenet's business queue, instead of the example's; ``tenant``:
    the example tenant called (cablenet on 96171, harbourbank on 95555); ``queues``: settings
    added to the tenant's queues, by queue."""
    with store.operator() as op:
        op.add_tenant(Tenant(tenant, tenant.title(), f"{tenant}.example", "Asia/Shanghai", "zh"))
    project = check(ROOT / "dialplan", sounds=ROOT / "sounds")
    assert project.problems == []
    if tiers is not None:
        cablenet = next(t for t in project.tenants if t.id == "cablenet")
        business = cablenet.queues["business"]
        business.data = {**dict(business.data), "tiers": tiers}
    for name, settings in (queues or {}).items():
        queue = next(t for t in project.tenants if t.id == tenant).queues[name]
        queue.data = {**dict(queue.data), **settings}
    project = dataclasses.replace(
        project, operator=dataclasses.replace(project.operator, sounds=str(ROOT / "sounds"))
    )
    switch = Switch(
        SwitchConfig(speed=SPEED, start=CN_OPEN.timestamp(), recordings_dir=str(tmp_path / "recordings")),
    )
    started: list[Controller] = []
    try:
        for i in range(controllers):
            started.append(start_controller(project, store, switch.clock, tmp_path / f"c{i}"))
        load_rendered(switch, project, started, tmp_path / "conf")
        switch.start()
        number = {"cablenet": "96171", "harbourbank": "95555"}[tenant]
        yield Rig(switch, started, store, tmp_path / "recordings", tenant, number)
    finally:
        for c in started:
            c.stop(grace=1.0)
        switch.stop()


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_caller_path_ivr_queue_no_answer_then_answer_recording_survey(store, tmp_path) -> None:
    with rig(store, tmp_path) as r:
        r.agent("cn_li", Endpoint(answer_after=None), max_no_answer=1)  # rings out
        r.agent("cn_wang", Endpoint(answer_after=2.0, hangup_after=20.0))
        answered_before = sample(
            "fsapps_acd_calls_total", tenant="cablenet", queue="business", outcome="answered"
        )
        events: list = []
        with r.switch.watching(events.append):
            ch = r.call(keypad=["1", "4"])  # 1: an agent; then 4 for the survey
            assert ch.destroyed.wait(120 / SPEED + 30), r.switch.call_log(ch.uuid)
        rows = wait_for(r.queue_calls)
        assert len(rows) == 1, rows
        q = rows[0]
        assert (q["outcome"], q["agent_id"], q["offers"]) == ("answered", "cn_wang", 2)
        # The first agent rang for the queue's ring-timeout (20 s) before the second was tried.
        assert 20 <= float(q["wait_seconds"]) < 30, q
        assert 19 <= float(q["talk_seconds"]) <= 21, q
        # mod_callcenter's outcome for the agents: no answer -> On Break after max-no-answer;
        # the one who answered is free again, one call and its talk time counted.
        li, wang = r.agent_row("cn_li"), r.agent_row("cn_wang")
        assert (li["status"], li["state"], li["no_answer_count"]) == ("On Break", "Waiting", 1)
        assert (wang["status"], wang["state"], wang["calls_answered"]) == ("Available", "Waiting", 1)
        assert 19 <= wang["talk_time"] <= 21
        assert wang["offered_member"] is None and li["offered_member"] is None
        assert r.members() == []
        # Recorded while bridged only: the file's length is the talk time.
        path = Path(q["recording"])
        assert path.is_file() and path.parent == r.recordings / "cablenet", q["recording"]
        with wave.open(str(path)) as w:
            seconds = w.getnframes() / w.getframerate()
        assert abs(seconds - float(q["talk_seconds"])) <= 0.1 * float(q["talk_seconds"]), seconds
        # After the agent hung up the caller went on to the survey; the answer names the agent.
        with store.tenant("cablenet") as t:
            answers = t._all("SELECT agent_id, queue, score FROM survey_answers")
            usage = t._all(
                "SELECT resource, resource_id, kind, outcome FROM usage_records WHERE resource = 'agent'"
            )
        assert answers == [{"agent_id": "cn_wang", "queue": "business", "score": 4}]
        assert usage == [
            {"resource": "agent", "resource_id": "cn_wang", "kind": "handled_call", "outcome": "answered"}
        ]
        assert (
            sample("fsapps_acd_calls_total", tenant="cablenet", queue="business", outcome="answered")
            == answered_before + 1
        )
        # With nobody waiting the gauges still follow the queue (a pass on each tick).
        business = {"tenant": "cablenet", "queue": "business"}
        assert wait_for(lambda: sample("fsapps_acd_callers_waiting", **business) == 0)

        def agents_by_status():
            return tuple(
                sample("fsapps_acd_agents", **business, status=status, state=state)
                for status, state in (
                    ("On Break", "Waiting"),
                    ("Available", "Waiting"),
                    ("Available", "In a queue call"),
                )
            )

        assert wait_for(lambda: agents_by_status() == (1, 1, 0)), agents_by_status()
        # The agent's phone rang with the caller's number and the screen-pop variables.
        rung = [
            e for e in events if e.name == "CHANNEL_ANSWER" and e.get("variable_fsapps_agent") == "cn_wang"
        ]
        assert len(rung) == 1
        assert rung[0].get("Caller-Caller-ID-Number") == "13800000001"
        assert (rung[0].get("variable_fsapps_queue"), rung[0].get("variable_fsapps_member")) == (
            "business",
            ch.uuid,
        )


def test_caller_who_hangs_up_while_waiting_is_an_abandon_and_no_agent_is_left_reserved(
    store, tmp_path
) -> None:
    with rig(store, tmp_path) as r:
        r.agent("cn_li", Endpoint(answer_after=None), max_no_answer=0)  # ringing when the caller leaves
        before = sample("fsapps_acd_calls_total", tenant="cablenet", queue="business", outcome="abandoned")
        ch = r.call(keypad=["1"], hangup_after=12.0)
        assert ch.destroyed.wait(60), r.switch.call_log(ch.uuid)
        rows = wait_for(r.queue_calls)
        assert [(q["outcome"], q["agent_id"]) for q in rows] == [("abandoned", None)]
        assert 0 < float(rows[0]["wait_seconds"]) < 12
        assert (
            sample("fsapps_acd_calls_total", tenant="cablenet", queue="business", outcome="abandoned")
            == before + 1
        )
        # The member's place is kept as Abandoned (for abandoned-resume-allowed) until
        # discard-abandoned-after; the agent whose phone was ringing is free, with no delay.
        members = wait_for(lambda: [m for m in r.members() if m["state"] == "Abandoned"])
        assert [str(m["uuid"]) for m in members] == [ch.uuid]
        wait_for(lambda: r.agent_row("cn_li")["state"] == "Waiting")
        li = r.agent_row("cn_li")
        assert (li["state"], li["offered_member"], li["no_answer_count"]) == ("Waiting", None, 0)


def test_caller_who_calls_back_soon_after_abandoning_resumes_their_place(store, tmp_path) -> None:
    """business has abandoned-resume-allowed: the second call joins with the first call's time."""
    with rig(store, tmp_path) as r:
        first = r.call(keypad=["1"], hangup_after=15.0)
        assert first.destroyed.wait(60)
        joined = wait_for(lambda: [m["joined_epoch"] for m in r.members() if m["state"] == "Abandoned"])
        second = r.call(keypad=["1"], hangup_after=12.0)
        resumed = wait_for(lambda: [m for m in r.members() if str(m["uuid"]) == second.uuid])
        assert resumed[0]["joined_epoch"] == joined[0]
        assert [m["state"] for m in r.members() if str(m["uuid"]) == first.uuid] == []
        assert second.destroyed.wait(60)


def crash(c: Controller) -> None:
    """What SIGKILL does to a controller, seen from outside: its sockets drop without a
    goodbye and it runs nothing more (no hand-back, no database writes)."""
    if c.dispatcher is not None:
        c.dispatcher.stop()
    server, c.server._server = c.server._server, None
    if server is not None:
        server.close()
    for call in list(c.server.calls):
        call._run = False
        call.close_socket()


def test_a_conversation_whose_controller_dies_before_its_answer_is_written_is_completed_once(
    store, pg_server, tmp_path
) -> None:
    """PostgreSQL stops while the agent's phone rings, the agent answers (the controller
    cannot say so, and notes the answer on the caller's channel), and the controller dies
    during the conversation. When the agent hangs up the caller comes back to the other
    controller, which holds them until PostgreSQL is back, then completes that visit with
    that agent, for the time they talked: the caller goes on to the survey, never queued
    and rung again."""
    from tests.integration.test_acd_settings import refuses

    with rig(store, tmp_path, controllers=2) as r:
        first, second = r.controllers
        r.agent("cn_wang", Endpoint(answer_after=None))
        events: list = []
        with r.switch.watching(events.append):
            ch = r.call(keypad=["1", "4"])  # 1: an agent; then 4 for the survey
            assert wait_for(lambda: r.agent_row("cn_wang")["agent_leg"], timeout=60)
            leg = r.switch.channels[str(r.agent_row("cn_wang")["agent_leg"])]
            assert first.server.calls and not second.server.calls
            stopping = gevent.spawn(pg_server.stop_server)
            running = True
            try:
                assert wait_for(lambda: refuses(store.dsn), timeout=30)
                running = False
                leg.mark_answered()
                caller = r.switch.channels[ch.uuid]
                assert wait_for(lambda: caller.bridged_to is leg)
                answered = r.switch.clock.now()
                assert wait_for(lambda: caller.variables.get("fsapps_bridge_agent") == "cn_wang", timeout=30)
                crash(first)
                assert wait_for(lambda: r.switch.clock.now() >= answered + 20, timeout=60)
                assert caller.bridged_to is leg  # the conversation outlived its controller
                leg.hangup("NORMAL_CLEARING")
                hung_up = r.switch.clock.now()
                # Back with the other controller, which cannot place them yet: held.
                assert wait_for(lambda: caller.variables.get("fsapps_bridge_ended"), timeout=30)
                assert ch.up and second.server.accepted
            finally:
                if not running:
                    stopping.join()
                    pg_server.start_server()
            assert ch.destroyed.wait(120), "\n".join(r.switch.call_log(ch.uuid)[-60:])
        rows = wait_for(r.queue_calls, timeout=30)
        assert [(q["outcome"], q["agent_id"]) for q in rows] == [("answered", "cn_wang")]
        talked = hung_up - answered
        assert talked - 1 < float(rows[0]["talk_seconds"]) < talked + 1, (talked, rows[0])
        with store.tenant("cablenet") as t:
            answers = t._all("SELECT agent_id, score FROM survey_answers")
            usage = t._all("SELECT resource_id, workload FROM usage_records WHERE resource = 'agent'")
        assert answers == [{"agent_id": "cn_wang", "score": 4}]
        assert [(u["resource_id"], float(u["workload"])) for u in usage] == [
            ("cn_wang", float(rows[0]["talk_seconds"]))
        ]
        rung = [e for e in events if e.name == "CHANNEL_CREATE" and e.get("variable_fsapps_agent") == "cn_wang"]
        assert len(rung) == 1  # never queued again
        # Free again, whichever came first: this completion, or the other controller freeing
        # what the dead one held once PostgreSQL was back.
        assert wait_for(lambda: r.agent_row("cn_wang")["state"] == "Waiting", timeout=30)
        assert r.members() == []


def test_two_controllers_never_offer_one_agent_two_calls(store, tmp_path) -> None:
    """24 callers, half through each controller, six agents: every caller is served, and
    no agent's phone ever has two calls at once."""
    with rig(store, tmp_path, controllers=2, tiers=[f"cn_a{n}" for n in range(6)]) as r:
        from fsapps.sim.dialplan import StaticDialplan

        dp = StaticDialplan()
        for i, c in enumerate(r.controllers):
            dp.add("public", f"^700{i}$", [
                ("answer", ""), ("set", "fsapps_tenant=cablenet"), ("set", "fsapps_flow=main"),
                ("set", "fsapps_node=business"), ("set", "socket_resume=true"),
                ("socket", f"127.0.0.1:{c.server.port}/flow async full"), ("hangup", ""),
            ])  # fmt: skip
        r.switch.dialplan = dp
        for n in range(6):
            r.agent(f"cn_a{n}", Endpoint(answer_after=0.4, hangup_after=3.0))
        events: list = []
        with r.switch.watching(events.append):
            calls = []
            for k in range(24):
                calls.append(r.switch.place_call(f"700{k % 2}", caller_id_number=f"1390000{k:04d}",
                                                 script=CallerScript()))  # fmt: skip
                gevent.sleep(0.05)
            for ch in calls:
                assert ch.destroyed.wait(90), "\n".join(r.switch.call_log(ch.uuid))
        rows = wait_for(lambda: len(r.queue_calls()) == 24 and r.queue_calls())
        assert sorted({q["outcome"] for q in rows}) == ["answered"], rows
        assert [c.server.accepted for c in r.controllers] == [12, 12]
        # Each agent leg's answered span, from the switch's own events.
        spans: dict[str, list[tuple[float, float]]] = {}
        start: dict[str, tuple[str, float]] = {}
        for e in events:
            agent = e.get("variable_fsapps_agent")
            if not agent:
                continue
            stamp = int(e.get("Event-Date-Timestamp")) / 1e6
            if e.name == "CHANNEL_ANSWER":
                start[e.get("Unique-ID")] = (agent, stamp)
            elif e.name == "CHANNEL_HANGUP" and e.get("Unique-ID") in start:
                a, t0 = start.pop(e.get("Unique-ID"))
                spans.setdefault(a, []).append((t0, stamp))
        assert sum(len(s) for s in spans.values()) == 24
        for agent, s in spans.items():
            s.sort()
            for (_, end), (begin, _) in itertools.pairwise(s):
                assert begin >= end, (agent, s)
        for n in range(6):
            row = r.agent_row(f"cn_a{n}")
            assert (row["state"], row["offered_member"]) == ("Waiting", None)


def test_controller_killed_while_callers_wait_hands_them_to_the_other(store, tmp_path) -> None:
    with rig(store, tmp_path, controllers=2) as r:
        first, second = r.controllers
        callers = [r.call(keypad=["1", "5"], caller=f"1370000000{k}") for k in range(3)]
        waiting = wait_for(lambda: len(r.members()) == 3 and r.members())
        joined = {str(m["uuid"]): m["joined_epoch"] for m in waiting}
        assert {str(m["uuid"]) for m in waiting} == {c.uuid for c in callers}
        assert len(first.server.calls) == 3 and not second.server.calls
        crash(first)
        # The rendered route sends each caller to the next controller once their hold-music
        # clip ends; their places (joined times) are kept.
        wait_for(lambda: len(second.server.calls) == 3, timeout=40)
        assert len(second.server.calls) == 3
        assert {str(m["uuid"]): m["joined_epoch"] for m in r.members()} == joined
        # An agent logs in: the callers are served in the order they joined, none dropped.
        r.agent("cn_wang", Endpoint(answer_after=0.5, hangup_after=2.0))
        for ch in callers:
            assert ch.destroyed.wait(120), r.switch.call_log(ch.uuid)
        rows = wait_for(lambda: len(r.queue_calls()) == 3 and r.queue_calls())
        assert [q["outcome"] for q in rows] == ["answered"] * 3
        assert [str(q["call_uuid"]) for q in sorted(rows, key=lambda q: q["ended_at"])] == [
            c.uuid for c in sorted(callers, key=lambda c: joined[c.uuid])
        ]
        with store.tenant("cablenet") as t:
            assert len(t._all("SELECT 1 FROM survey_answers WHERE score = 5")) == 3


def test_a_caller_a_transfer_node_put_in_a_queue_is_handed_to_the_other_controller(store, tmp_path) -> None:
    """harbourbank's menu 2 then 2 is ``loans_queue``, a transfer node into the loans queue: its
    caller is held by the dialplan and handed over as a queue node's is, place kept."""
    with rig(store, tmp_path, controllers=2, tenant="harbourbank") as r:
        first, second = r.controllers
        ch = r.call(keypad=["2", "2"])
        (waiting,) = wait_for(r.members)
        assert (str(waiting["uuid"]), waiting["queue"]) == (ch.uuid, "loans")
        assert len(first.server.calls) == 1 and not second.server.calls
        crash(first)
        assert wait_for(lambda: len(second.server.calls) == 1, timeout=40), "\n".join(r.switch.call_log(ch.uuid))
        assert [(str(m["uuid"]), m["joined_epoch"]) for m in r.members()] == [(ch.uuid, waiting["joined_epoch"])]
        assert ch.up, "\n".join(r.switch.call_log(ch.uuid))
        r.agent("hb_cat", Endpoint(answer_after=0.5, hangup_after=2.0))
        assert ch.destroyed.wait(120), "\n".join(r.switch.call_log(ch.uuid))
        rows = wait_for(r.queue_calls)
        assert [(q["queue"], q["outcome"], q["agent_id"]) for q in rows] == [("loans", "answered", "hb_cat")]
        assert rows[0]["joined_at"].timestamp() == pytest.approx(waiting["joined_epoch"], abs=0.01)
        # Never the sorry message a transfer node's caller heard when its controller died.
        assert not [line for line in r.switch.call_log(ch.uuid) if "NORMAL_TEMPORARY_FAILURE" in line]


def test_caller_is_held_by_the_dialplan_until_a_controller_is_back(store, tmp_path) -> None:
    with rig(store, tmp_path) as r:
        (only,) = r.controllers
        port = only.server.port
        ch = r.call(keypad=["1", "3"])
        waiting = wait_for(lambda: r.members())
        crash(only)

        def refused_thrice() -> list[str]:
            log = r.switch.call_log(ch.uuid)
            return log if sum(line.endswith(" refused") for line in log) >= 3 or not ch.up else []

        # The dialplan plays hold clips and tries again meanwhile.
        log = wait_for(refused_thrice, timeout=60) or r.switch.call_log(ch.uuid)
        assert ch.up, "\n".join(log[-30:])
        refused = [i for i, line in enumerate(log) if line.endswith(" refused")]
        assert len(refused) >= 3, "\n".join(log[-30:])
        # Handed over again at once (the first refusal), then after a second, then between
        # hold clips.
        between = [[line.split("(")[0] for line in log[a:b] if line.startswith(("sleep(", "playback("))]
                   for a, b in itertools.pairwise(refused)]  # fmt: skip
        assert between[:2] == [["sleep"], ["playback"]], "\n".join(log[-30:])
        assert "sleep(1000)" in log[refused[0] : refused[1]]
        r.controllers.append(start_controller(only.context.project, store, r.switch.clock, tmp_path / "back", port))
        r.agent("cn_wang", Endpoint(answer_after=0.5, hangup_after=2.0))
        assert ch.destroyed.wait(120), "\n".join(r.switch.call_log(ch.uuid))
        rows = wait_for(r.queue_calls)
        assert [(q["outcome"], q["agent_id"]) for q in rows] == [("answered", "cn_wang")]
        # Served with the place it had before the controller died.
        assert rows[0]["joined_at"].timestamp() == pytest.approx(waiting[0]["joined_epoch"], abs=0.01)


def test_a_caller_moved_to_another_queue_hears_that_queues_music_while_the_dialplan_holds_them(
    store, tmp_path
) -> None:
    """A supervisor moves the caller from business (the node's queue) to complaints, whose
    moh-sound differs; the controller dies: between the tries to hand them over, the
    dialplan plays complaints' hold music, not the node's queue's."""
    with rig(store, tmp_path, queues={"complaints": {"moh-sound": "thanks"}}) as r:
        (only,) = r.controllers
        ch = r.call(keypad=["1", "3"])
        (waiting,) = wait_for(r.members)
        assert waiting["queue"] == "business"
        with store.operator() as op:
            assert acd.ask_move(op.conn, "cablenet", "business", ch.uuid, "complaints")
        assert wait_for(lambda: [m["queue"] for m in r.members()] == ["complaints"], timeout=30)
        assert wait_for(lambda: r.switch.channels[ch.uuid].get_var("fsapps_queue") == "complaints")
        crash(only)

        def held_twice() -> list[str]:
            log = r.switch.call_log(ch.uuid)
            refused = [i for i, line in enumerate(log) if line.endswith(" refused")]
            return log[refused[0]:] if len(refused) >= 3 or not ch.up else []  # fmt: skip

        log = wait_for(held_twice, timeout=60) or r.switch.call_log(ch.uuid)
        assert ch.up, "\n".join(log[-30:])
        played = [line for line in log if line.startswith("playback(")]
        assert played and all("cablenet/thanks.wav" in line for line in played), "\n".join(log[-30:])
        ch.hangup()
        assert ch.destroyed.wait(30)


def test_controller_dying_the_moment_the_callers_place_is_written_leaves_them_held(store, tmp_path) -> None:
    """The narrowest window: the member row exists, nothing else happened yet. The caller
    is already armed for the hold route, so the dialplan keeps them, not the sorry message."""
    with rig(store, tmp_path) as r:
        (only,) = r.controllers
        dispatcher = only.dispatcher
        join = dispatcher.join

        def join_then_die(w, **how):
            placed = join(w, **how)
            crash(only)
            return placed

        dispatcher.join = join_then_die
        ch = r.call(keypad=["1", "3"])
        wait_for(lambda: r.members())

        def held_after_a_refusal() -> list[str]:
            log = r.switch.call_log(ch.uuid)
            refused = [i for i, line in enumerate(log) if line.endswith(" refused")]
            held = refused and any(line.startswith("playback(tone_stream://") for line in log[refused[0] :])
            return log if held or not ch.up else []

        log = wait_for(held_after_a_refusal, timeout=60) or r.switch.call_log(ch.uuid)
        assert ch.up, "\n".join(log[-30:])
        refused = [i for i, line in enumerate(log) if line.endswith(" refused")]
        assert refused, "\n".join(log[-30:])
        assert any(line.startswith("playback(tone_stream://") for line in log[refused[0] :]), "\n".join(
            log[-30:]
        )
        ch.hangup()


def test_what_a_dead_controller_held_is_freed_by_the_living(store, tmp_path) -> None:
    """A controller dies while an agent's phone rings for its caller, and the caller hangs up
    before any other controller takes them: the others mark the caller Abandoned and put
    the agent back to Waiting (no agent stuck Reserved, no ghost caller keeping a place)."""
    with rig(store, tmp_path, controllers=2) as r:
        first, second = r.controllers
        r.agent("cn_li", Endpoint(answer_after=None))
        ch = r.call(keypad=["1"])
        assert wait_for(lambda: r.agent_row("cn_li")["state"] == "Receiving", timeout=30)
        assert r.agent_row("cn_li")["offered_by"] == first.dispatcher.name
        crash(first)
        r.switch.api("uuid_kill", ch.uuid)
        assert ch.destroyed.wait(30)
        # DEAD_AFTER (10 s on the switch's clock) later, the living controller frees both.
        assert wait_for(lambda: [m["state"] for m in r.members()] == ["Abandoned"], timeout=20)
        assert wait_for(lambda: r.agent_row("cn_li")["state"] == "Waiting", timeout=20)
        row = r.agent_row("cn_li")
        assert (row["offered_member"], row["offered_by"], row["agent_leg"]) == (None, None, None)
        assert second.dispatcher.name != first.dispatcher.name
