"""The digits a caller keys in reach the agent's screen pop when the collect node says so."""

from __future__ import annotations

from fsapps.sim.endpoints import CallerScript, Endpoint
from tests.integration.test_acd_calls import SPEED, rig
from tests.support.hostile import create_lookup_table
from tests.support.waiting import wait_for


def test_an_account_number_keyed_in_before_the_queue_is_on_the_agents_leg(store, tmp_path) -> None:
    # cablenet's flow: 2 (balance) -> collect cn_account (screen_pop: true) -> lookup -> menu,
    # then 1 -> the business queue, whose agent's leg carries the screen pop.
    with rig(store, tmp_path) as r:
        with store.operator() as op:
            create_lookup_table(op.conn, "account_no text, balance text, due_date text")
            op.conn.execute(
                "INSERT INTO lookup.accounts VALUES ('cablenet', '12345678', '42.50', '2026-12-31')"
            )
        r.agent("cn_wang", Endpoint(answer_after=1.0, hangup_after=2.0))
        script = CallerScript(keypad=["2", "12345678", "1", "4"])
        ch = r.switch.place_call("96171", caller_id_number="13800000001", script=script)
        assert ch.destroyed.wait(120 / SPEED + 30), r.switch.call_log(ch.uuid)
        rows = wait_for(r.queue_calls)
        assert [row["outcome"] for row in rows] == ["answered"], r.switch.call_log(ch.uuid)
        legs = [rec for u, rec in r.switch.history.items() if u != ch.uuid]
        assert [leg.name for leg in legs] == ["sofia/external/cn_wang@127.0.0.1:5080"]
        pop = legs[0].variables
        assert (pop.get("cn_account"), pop.get("cn_balance")) == ("12345678", "42.50"), pop
