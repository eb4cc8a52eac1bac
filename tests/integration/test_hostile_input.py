"""Hostile text through the running system: the example tenant's rendered dialplan on the
emulator, the controller, PostgreSQL. A caller's display name and a looked-up record carry
the hostile-string corpus into the lookup, the read-back, the queue and the agent's screen
pop; nothing runs on the switch, nobody but the agent is dialled, and the agent gets the
text (as fsapps.escape documents it). The same scenario runs on the real switch in
tests/acceptance/test_hostile_real.py.
"""

from __future__ import annotations

import pytest

from fsapps import escape
from fsapps.sim.channel import clean_profile_field
from fsapps.sim.endpoints import CallerScript, Endpoint
from tests.integration.test_acd_calls import SPEED, rig
from tests.support.hostile import MARKER, create_lookup_table
from tests.support.waiting import wait_for

# Three callers, each carrying what aims at the dial string and the expansion at once
# (tests/unit/test_escape.py takes the whole corpus through every escaping function).
AIMED = [
    "Bob}loopback/9664/default|",
    "${system(/bin/touch " + MARKER + ")}',[x]:_:loopback/9664/default$${default_password}\\n",
    "王小明 ${bg_system touch " + MARKER + "}\n{origination_caller_id_number=666}",
]
APIS = ("system", "bg_system", "version", "uuid", "expand", "eval")


def _api_spy(switch, ran: list[tuple[str, str]]) -> None:
    """Every API command the hostile text could reach, recorded instead of run."""
    commands = dict(switch.api_commands)
    for name in APIS:
        commands[name] = lambda sw, arg, lst, name=name: (ran.append((name, arg)), "SPY\n")[1]
    switch.api_commands = commands


@pytest.mark.parametrize("hostile", AIMED, ids=lambda t: repr(t)[:40])
def test_hostile_name_and_record_reach_the_agent_as_text(store, tmp_path, hostile) -> None:
    with rig(store, tmp_path) as r:
        ran: list[tuple[str, str]] = []
        _api_spy(r.switch, ran)
        with store.operator() as op:
            create_lookup_table(op.conn, "account_no text, balance text, due_date text")
            op.conn.execute(
                "INSERT INTO lookup.accounts VALUES ('cablenet', '12345678', %s, %s)", (hostile, hostile)
            )
        r.agent("cn_wang", Endpoint(answer_after=1.0, hangup_after=3.0))
        script = CallerScript(keypad=["2", "12345678", "1", "4"])  # balance, then an agent, then the survey
        ch = r.switch.place_call(
            "96171", caller_id_number="13800000001", caller_id_name=hostile, script=script
        )
        assert ch.destroyed.wait(120 / SPEED + 30), r.switch.call_log(ch.uuid)
        rows = wait_for(r.queue_calls)
        assert [row["outcome"] for row in rows] == ["answered"], r.switch.call_log(ch.uuid)
        assert ran == []
        legs = {rec.name: rec for u, rec in r.switch.history.items() if u != ch.uuid}
        assert list(legs) == ["sofia/external/cn_wang@127.0.0.1:5080"], list(legs)
        agent = next(iter(legs.values()))
        # The screen pop: the looked-up fields as stored (inert), then as a dial string carries them.
        stored = escape.inert(hostile)
        assert r.switch.history[ch.uuid].variables.get("cn_balance", "") == stored
        assert agent.variables.get("cn_balance", "") == escape.dial_value(stored)
        assert agent.variables.get("cn_due_date", "") == escape.dial_value(stored)
        name = escape.dial_value(clean_profile_field(hostile))
        assert agent.variables.get("origination_caller_id_name", "") == (name or "13800000001")


def test_a_tier_naming_another_tenants_agent_never_rings_them(store, tmp_path) -> None:
    """cablenet's YAML lists harbourbank's agent first in a top-down queue: the dispatcher
    rings only agents who serve cablenet (agent_tenants), whatever the YAML says."""
    from fsapps.store import acd
    from fsapps.store.records import Tenant

    with rig(store, tmp_path, tiers=["hb_teller", "cn_wang"]) as r:
        with store.operator() as op:
            op.add_tenant(Tenant("harbourbank", "Harbour Bank", "harbourbank.example", "Asia/Hong_Kong"))
            contact = "sofia/external/hb_teller@127.0.0.1:5080"
            op.add_agent("hb_teller", "hb_teller", {"harbourbank": 1}, contact)
            acd.ensure_agent(op.conn, "hb_teller")
            acd.set_status(op.conn, "hb_teller", "Available", 0)
        teller = r.switch.register_user("hb_teller", Endpoint(answer_after=0.5, hangup_after=2.0))
        r.agent("cn_wang", Endpoint(answer_after=1.0, hangup_after=2.0))
        ch = r.call(keypad=["1", "4"])
        assert ch.destroyed.wait(120 / SPEED + 30), r.switch.call_log(ch.uuid)
        rows = wait_for(r.queue_calls)
        assert [(q["outcome"], q["agent_id"], q["offers"]) for q in rows] == [("answered", "cn_wang", 1)]
        assert teller.calls == []
        assert r.agent_row("hb_teller")["offered_member"] is None


def test_simulate_var_with_an_api_call_prints_text_not_the_switch(capsys) -> None:
    """`fsapps simulate ... --var 'sw_status=${version()}'` printed the switch's version: shopwise's
    flow exports sw_last_status=${sw_status}, and a variable's value is expanded again when it is
    referred to (switch_channel.c:4171). The value is now stored inert."""
    from pathlib import Path

    from fsapps import cli

    root = Path(__file__).resolve().parents[2] / "dialplan"
    code = cli.main([
        "simulate", str(root / "shopwise"), "--to", "08001234567", "--from", "447700900123",
        "--digits", "1,12345678", "--at", "2026-11-23 10:00", "--var", "sw_status=${version()}",
    ])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert "variable   sw_status = %{version()}" in out, out
    assert "sw_last_status = %{version()}" in out, out
    assert "FreeSWITCH Version" not in out and "1.10.12" not in out


def test_the_screen_pop_never_carries_a_variable_the_switch_acts_on(store, tmp_path) -> None:
    """export_vars naming execute_on_answer (or any name a flow may not set) is not copied to the
    agent's leg, where the switch would run it when the agent answers."""
    with rig(store, tmp_path) as r:
        ran: list[tuple[str, str]] = []
        _api_spy(r.switch, ran)
        r.agent("cn_wang", Endpoint(answer_after=1.0, hangup_after=2.0))
        hostile = {
            "export_vars": "execute_on_answer,api_on_answer,fsapps_tenant,cn_note",
            "execute_on_answer": "system /bin/touch " + MARKER,
            "api_on_answer": "system /bin/touch " + MARKER,
            "cn_note": "kept",
        }
        ch = r.switch.place_call(
            "96171", caller_id_number="13800000001", variables=hostile, script=CallerScript(keypad=["1", "4"])
        )
        assert ch.destroyed.wait(120 / SPEED + 30), r.switch.call_log(ch.uuid)
        rows = wait_for(r.queue_calls)
        assert [row["outcome"] for row in rows] == ["answered"]
        (agent,) = [rec for u, rec in r.switch.history.items() if u != ch.uuid]
        assert "execute_on_answer" not in agent.variables and "api_on_answer" not in agent.variables
        assert agent.variables.get("fsapps_tenant") == "cablenet" and agent.variables.get("cn_note") == "kept"
        assert ran == []
