"""A controller killed mid-conversation drops no call and loses no record, on both switches.

Two callers talk to two agents when the controller that bridged them is killed with
SIGKILL; a new controller starts. The first caller hangs up on their own later: nobody
holds their call then, and the new controller completes the visit from the switch's
CDRs. The second caller's agent hangs up first: the caller goes on in the dialplan to
the new controller, which completes the visit and lets the flow end the call. Both
conversations last their whole length, each visit has one answered row and one agent
usage record, and both agents are free again.

With ring-progressively the caller is uuid-bridged to the agent's own leg and parked when
that leg ends (park_after_bridge), waiting for a controller that is gone: the new
controller sees the agent's leg gone and the caller still there, completes the visit and
sends the caller on by the queue node's branch (fsapps.acd.housekeeping).
"""

from __future__ import annotations

import signal
import time

import gevent
import pytest

from fsapps.apps.context import AppContext
from fsapps.config import ControllerSettings, EslSettings, Settings
from fsapps.controller import Controller
from fsapps.flows.check import check
from fsapps.sim.endpoints import CallerScript
from tests.acceptance.test_queue_scenarios import (
    TARGETS,
    TENANT,
    Target,
    _listening,
    killable_controller,
    target,
)
from tests.support import sipp
from tests.support.waiting import wait_for

FIRST_HANGS_UP = 25.0  # the first caller's own hangup, seconds after the answer
AGENT_HANGS_UP = 20.0  # when the second caller's agent leaves, seconds after the calls began


def _caller(t: Target, number: str, hang_up_after: float | None) -> None:
    """``hang_up_after`` None: the caller stays until the switch hangs up."""
    if t.name == "sim":
        script = CallerScript(hangup_after=hang_up_after)
        ch = t.switch.place_call("5100", caller_id_number=number, script=script)
        assert ch.destroyed.wait(120), "\n".join(t.switch.call_log(ch.uuid))
        return
    if hang_up_after is None:
        run = sipp.place_call("uac_until_bye", t.switch.sip_port("external"), "5100", caller=number,
                              timeout_ms=110000, timeout=120)  # fmt: skip
    else:
        run = sipp.place_call("uac_named", t.switch.sip_port("external"), "5100", caller=number,
                              display=number, talk_ms=int(hang_up_after * 1000), timeout=120)  # fmt: skip
    assert run.completed, run.output + "\n--- switch log ---\n" + t.switch.log_tail()


def _both(rows: list[dict]) -> list[dict] | None:
    return rows if len(rows) == 2 else None


def _replacement(t: Target) -> Controller:
    """The controller that comes back, with the Event Socket: it collects CDRs and can ask the
    switch whether a call that outlived its controller is still up."""
    project = check(t.root)
    assert project.problems == []
    port = t.switch.port if t.name == "sim" else t.switch.esl_port
    ctx = AppContext(project, store=t.store)
    c = Controller(
        Settings(controller=ControllerSettings(listen="127.0.0.1", port=t.port),
                 esl=EslSettings(host="127.0.0.1", port=port, password=t.switch.password),
                 state_dir=str(t.root / "state-back")),
        store=t.store, context=ctx,
    )  # fmt: skip
    ctx.records = c.writer
    return c.start()


@pytest.mark.parametrize("strategy", ["top-down", "ring-progressively"])
@pytest.mark.parametrize("where", TARGETS)
def test_bridged_calls_outlive_a_killed_controller_and_their_visits_complete_once(
    where, strategy, store, tmp_path
) -> None:
    tenant = TENANT.replace("strategy: top-down ", f"strategy: {strategy} ")
    assert f"strategy: {strategy} " in tenant
    with target(where, store, tmp_path, tenant) as t:
        t.agent("acme_a1", "answer")
        t.agent("acme_a2", "answer")
        proc = killable_controller(t, tmp_path)
        back = None
        try:
            assert wait_for(lambda: _listening(t.port), timeout=30), "the controller did not start"
            began = time.monotonic()
            first = gevent.spawn(_caller, t, "447700900201", FIRST_HANGS_UP)
            gevent.sleep(0.5)
            second = gevent.spawn(_caller, t, "447700900202", None)
            talking = wait_for(
                lambda: len(t.rows("SELECT 1 FROM agent_state WHERE state = 'In a queue call'")) == 2,
                timeout=30,
            )
            if not talking:
                proc.kill()
                said = proc.communicate()[0].decode()[-3000:]
                pytest.fail("not both bridged; the controller said:\n" + said)
            (leg,) = t.rows(
                "SELECT agent_leg FROM agent_state WHERE state = 'In a queue call' AND offered_member ="
                " (SELECT uuid FROM queue_members WHERE cid_number = '447700900202')"
            )
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            back = _replacement(t)
            gevent.sleep(max(began + AGENT_HANGS_UP - time.monotonic(), 0))
            esl = back.client
            assert esl is not None and esl.wait_connected(10)
            assert esl.api(f"uuid_kill {leg['agent_leg']} NORMAL_CLEARING").startswith("+OK")
            first.get(timeout=90)
            second.get(timeout=90)
            rows = wait_for(lambda: _both(t.rows("SELECT * FROM queue_calls ORDER BY caller")), timeout=60)
            free = wait_for(
                lambda: len(t.rows("SELECT 1 FROM agent_state WHERE state = 'Waiting'"
                                   " AND offered_member IS NULL")) == 2,
                timeout=10,
            )
        finally:
            if proc.poll() is None:
                proc.kill()
            if back is not None:
                back.stop(grace=1.0)
        assert rows, "the visits were not completed"
        assert [(r["caller"], r["outcome"], r["agent_id"] is not None) for r in rows] == [
            ("447700900201", "answered", True), ("447700900202", "answered", True)
        ]
        # Whole conversations: the first until its own hangup, the second until its agent left.
        assert FIRST_HANGS_UP - 4 <= float(rows[0]["talk_seconds"]) <= FIRST_HANGS_UP + 1, rows[0]
        assert AGENT_HANGS_UP - 6 <= float(rows[1]["talk_seconds"]) <= AGENT_HANGS_UP + 1, rows[1]
        usage = t.rows("SELECT call_uuid, resource_id FROM usage_records WHERE resource = 'agent'")
        assert sorted(str(u["call_uuid"]) for u in usage) == sorted(str(r["call_uuid"]) for r in rows)
        assert free, t.rows("SELECT * FROM agent_state")
