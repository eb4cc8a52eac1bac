"""A supervisor listens in on an agent's direct call (one no queue made: here rung straight at
the agent's phone) as on a queue call: whisper through the API puts an eavesdrop on the
agent's leg from the supervisor's phone. Not when the agent also serves another tenant: a
direct call carries no tenant, and could be the other tenant's customer."""

from __future__ import annotations

from typing import Any

import gevent

from fsapps.sim.endpoints import Endpoint
from fsapps.store import api as repo
from fsapps.store.records import Tenant
from tests.browser.test_floor_direct_calls import floor
from tests.support.api import PASSWORD, Client
from tests.support.waiting import wait_for

WHISPER = "/api/v1/tenants/popco/agents/pop_bob/call/whisper"


def test_a_supervisor_whispers_on_an_agents_direct_call_but_not_on_a_shared_agents(
    store: Any, tmp_path: Any
) -> None:
    with floor(store, tmp_path) as f:
        sup_phone = f.switch.register_user("sup1", Endpoint(answer_after=0.2))
        with store.tenant("popco") as t:
            sup = t.add_user("sup", PASSWORD, "supervisor")
            repo.put_group(t, "front", [sup.id], ["pop_ann", "pop_bob"], ["front"])
            api = Client(int(f.base.rsplit(":", 1)[1]), token=t.issue_token(sup.id, "tests"))
        r = api.request("POST", WHISPER, {"extension": "sup1"})
        assert (r.status, r.json["code"]) == (409, "not_now"), r.json  # no call at all

        # A colleague rings bob's phone from the switch, no queue; bob answers.
        dial = "{origination_caller_id_number=13900000001}sofia/external/pop_bob@127.0.0.1:5080 &park()"
        dialled = gevent.spawn(f.switch.api, "originate", dial)
        leg = f.answer("pop_bob", 1)
        assert dialled.get(timeout=30).startswith("+OK "), dialled.value
        bob = "/api/v1/tenants/popco/agents/pop_bob"
        assert wait_for(lambda: api.get(bob).json["direct_call"] is not None)

        r = api.request("POST", WHISPER, {"extension": "sup1"})
        assert r.status == 200, r.json
        spy = r.json["leg"]
        assert wait_for(lambda: sup_phone.calls) == [spy]
        assert wait_for(lambda: f"eavesdrop({leg})" in f.switch.call_log(spy)), f.switch.call_log(spy)
        assert f.switch.channels[spy].get_var("eavesdrop_whisper_aleg") == "true"
        f.switch.api("uuid_kill", spy)

        # bob also serves another tenant: whose customer this is, nobody can tell.
        with store.operator() as op:
            op.add_tenant(Tenant("other", "Other", "other.example"))
            op.conn.execute(
                "INSERT INTO agent_tenants (agent_id, tenant_id, weight) VALUES ('pop_bob', 'other', 1)"
            )
        r = api.request("POST", WHISPER, {"extension": "sup1"})
        assert (r.status, r.json["code"]) == (409, "not_now"), r.json
        assert sup_phone.calls == [spy]
        f.switch.channels[leg].hangup("NORMAL_CLEARING")


def test_a_supervisor_hangs_up_an_agents_direct_call(store: Any, tmp_path: Any) -> None:
    with floor(store, tmp_path) as f:
        with store.tenant("popco") as t:
            sup = t.add_user("sup", PASSWORD, "supervisor")
            repo.put_group(t, "front", [sup.id], ["pop_ann", "pop_bob"], ["front"])
            api = Client(int(f.base.rsplit(":", 1)[1]), token=t.issue_token(sup.id, "tests"))
        hangup = "/api/v1/tenants/popco/agents/pop_bob/call/hangup"
        r = api.request("POST", hangup, {})
        assert (r.status, r.json["code"]) == (409, "not_now"), r.json  # no call at all
        dial = "{origination_caller_id_number=13900000001}sofia/external/pop_bob@127.0.0.1:5080 &park()"
        dialled = gevent.spawn(f.switch.api, "originate", dial)
        leg = f.answer("pop_bob", 1)
        assert dialled.get(timeout=30).startswith("+OK "), dialled.value
        bob = "/api/v1/tenants/popco/agents/pop_bob"
        assert wait_for(lambda: api.get(bob).json["direct_call"] is not None)
        r = api.request("POST", hangup, {})
        assert r.status in (200, 204), r.json
        # The agent's own leg, killed as the supervisor asked: the floor frees them.
        assert wait_for(lambda: "hangup NORMAL_CLEARING" in f.switch.call_log(leg)), f.switch.call_log(leg)
        assert wait_for(lambda: api.get(bob).json["direct_call"] is None)
