"""Agent and supervisor operations on live calls in the emulator: status
changes, blind transfer to another agent, listen / whisper / barge, three-way,
force hangup; with their errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import gevent
import pytest

from fsapps.acd.operations import AgentOperations, OperationError
from fsapps.esl.client import Connection
from fsapps.sim.endpoints import Endpoint
from tests.integration.test_acd_calls import ROOT, crash, rig
from tests.support.waiting import wait_for

SUP = "sofia/external/sup1@127.0.0.1:5080"


def ops_for(r) -> AgentOperations:
    conn = Connection("127.0.0.1", r.switch.port, r.switch.password)
    conn.connect()
    return AgentOperations(r.store, conn.api, now=r.switch.clock.now)


def on_call(r, agent: str = "cn_wang"):
    """A caller answered by ``agent``, talking until the test ends it."""
    ch = r.call(keypad=["1"])
    wait_for(lambda: r.agent_row(agent)["state"] == "In a queue call", timeout=30)
    return ch


def hang_up_after_two_visits(r, caller) -> None:
    """The caller hangs up: their visits were business's with cn_wang, then complaints's
    with cn_zhao (an agent's transfer), each answered and recorded once."""
    r.switch.api("uuid_kill", caller.uuid)
    assert caller.destroyed.wait(30)
    rows = wait_for(lambda: len(r.queue_calls()) == 2 and r.queue_calls())
    assert [(q["queue"], q["outcome"], q["agent_id"]) for q in rows] == [
        ("business", "answered", "cn_wang"),
        ("complaints", "answered", "cn_zhao"),
    ]


def test_status_operations_and_their_errors(store, tmp_path) -> None:
    with rig(store, tmp_path) as r:
        r.agent("cn_wang", Endpoint(), status="Logged Out", wrap_up_time=30)
        ops = ops_for(r)
        ops.login("cn_wang")
        assert r.agent_row("cn_wang")["status"] == "Available"
        ops.take_break("cn_wang", "lunch")
        row = r.agent_row("cn_wang")
        assert (row["status"], row["break_reason"]) == ("On Break", "lunch")
        ops.ready("cn_wang")
        assert (r.agent_row("cn_wang")["status"], r.agent_row("cn_wang")["break_reason"]) == ("Available", "")
        with store.operator() as op:  # just finished a call: in wrap-up for 30 s
            op.conn.execute("UPDATE agent_state SET last_bridge_end = %s", (r.switch.clock.now(),))
        ops.wrap_up_done("cn_wang")
        row = r.agent_row("cn_wang")
        assert row["last_bridge_end"] < r.switch.clock.now() - row["wrap_up_time"]
        ops.logout("cn_wang")
        assert r.agent_row("cn_wang")["status"] == "Logged Out"
        with pytest.raises(OperationError, match="no agent 'nobody'"):
            ops.take_break("nobody", "x")
        with pytest.raises(OperationError, match="not on a queue call"):
            ops.listen("cn_wang", SUP)


def test_supervisor_whispers_to_the_agent_then_hangs_the_call_up(store, tmp_path) -> None:
    with rig(store, tmp_path) as r:
        r.agent("cn_wang", Endpoint(answer_after=0.5))
        r.switch.register_user("sup1", Endpoint(answer_after=0.2))
        ops = ops_for(r)
        events: list = []
        with r.switch.watching(events.append):
            caller = on_call(r)
            leg = str(r.agent_row("cn_wang")["agent_leg"])
            with pytest.raises(OperationError, match="mode 'shout'"):
                ops.listen("cn_wang", SUP, "shout")
            spy = ops.listen("cn_wang", SUP, "whisper")
            ran = wait_for(lambda: [e for e in events if e.name == "CHANNEL_EXECUTE"
                                    and e.get("Application") == "eavesdrop"])  # fmt: skip
            assert [(e.get("Unique-ID"), e.get("Application-Data")) for e in ran] == [(spy, leg)]
            assert ran[0].get("variable_eavesdrop_whisper_aleg") == "true"
            assert ran[0].get("variable_eavesdrop_whisper_bleg") is None
            ops.logout("cn_wang")  # going home after this call: the call's end must not undo it
            ops.force_hangup("cn_wang")
            assert caller.destroyed.wait(30)
            # The call is over for everyone: the agent's leg and the supervisor's.
            gone = wait_for(
                lambda: {e.get("Unique-ID") for e in events if e.name == "CHANNEL_DESTROY"} >= {leg, spy}
            )
            assert gone
        rows = wait_for(r.queue_calls)
        assert [(q["outcome"], q["agent_id"]) for q in rows] == [("answered", "cn_wang")]
        wait_for(lambda: r.agent_row("cn_wang")["state"] == "Waiting")
        row = r.agent_row("cn_wang")
        assert (row["status"], row["state"], row["agent_leg"]) == ("Logged Out", "Waiting", None)


def test_blind_transfer_to_another_agent_and_three_way(store, tmp_path) -> None:
    with rig(store, tmp_path) as r:
        r.agent("cn_wang", Endpoint(answer_after=0.5))
        r.agent(
            "cn_zhao", Endpoint(answer_after=0.5), status="On Break"
        )  # not in the queue: reached directly
        r.switch.register_user("ext9", Endpoint(answer_after=0.2))
        ops = ops_for(r)
        caller = on_call(r)
        third = ops.three_way("cn_wang", "sofia/external/ext9@127.0.0.1:5080", caller_id="96171")
        wait_for(lambda: any("three_way(" in line for line in r.switch.call_log(third)))
        with pytest.raises(OperationError, match="no agent 'cn_nobody' with a phone"):
            ops.transfer("cn_wang", to_agent="cn_nobody")
        with pytest.raises(OperationError, match="not a dial target"):
            ops.transfer("cn_wang", dial="sofia/gateway/x/1 &park")
        ops.transfer("cn_wang", to_agent="cn_zhao")
        log = wait_for(lambda: [line for line in r.switch.call_log(caller.uuid) if "cn_zhao" in line])
        assert any(line.startswith("bridge(") and "}sofia/external/cn_zhao@" in line for line in log), log
        # The first agent's part is over: their call is counted and they are free.
        wait_for(lambda: r.agent_row("cn_wang")["state"] == "Waiting")
        assert r.agent_row("cn_wang")["calls_answered"] == 1
        r.switch.api("uuid_kill", caller.uuid)
        assert caller.destroyed.wait(30)


def test_cli_call_control_says_why_it_cannot(store, tmp_path, capsys, monkeypatch) -> None:
    """`fsapps agent whisper` with an agent not on a call: one line, exit status 1."""
    from fsapps import cli

    with rig(store, tmp_path) as r:
        r.agent("cn_wang", Endpoint())
        config = tmp_path / "fsapps.yaml"
        config.write_text(
            f"database: {{dsn: '{store.dsn}'}}\nesl: {{port: {r.switch.port}, password: {r.switch.password}}}\n"
        )
        assert cli.main(["agent", "whisper", "cn_wang", "--dial", SUP, "--config", str(config)]) == 1
        assert capsys.readouterr().out == "fsapps: agent 'cn_wang' is not on a queue call (Waiting)\n"
        assert cli.main(["agent", "wrap-up-done", "cn_wang", "--config", str(config)]) == 0
        assert cli.main(["agent", "pickup", "cn_wang", "--config", str(config)]) == 1
        assert capsys.readouterr().out == "fsapps: pick up which call? (--from-agent or --caller)\n"
        assert (
            cli.main(["agent", "pickup", "cn_wang", "--from-agent", "cn_wang", "--config", str(config)]) == 1
        )
        assert capsys.readouterr().out == "fsapps: no call rings at agent 'cn_wang' (Waiting)\n"
        assert cli.main(["agent", "complete", "cn_wang", "--config", str(config)]) == 1
        assert capsys.readouterr().out == "fsapps: agent 'cn_wang' is not on a queue call (Waiting)\n"


def test_transfer_to_another_queue_makes_a_new_visit(store, tmp_path, capsys) -> None:
    """cablenet's business agent sends the caller to the complaints queue (top-down: cn_zhao)."""
    with rig(store, tmp_path) as r:
        r.agent("cn_wang", Endpoint(answer_after=0.5))
        r.agent("cn_zhao", Endpoint(answer_after=0.5))
        ops = ops_for(r)
        with store.operator() as op:  # cn_zhao takes only complaints here
            op.conn.execute("UPDATE agent_state SET skills = '{\"complaints\": 3}'")
        caller = on_call(r, "cn_wang")
        with pytest.raises(OperationError, match="is not on a queue call"):
            ops.transfer("cn_zhao", to_queue="complaints")
        # `fsapps agent transfer` knows the tenant's queues from the flows: a queue cablenet
        # does not have is refused, the caller left talking to cn_wang.
        from fsapps import cli

        config = tmp_path / "fsapps.yaml"
        config.write_text(
            f"database: {{dsn: '{store.dsn}'}}\nesl: {{port: {r.switch.port}, password: {r.switch.password}}}\n"
            f"flows: {{dir: '{ROOT / 'dialplan'}'}}\n"
        )
        argv = ["agent", "transfer", "cn_wang", "--to-queue", "loans", "--config", str(config)]
        assert cli.main(argv) == 1  # harbourbank's
        assert capsys.readouterr().out == "fsapps: no queue 'loans' for 'cablenet''s callers\n"
        assert r.agent_row("cn_wang")["state"] == "In a queue call"
        ops.transfer("cn_wang", to_queue="complaints")
        wait_for(lambda: r.agent_row("cn_zhao")["state"] == "In a queue call", timeout=30)
        assert str(r.agent_row("cn_zhao")["offered_member"]) == caller.uuid, "\n".join(
            r.switch.call_log(caller.uuid)[-25:]
        )
        hang_up_after_two_visits(r, caller)


def test_a_ring_progressively_caller_transferred_to_a_queue_goes_on_in_the_flow_after_it(store, tmp_path) -> None:
    """business rings progressively: cn_wang's leg is originated on its own and the caller
    uuid-bridged to it, which takes them out of the queue node's extension. cn_wang sends
    them to complaints, where cn_zhao answers and later hangs up: the caller goes on by
    the node's branch (the survey), not parked in silence."""
    with rig(store, tmp_path, queues={"business": {"strategy": "ring-progressively"}}) as r:
        r.agent("cn_wang", Endpoint(answer_after=0.5))
        r.agent("cn_zhao", Endpoint(answer_after=0.5, hangup_after=3.0))
        ops = ops_for(r)
        with store.operator() as op:  # cn_zhao takes only complaints here
            op.conn.execute("UPDATE agent_state SET skills = '{\"complaints\": 3}'")
        caller = on_call(r, "cn_wang")
        assert r.switch.channels[caller.uuid].get_var("park_after_bridge") == "true"  # the uuid_bridge path
        ops.transfer("cn_wang", to_queue="complaints")
        wait_for(lambda: r.agent_row("cn_zhao")["state"] == "In a queue call", timeout=30)
        before = len(r.switch.call_log(caller.uuid))
        survey = wait_for(
            lambda: [line for line in r.switch.call_log(caller.uuid)[before:] if line.startswith("play_and_get_digits")],
            timeout=60,
        )
        assert survey, "\n".join(r.switch.call_log(caller.uuid)[-40:])
        caller.hangup()
        assert caller.destroyed.wait(30)
        rows = wait_for(lambda: len(r.queue_calls()) == 2 and r.queue_calls())
        assert [(q["queue"], q["outcome"], q["agent_id"]) for q in rows] == [
            ("business", "answered", "cn_wang"), ("complaints", "answered", "cn_zhao"),
        ]  # fmt: skip


def test_a_ring_progressively_caller_transferred_to_a_number_goes_on_in_the_flow_after_it(store, tmp_path) -> None:
    """business rings progressively (uuid_bridge: the caller leaves the queue node's
    extension); cn_wang sends the caller to ext9, who hangs up after a while: the caller goes
    on by the node's branch (the survey), not parked in silence by that bridge's end."""
    with rig(store, tmp_path, queues={"business": {"strategy": "ring-progressively"}}) as r:
        r.agent("cn_wang", Endpoint(answer_after=0.5))
        r.switch.register_user("ext9", Endpoint(answer_after=0.2, hangup_after=3.0))
        ops = ops_for(r)
        caller = on_call(r, "cn_wang")
        assert r.switch.channels[caller.uuid].get_var("park_after_bridge") == "true"  # the uuid_bridge path
        before = len(r.switch.call_log(caller.uuid))
        ops.transfer("cn_wang", dial="sofia/external/ext9@127.0.0.1:5080")
        survey = wait_for(
            lambda: [line for line in r.switch.call_log(caller.uuid)[before:] if line.startswith("play_and_get_digits")],
            timeout=30,
        )
        log = r.switch.call_log(caller.uuid)[before:]
        assert survey, "\n".join(log)
        assert any(line.startswith("bridge(") and "ext9@" in line for line in log), log
        caller.hangup()
        assert caller.destroyed.wait(30)
        rows = wait_for(r.queue_calls)
        assert [(q["queue"], q["outcome"], q["agent_id"]) for q in rows] == [("business", "answered", "cn_wang")]


def test_a_ring_progressively_caller_transferred_to_a_queue_who_times_out_there_takes_the_timeout_branch(
    store, tmp_path
) -> None:
    """As above, but nobody in complaints is free (cn_zhao on break, cn_wang in a long
    wrap-up): at complaints's max-wait-time the caller takes the node's timeout branch (the
    after-hours message and box), not left parked in silence when the socket closes."""
    queues = {"business": {"strategy": "ring-progressively"}, "complaints": {"max-wait-time": 20}}
    with rig(store, tmp_path, queues=queues) as r:
        r.agent("cn_wang", Endpoint(answer_after=0.5), wrap_up_time=600)
        r.agent("cn_zhao", Endpoint(answer_after=0.5), status="On Break")
        ops = ops_for(r)
        caller = on_call(r, "cn_wang")
        assert r.switch.channels[caller.uuid].get_var("park_after_bridge") == "true"  # the uuid_bridge path
        before = len(r.switch.call_log(caller.uuid))
        ops.transfer("cn_wang", to_queue="complaints")
        closed = wait_for(
            lambda: [line for line in r.switch.call_log(caller.uuid)[before:] if "closed" in line],
            timeout=30,
        )
        assert closed and closed[0].startswith("playback("), "\n".join(r.switch.call_log(caller.uuid)[before:])
        rows = wait_for(lambda: len(r.queue_calls()) == 2 and r.queue_calls())
        assert [(q["queue"], q["outcome"], q["agent_id"]) for q in rows] == [
            ("business", "answered", "cn_wang"), ("complaints", "overflowed", None),
        ]  # fmt: skip
        assert r.switch.channels[caller.uuid].get_var("park_after_bridge") in (None, "")
        caller.hangup()
        assert caller.destroyed.wait(30)


def test_a_caller_transferred_to_a_queue_waits_there_when_their_controller_dies(store, tmp_path) -> None:
    """cn_wang sends the caller to complaints (top-down: cn_zhao, cn_wang), where nobody is
    free yet: cn_zhao on break, cn_wang in a long wrap-up. The controller holding them dies:
    the dialplan resumes them at their flow's queue node (business) on the other controller,
    which puts them back in complaints with their place, not in business; cn_zhao serves
    them once logged in."""
    with rig(store, tmp_path, controllers=2) as r:
        first, second = r.controllers
        r.agent("cn_wang", Endpoint(answer_after=0.5), wrap_up_time=3600)
        r.agent("cn_zhao", Endpoint(answer_after=0.5), status="On Break")
        ops = ops_for(r)
        caller = on_call(r, "cn_wang")
        assert [c.uuid for c in first.server.calls] == [caller.uuid]
        ops.transfer("cn_wang", to_queue="complaints")
        channel = r.switch.channels[caller.uuid]
        wait_for(lambda: channel.variables.get("fsapps_queue") == "complaints", timeout=30)
        (moved,) = r.members()
        assert (moved["queue"], moved["state"]) == ("complaints", "Waiting")
        crash(first)
        resumed = wait_for(lambda: [m for m in r.members() if m["controller"] == second.dispatcher.name], timeout=40)
        assert [(m["queue"], m["state"], m["joined_epoch"]) for m in resumed] == [
            ("complaints", "Waiting", moved["joined_epoch"])
        ], "\n".join(r.switch.call_log(caller.uuid)[-30:])
        ops.login("cn_zhao")
        wait_for(lambda: r.agent_row("cn_zhao")["state"] == "In a queue call", timeout=30)
        assert str(r.agent_row("cn_zhao")["offered_member"]) == caller.uuid
        hang_up_after_two_visits(r, caller)


def test_pickup_of_a_call_ringing_at_another_agent(store, tmp_path) -> None:
    """cn_wang's phone rings and is not answered; cn_zhao (not in the queue) takes the call:
    no no-answer for cn_wang, the caller put through to cn_zhao as the call's agent."""
    with rig(store, tmp_path) as r:
        r.agent("cn_wang", Endpoint(answer_after=None), max_no_answer=1, no_answer_delay_time=60)
        r.agent("cn_zhao", Endpoint(answer_after=0.5), status="On Break")
        ops = ops_for(r)
        with pytest.raises(OperationError, match="no call rings at agent 'cn_wang'"):
            ops.pickup("cn_zhao", ringing_at="cn_wang")
        caller = r.call(keypad=["1"])
        wait_for(lambda: r.agent_row("cn_wang")["state"] == "Receiving", timeout=30)
        rung = str(r.agent_row("cn_wang")["agent_leg"])
        with pytest.raises(OperationError, match="already rings at agent 'cn_wang'"):
            ops.pickup("cn_wang", caller=caller.uuid)
        leg = ops.pickup("cn_zhao", ringing_at="cn_wang")
        wait_for(lambda: r.agent_row("cn_zhao")["state"] == "In a queue call", timeout=30)
        zhao, wang = r.agent_row("cn_zhao"), r.agent_row("cn_wang")
        assert (str(zhao["offered_member"]), str(zhao["agent_leg"])) == (caller.uuid, leg)
        assert r.switch.channels[caller.uuid].bridged_to.uuid == leg
        # The offer to cn_wang was withdrawn, not missed: no count, no delay, no break.
        assert (wang["status"], wang["state"], wang["no_answer_count"], wang["offered_member"]) == (
            "Available", "Waiting", 0, None)  # fmt: skip
        assert wang["ready_time"] < r.switch.clock.now()
        assert r.switch.history[rung].hangup_cause == "PICKED_OFF"
        r.switch.api("uuid_kill", caller.uuid)
        assert caller.destroyed.wait(30)
        rows = wait_for(r.queue_calls)
        assert [(q["outcome"], q["agent_id"], q["offers"]) for q in rows] == [("answered", "cn_zhao", 2)]
        zhao = wait_for(lambda: r.agent_row("cn_zhao")["state"] == "Waiting" and r.agent_row("cn_zhao"))
        assert (zhao["calls_answered"], zhao["offered_member"]) == (1, None)


def test_attended_transfer_cancelled_then_completed(store, tmp_path) -> None:
    """cn_wang consults ext9 (the caller holds), cancels (back to the caller), consults
    cn_zhao and completes: the caller talks to cn_zhao, cn_wang is free with one call."""
    with rig(store, tmp_path) as r:
        r.agent("cn_wang", Endpoint(answer_after=0.5))
        r.agent("cn_zhao", Endpoint(answer_after=0.5), status="On Break")
        r.switch.register_user("ext9", Endpoint(answer_after=0.2))
        ops = ops_for(r)
        caller = on_call(r)
        ch = r.switch.channels[caller.uuid]
        leg = str(r.agent_row("cn_wang")["agent_leg"])
        with pytest.raises(OperationError, match="not consulting anyone"):
            ops.complete_transfer("cn_wang")
        first = ops.consult("cn_wang", dial="sofia/external/ext9@127.0.0.1:5080")
        wait_for(lambda: r.switch.channels[leg].bridged_to is not None
                 and r.switch.channels[leg].bridged_to.uuid == first)  # fmt: skip
        assert wait_for(
            lambda: any(line.startswith("playback(") for line in r.switch.call_log(caller.uuid)[-5:])
        ), "\n".join(r.switch.call_log(caller.uuid)[-30:])
        assert ch.bridged_to is None  # on hold
        with pytest.raises(OperationError, match="consulting already"):
            ops.consult("cn_wang", to_agent="cn_zhao")
        ops.cancel_transfer("cn_wang")
        wait_for(lambda: ch.bridged_to is not None and ch.bridged_to.uuid == leg, timeout=15)
        assert wait_for(lambda: first not in r.switch.channels)
        assert r.agent_row("cn_wang")["state"] == "In a queue call"
        second = ops.consult("cn_wang", to_agent="cn_zhao")
        wait_for(lambda: ch.bridged_to is None, timeout=15)
        ops.complete_transfer("cn_wang")
        wait_for(lambda: ch.bridged_to is not None and ch.bridged_to.uuid == second, timeout=15)
        assert wait_for(lambda: leg not in r.switch.channels)
        wang = wait_for(lambda: r.agent_row("cn_wang")["state"] == "Waiting" and r.agent_row("cn_wang"))
        assert (wang["calls_answered"], wang["offered_member"], wang["agent_leg"]) == (1, None, None)
        rows = wait_for(r.queue_calls)
        assert [(q["outcome"], q["agent_id"]) for q in rows] == [("answered", "cn_wang")]
        # The talk time runs from the answer to the completion, the consults included.
        assert float(rows[0]["talk_seconds"]) > 0
        # cn_zhao hangs up. uuid_bridge took the caller out of the dialplan's extension
        # (its caller profile is stepped, switch_ivr_bridge.c:2121), and parked after the
        # bridge they would stay parked for good once the controller lets go (seen on
        # 1.10.12): the controller routes them on by the queue node's branch, so the flow
        # goes on to its survey.
        before = len(r.switch.call_log(caller.uuid))
        r.switch.api("uuid_kill", second)
        assert wait_for(lambda: r.members() == [])
        survey = wait_for(
            lambda: [line for line in r.switch.call_log(caller.uuid)[before:] if line.startswith("play_and_get_digits")],
            timeout=30,
        )
        assert survey, "\n".join(r.switch.call_log(caller.uuid)[before:])
        caller.hangup()
        assert caller.destroyed.wait(30)


@contextmanager
def hung_up_on_bridge(r, caller, other: str) -> Iterator[None]:
    """Within the block, the caller hangs up the moment they are bridged to ``other``: the
    emulator's CHANNEL_BRIDGE, before any controller hears of it."""

    def on_event(ev) -> None:
        if ev.name == "CHANNEL_BRIDGE" and ev.uuid == caller.uuid and ev.get("Other-Leg-Unique-ID") == other:
            gevent.spawn(r.switch.api, "uuid_kill", caller.uuid)

    with r.switch.watching(on_event):
        yield


def consulting_ext9(r, *, cancel: bool = False):
    """cn_wang talks with the caller, then consults ext9 while the caller holds; with
    ``cancel``, cancels (the caller is bridged back to cn_wang with uuid_bridge, out of the
    queue node's extension). Returns the caller, cn_wang's leg and ext9's."""
    r.agent("cn_wang", Endpoint(answer_after=0.5))
    r.switch.register_user("ext9", Endpoint(answer_after=0.2))
    ops = ops_for(r)
    caller = on_call(r)
    ch = r.switch.channels[caller.uuid]
    leg = str(r.agent_row("cn_wang")["agent_leg"])
    first = ops.consult("cn_wang", dial="sofia/external/ext9@127.0.0.1:5080")
    wait_for(lambda: r.switch.channels[leg].bridged_to is not None
             and r.switch.channels[leg].bridged_to.uuid == first)  # fmt: skip
    if cancel:
        ops.cancel_transfer("cn_wang")
        wait_for(lambda: ch.bridged_to is not None and ch.bridged_to.uuid == leg, timeout=15)
        # Then the visit takes park_after_bridge off cn_wang's leg (uuid_setvar, a round trip
        # after the uuid_bridge; a caller hanging up within it: test_a_caller_who_hangs_up_as_a_cancel...).
        agent = r.switch.channels[leg]
        assert wait_for(lambda: agent.variables.get("park_after_bridge") == "false", timeout=15)
    return caller, leg, first


def test_after_a_cancelled_consult_the_agents_hangup_sends_the_caller_on_in_the_flow(store, tmp_path) -> None:
    """cn_wang consults ext9 and cancels: the caller is bridged back to them with uuid_bridge,
    which took the caller out of the queue node's extension. When cn_wang hangs up, the
    caller goes on by the node's branch (the survey), not parked in silence; cn_wang's leg
    is not kept either."""
    with rig(store, tmp_path) as r:
        caller, leg, first = consulting_ext9(r, cancel=True)
        assert wait_for(lambda: first not in r.switch.channels)
        before = len(r.switch.call_log(caller.uuid))
        r.switch.api("uuid_kill", leg)
        survey = wait_for(
            lambda: [line for line in r.switch.call_log(caller.uuid)[before:] if line.startswith("play_and_get_digits")],
            timeout=30,
        )
        assert survey, "\n".join(r.switch.call_log(caller.uuid)[before:])
        rows = wait_for(r.queue_calls)
        assert [(q["outcome"], q["agent_id"]) for q in rows] == [("answered", "cn_wang")]
        caller.hangup()
        assert caller.destroyed.wait(30)


def test_after_a_cancelled_consult_the_callers_hangup_ends_the_agents_leg(store, tmp_path) -> None:
    """The consult set park_after_bridge on cn_wang's leg (so it outlives the consulted
    party): once cancelled, the caller hanging up must hang up cn_wang's phone too, not
    leave it parked while the ACD offers cn_wang new calls."""
    with rig(store, tmp_path) as r:
        caller, leg, _ = consulting_ext9(r, cancel=True)
        caller.hangup()
        assert caller.destroyed.wait(30)
        assert wait_for(lambda: leg not in r.switch.channels, timeout=15), "\n".join(r.switch.call_log(leg)[-10:])
        wang = wait_for(lambda: r.agent_row("cn_wang")["state"] == "Waiting" and r.agent_row("cn_wang"))
        assert wang["calls_answered"] == 1


def test_a_caller_who_hangs_up_as_a_cancel_bridges_them_back_leaves_no_phone_parked(store, tmp_path) -> None:
    """The caller hangs up the moment the cancel's uuid_bridge takes them back to cn_wang,
    before the visit takes park_after_bridge off cn_wang's leg (a round trip later): that
    bridge's end parks the leg. The visit, hearing the caller go, hangs it up: the phone
    does not stay up in silence while the ACD skips cn_wang as being on another call."""
    with rig(store, tmp_path) as r:
        caller, leg, _ = consulting_ext9(r)
        ops = ops_for(r)
        with hung_up_on_bridge(r, caller, leg):
            ops.cancel_transfer("cn_wang")
            assert caller.destroyed.wait(30)
        assert wait_for(lambda: leg not in r.switch.channels, timeout=15), "\n".join(r.switch.call_log(leg)[-10:])
        wang = wait_for(lambda: r.agent_row("cn_wang")["state"] == "Waiting" and r.agent_row("cn_wang"))
        assert wang["calls_answered"] == 1


def test_a_caller_who_hangs_up_as_a_completed_consult_hands_them_on_leaves_no_phone_parked(store, tmp_path) -> None:
    """As above, on a complete: the caller hangs up the moment the uuid_bridge hands them to
    ext9, before the visit takes park_after_bridge off ext9's leg. The visit hangs that leg
    up: ext9's phone does not stay up in silence."""
    with rig(store, tmp_path) as r:
        caller, leg, first = consulting_ext9(r)
        ops = ops_for(r)
        with hung_up_on_bridge(r, caller, first):
            ops.complete_transfer("cn_wang")
            assert caller.destroyed.wait(30)
        assert wait_for(lambda: first not in r.switch.channels, timeout=15), "\n".join(r.switch.call_log(first)[-10:])
        assert wait_for(lambda: leg not in r.switch.channels, timeout=15)  # cn_wang's part ended at the hand-on
        rows = wait_for(r.queue_calls)
        assert [(q["outcome"], q["agent_id"]) for q in rows] == [("answered", "cn_wang")]


def test_a_caller_who_hangs_up_during_a_consult_leaves_no_phone_parked(store, tmp_path) -> None:
    """cn_wang consults ext9 while the caller holds; the caller hangs up. cn_wang and ext9
    may finish their conversation, but whoever of them hangs up ends the other's call too:
    the consult's park_after_bridge must not leave the other phone up in silence."""
    with rig(store, tmp_path) as r:
        caller, leg, first = consulting_ext9(r)
        caller.hangup()
        assert caller.destroyed.wait(30)
        rows = wait_for(r.queue_calls)
        assert [(q["outcome"], q["agent_id"]) for q in rows] == [("answered", "cn_wang")]
        assert r.switch.channels[leg].bridged_to is not None  # still talking to ext9
        r.switch.api("uuid_kill", first)
        assert wait_for(lambda: leg not in r.switch.channels, timeout=15), "\n".join(r.switch.call_log(leg)[-10:])
        assert wait_for(lambda: r.agent_row("cn_wang")["state"] == "Waiting")


def test_cli_holds_and_resumes_an_agents_caller(store, tmp_path, capsys) -> None:
    """`fsapps agent hold` / `unhold`, the API's operations: the caller hears the queue's
    hold music in place of the agent (a looped read-side displace on the agent's leg),
    then the agent again; each asked twice says why not."""
    from fsapps import cli
    from fsapps.acd.config import DEFAULT_MOH
    from fsapps.sim.apps.displace import heard_from

    with rig(store, tmp_path) as r:
        r.agent("cn_wang", Endpoint(answer_after=0.5))
        config = tmp_path / "fsapps.yaml"
        config.write_text(
            f"database: {{dsn: '{store.dsn}'}}\nesl: {{port: {r.switch.port}, password: {r.switch.password}}}\n"
        )
        caller = on_call(r)
        leg = r.switch.channels[str(r.agent_row("cn_wang")["agent_leg"])]
        assert cli.main(["agent", "hold", "cn_wang", "--config", str(config)]) == 0
        assert heard_from(leg) == [DEFAULT_MOH]
        assert r.switch.channels[caller.uuid].bridged_to is leg
        assert cli.main(["agent", "hold", "cn_wang", "--config", str(config)]) == 1
        assert capsys.readouterr().out == "fsapps: agent 'cn_wang''s caller is on hold already\n"
        assert cli.main(["agent", "unhold", "cn_wang", "--config", str(config)]) == 0
        assert heard_from(leg) == [] and r.switch.channels[caller.uuid].bridged_to is leg
        assert cli.main(["agent", "unhold", "cn_wang", "--config", str(config)]) == 1
        assert capsys.readouterr().out == "fsapps: agent 'cn_wang''s caller is not on hold\n"
        # A consult from hold: the agent's leg goes to the consulted party without the music.
        r.agent("cn_zhao", Endpoint(answer_after=0.5), status="On Break")
        assert cli.main(["agent", "hold", "cn_wang", "--config", str(config)]) == 0
        ops = ops_for(r)
        consulted = ops.consult("cn_wang", to_agent="cn_zhao")
        assert heard_from(leg) == []
        assert wait_for(lambda: leg.bridged_to is not None and leg.bridged_to.uuid == consulted, timeout=15)
        r.switch.api("uuid_kill", caller.uuid)
        assert caller.destroyed.wait(30)
