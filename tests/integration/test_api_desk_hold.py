"""What the agent's desk reads for Hold / Resume and Pick up, through the HTTP API on the
emulator's calls (test_api_calls' rig): the live call says whether the agent holds the
caller, as the switch has it; GET .../agents/{agent}/pickups lists the calls of the
agent's queues ringing at colleagues' phones, for whoever may pick up for that agent."""

from __future__ import annotations

from fsapps.sim.apps.displace import heard_from
from fsapps.sim.endpoints import Endpoint
from tests.integration.test_api_calls import T, answered_by, api_on_calls
from tests.support.waiting import wait_for


def test_the_live_call_says_whether_the_agent_holds_the_caller(store, tmp_path) -> None:
    with api_on_calls(store, tmp_path) as a:
        wang, sup, admin = a.as_("wang"), a.as_("sup"), a.as_("admin")
        caller, leg = answered_by(a, "cn_wang")

        def held() -> list[tuple[str, bool | None]]:
            return [(c["uuid"], c["held"]) for c in wang.get(f"{T}/calls").json]

        assert held() == [(caller.uuid, False)]
        assert wang.request("POST", f"{T}/agents/cn_wang/call/hold").status == 204
        assert heard_from(a.rig.switch.channels[leg]) != []
        assert held() == [(caller.uuid, True)]
        # Their supervisor and the tenant admin read the same.
        for who in (sup, admin):
            assert [(c["uuid"], c["held"]) for c in who.get(f"{T}/calls").json] == [(caller.uuid, True)]
        assert wang.request("POST", f"{T}/agents/cn_wang/call/unhold").status == 204
        assert held() == [(caller.uuid, False)]
        a.rig.switch.api("uuid_kill", caller.uuid)
        assert caller.destroyed.wait(30)


def test_an_agents_pickups_are_their_queues_calls_ringing_at_colleagues(store, tmp_path) -> None:
    with api_on_calls(store, tmp_path) as a:
        sw = a.rig.switch
        # cn_li serves the business queue too (tenant.yaml's tiers), on a break; cn_zhao does not.
        a.rig.agent("cn_li", Endpoint(answer_after=None), status="On Break")
        wang, zhao, sup, admin = a.as_("wang"), a.as_("zhao"), a.as_("sup"), a.as_("admin")
        sw.register_user("cn_wang", Endpoint(answer_after=None))  # rings until picked up
        assert admin.get(f"{T}/agents/cn_li/pickups").json == []  # nothing rings yet

        caller = a.rig.call(keypad=["1"])
        assert wait_for(lambda: a.rig.agent_row("cn_wang")["state"] == "Receiving", timeout=30)
        (row,) = admin.get(f"{T}/agents/cn_li/pickups").json
        assert (row["uuid"], row["queue"], row["number"], row["ringing"]) == (
            caller.uuid, "business", "13800000001", ["cn_wang"])  # fmt: skip
        assert row["wait_seconds"] >= 0
        # Not the agent it rings at; not an agent of another queue.
        assert wang.get(f"{T}/agents/cn_wang/pickups").json == []
        assert zhao.get(f"{T}/agents/cn_zhao/pickups").json == []
        # Another agent's list is not theirs to read; nor, for a supervisor, another group's agent's.
        r = zhao.request("GET", f"{T}/agents/cn_li/pickups")
        assert (r.status, r.json["code"]) == (403, "forbidden")
        r = sup.request("GET", f"{T}/agents/cn_li/pickups")
        assert (r.status, r.json["code"]) == (403, "forbidden")
        r = a.as_("acme_admin").request("GET", f"{T}/agents/cn_li/pickups")
        assert (r.status, r.json["code"]) == (404, "no_such_tenant")
        r = admin.request("GET", f"{T}/agents/nobody/pickups")
        assert (r.status, r.json["code"]) == (404, "no_such_agent")

        # What the list gives is what the pickup takes: the caller's channel.
        with store.operator() as op:
            op.conn.execute("UPDATE agent_state SET status = 'Available' WHERE agent_id = 'cn_li'")
        r = admin.request("POST", f"{T}/agents/cn_li/call/pickup", {"caller": row["uuid"]})
        assert r.status == 200, r.json
        assert wait_for(lambda: admin.get(f"{T}/agents/cn_li/pickups").json == [], timeout=30)
        sw.api("uuid_kill", caller.uuid)
        assert caller.destroyed.wait(30)
