"""Live calls through the HTTP API, end to end: the emulator running cablenet's rendered
dialplan, a controller holding the callers, PostgreSQL, and the API on a TCP port acting
through its own Event Socket connection, as `fsapps serve` runs it.

The matrix (test_api_matrix.py) says who may; these say that what they may do happens on
the call, and that what reaches the switch is only ever the tenant's own targets."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fsapps.esl.client import Connection
from fsapps.flows.check import check
from fsapps.sim.endpoints import Endpoint
from fsapps.sim.switch import SwitchConfig
from fsapps.store import api as repo
from fsapps.store.records import Tenant
from fsapps.web.app import ApiContext
from tests.integration.test_acd_calls import ROOT, Rig, rig
from tests.support.api import PASSWORD, Client, serve_api
from tests.support.waiting import wait_for

T = "/api/v1/tenants/cablenet"


@dataclass
class Api:
    rig: Rig
    port: int
    tokens: dict[str, str]

    def as_(self, who: str) -> Client:
        return Client(self.port, token=self.tokens[who])


def cablenet_queues() -> dict[str, dict[str, Any]]:
    project = check(ROOT / "dialplan", sounds=ROOT / "sounds")
    cablenet = next(t for t in project.tenants if t.id == "cablenet")
    return {name: dict(q.data or {}) for name, q in cablenet.queues.items()}


@contextmanager
def api_on_calls(store, tmp_path) -> Iterator[Api]:
    """The rig's cablenet with users: wang and zhao (agents cn_wang and cn_zhao), sup (whose
    group is the business queue and cn_wang), admin; and acme's admin, another tenant's."""
    with rig(store, tmp_path) as r:
        r.agent("cn_wang", Endpoint(answer_after=0.5))
        r.agent("cn_zhao", Endpoint(answer_after=0.5), status="On Break")  # reached directly only
        with store.operator() as op:
            op.add_tenant(Tenant("acme", "Acme", "acme.example"))
        tokens = {}
        with store.tenant("cablenet") as t:
            users = {}
            for name, role in (
                ("wang", "agent"),
                ("zhao", "agent"),
                ("sup", "supervisor"),
                ("admin", "tenant_admin"),
            ):
                users[name] = t.add_user(name, PASSWORD, role).id
                tokens[name] = t.issue_token(users[name], "tests")
            repo.put_group(t, "front", [users["sup"]], ["cn_wang"], ["business"])
        with store.operator() as op:
            for name, agent in (("wang", "cn_wang"), ("zhao", "cn_zhao")):
                op.conn.execute("UPDATE agents SET user_id = %s WHERE id = %s", (users[name], agent))
        with store.tenant("acme") as t:
            tokens["acme_admin"] = t.issue_token(
                t.add_user("acme_admin", PASSWORD, "tenant_admin").id, "tests"
            )
        conn = Connection("127.0.0.1", r.switch.port, r.switch.password)
        conn.connect()
        queues = cablenet_queues()
        ctx = ApiContext(store, lambda tenant: queues if tenant == "cablenet" else {}, switch=conn.api,
                         gateways=lambda: ["carrier"])  # fmt: skip
        server = serve_api(ctx)
        try:
            yield Api(r, server.server_port, tokens)
        finally:
            server.stop()
            conn.stop()


def answered_by(a: Api, agent: str) -> tuple[Any, str]:
    """A caller of the business queue, talking to ``agent``; their phone's leg."""
    caller = a.rig.call(keypad=["1"])
    row = wait_for(lambda: a.rig.agent_row(agent)["state"] == "In a queue call" and a.rig.agent_row(agent),
                   timeout=30)  # fmt: skip
    assert str(row["offered_member"]) == caller.uuid
    return caller, str(row["agent_leg"])


def test_an_agent_and_their_supervisor_act_on_a_live_call(store, tmp_path) -> None:
    with api_on_calls(store, tmp_path) as a:
        sw = a.rig.switch
        sup_phone = sw.register_user("sup1", Endpoint(answer_after=0.2))
        carrier = sw.register_gateway("carrier", Endpoint(answer_after=0.2))
        wang, zhao, sup = a.as_("wang"), a.as_("zhao"), a.as_("sup")
        caller, leg = answered_by(a, "cn_wang")

        # The live call, as each sees it: the agent on it and their supervisor do, a colleague not.
        live = wang.get(f"{T}/calls").json
        seen = [(c["uuid"], c["queue"], c["state"], c["agent"], c["agent_leg"], c["consulting"])
                for c in live]  # fmt: skip
        assert seen == [(caller.uuid, "business", "Answered", "cn_wang", leg, False)]
        assert live[0]["number"] == "13800000001"
        assert [c["uuid"] for c in sup.get(f"{T}/calls").json] == [caller.uuid]
        assert zhao.get(f"{T}/calls").json == []
        r = zhao.request("POST", f"{T}/agents/cn_wang/call/hangup")
        assert (r.status, r.json["code"]) == (403, "forbidden")
        r = a.as_("acme_admin").request("POST", f"{T}/agents/cn_wang/call/hangup")
        assert (r.status, r.json["code"]) == (404, "no_such_tenant")
        # cn_wang also serves acme: acme's admin sees and reaches none of cablenet's call.
        with store.operator() as op:
            op.conn.execute(
                "INSERT INTO agent_tenants (agent_id, tenant_id, weight) VALUES ('cn_wang', 'acme', 1)"
            )
        acme = a.as_("acme_admin")
        assert [x["id"] for x in acme.get("/api/v1/tenants/acme/agents").json] == ["cn_wang"]
        assert acme.get("/api/v1/tenants/acme/calls").json == []
        for action, body in (
            ("hangup", None),
            ("whisper", {"extension": "sup1"}),
            ("transfer", {"number": "15550100"}),
        ):
            r = acme.request("POST", f"/api/v1/tenants/acme/agents/cn_wang/call/{action}", body)
            assert r.status == 409 and r.json["code"] == "not_now", (action, r.status, r.body)
        r = wang.request("POST", f"{T}/agents/cn_wang/call/whisper", {"extension": "sup1"})
        assert (r.status, r.json["code"]) == (403, "forbidden")  # agents do not listen in

        # The supervisor whispers to the agent from their own phone (an extension of cablenet's).
        r = sup.request("POST", f"{T}/agents/cn_wang/call/whisper", {"extension": "sup1"})
        assert r.status == 200, r.json
        spy = r.json["leg"]
        assert sup_phone.calls == [spy]
        assert wait_for(lambda: f"eavesdrop({leg})" in sw.call_log(spy)), sw.call_log(spy)
        spying = sw.channels[spy]
        assert spying.get_var("eavesdrop_whisper_aleg") == "true"
        assert spying.get_var("eavesdrop_whisper_bleg") is None
        sw.api("uuid_kill", spy)

        # Nothing but the tenant's own targets reaches the switch.
        for bad in ({"number": "1 &park"}, {"extension": "sup1@evil.example"}, {"number": "${system(id)}"},
                    {"agent": "cn_zhao", "number": "15550100"}, {}):  # fmt: skip
            r = wang.request("POST", f"{T}/agents/cn_wang/call/three-way", bad)
            assert r.status == 422 and r.json["code"] in ("invalid_input", "invalid_target"), (bad, r.json)
        r = wang.request(
            "POST", f"{T}/agents/cn_wang/call/three-way", {"number": "15550100", "gateway": "other"}
        )
        assert (r.status, r.json["code"]) == (422, "no_such_gateway")
        r = wang.request("POST", f"{T}/agents/cn_wang/call/transfer", {"agent": "bpo1"})
        assert (r.status, r.json["code"]) == (422, "no_such_agent")
        assert carrier.calls == [] and sup_phone.calls == [spy]

        # A third party by number, through the operator's gateway.
        r = wang.request("POST", f"{T}/agents/cn_wang/call/three-way", {"number": "15550100"})
        assert r.status == 200, r.json
        third = r.json["leg"]
        assert carrier.calls == [third]
        assert wait_for(lambda: f"three_way({leg})" in sw.call_log(third)), sw.call_log(third)
        sw.api("uuid_kill", third)

        # Attended transfer to cn_zhao: consult, cancel, consult, complete.
        ch = sw.channels[caller.uuid]
        r = wang.request("POST", f"{T}/agents/cn_wang/call/complete")
        assert (r.status, r.json["code"]) == (409, "not_now")
        r = wang.request("POST", f"{T}/agents/cn_wang/call/consult", {"agent": "cn_zhao"})
        assert r.status == 200, r.json
        first = r.json["leg"]
        agent_leg = sw.channels[leg]
        assert wait_for(lambda: agent_leg.bridged_to is not None and agent_leg.bridged_to.uuid == first,
                        timeout=15)  # fmt: skip
        assert wang.get(f"{T}/calls").json[0]["consulting"] is True
        assert wang.request("POST", f"{T}/agents/cn_wang/call/cancel").status == 204
        assert wait_for(lambda: ch.bridged_to is not None and ch.bridged_to.uuid == leg, timeout=15)
        r = wang.request("POST", f"{T}/agents/cn_wang/call/consult", {"agent": "cn_zhao"})
        second = r.json["leg"]
        assert wait_for(lambda: ch.bridged_to is None, timeout=15)
        assert wang.request("POST", f"{T}/agents/cn_wang/call/complete").status == 204
        assert wait_for(lambda: ch.bridged_to is not None and ch.bridged_to.uuid == second, timeout=15)
        assert wait_for(lambda: a.rig.agent_row("cn_wang")["state"] == "Waiting")
        assert wang.get(f"{T}/calls").json == []
        sw.api("uuid_kill", caller.uuid)
        assert caller.destroyed.wait(30)
        rows = wait_for(a.rig.queue_calls)
        assert [(q["outcome"], q["agent_id"]) for q in rows] == [("answered", "cn_wang")]


def test_pickup_transfer_to_a_queue_and_a_hangup_through_the_api(store, tmp_path) -> None:
    with api_on_calls(store, tmp_path) as a:
        sw = a.rig.switch
        wang, zhao, admin, sup = a.as_("wang"), a.as_("zhao"), a.as_("admin"), a.as_("sup")
        # cn_wang's phone rings unanswered; cn_zhao takes the call on their own phone.
        sw.register_user("cn_wang", Endpoint(answer_after=None))
        with store.operator() as op:
            op.conn.execute("UPDATE agent_state SET max_no_answer = 1, no_answer_delay_time = 60")
        caller = a.rig.call(keypad=["1"])
        assert wait_for(lambda: a.rig.agent_row("cn_wang")["state"] == "Receiving", timeout=30)
        live = zhao.get(f"{T}/calls").json
        assert live == []  # ringing at a colleague's phone is not theirs to see
        assert [c["ringing"] for c in admin.get(f"{T}/calls").json] == [["cn_wang"]]
        r = zhao.request("POST", f"{T}/agents/cn_wang/call/pickup", {"from_agent": "cn_wang"})
        assert (r.status, r.json["code"]) == (403, "forbidden")  # only for themselves
        r = sup.request("POST", f"{T}/agents/cn_wang/call/pickup", {"from_agent": "cn_zhao"})
        assert (r.status, r.json["code"]) == (403, "forbidden")  # cn_zhao is not in their group
        r = zhao.request("POST", f"{T}/agents/cn_zhao/call/pickup", {"from_agent": "cn_wang"})
        assert r.status == 200, r.json
        leg = r.json["leg"]
        zhao_row = wait_for(lambda: a.rig.agent_row("cn_zhao")["state"] == "In a queue call"
                            and a.rig.agent_row("cn_zhao"), timeout=30)  # fmt: skip
        assert (str(zhao_row["offered_member"]), str(zhao_row["agent_leg"])) == (caller.uuid, leg)
        assert [(c["agent"], c["agent_leg"]) for c in zhao.get(f"{T}/calls").json] == [("cn_zhao", leg)]

        # cn_zhao is not in the supervisor's group; the tenant admin hangs the call up.
        r = sup.request("POST", f"{T}/agents/cn_zhao/call/hangup")
        assert (r.status, r.json["code"]) == (403, "forbidden")
        assert admin.request("POST", f"{T}/agents/cn_zhao/call/hangup").status == 204
        assert caller.destroyed.wait(30)
        rows = wait_for(a.rig.queue_calls)
        assert [(q["outcome"], q["agent_id"]) for q in rows] == [("answered", "cn_zhao")]

        # cn_wang answers the next caller and sends them to the complaints queue (cn_zhao's).
        sw.register_user("cn_wang", Endpoint(answer_after=0.5))
        with store.operator() as op:
            op.conn.execute("UPDATE agent_state SET status = 'Available', state = 'Waiting',"
                            " skills = '{\"complaints\": 3}' WHERE agent_id = 'cn_zhao'")  # fmt: skip
            op.conn.execute(
                "UPDATE agent_state SET status = 'Available', ready_time = 0, no_answer_count = 0"
            )
        caller, _ = answered_by(a, "cn_wang")
        r = wang.request("POST", f"{T}/agents/cn_wang/call/transfer", {"queue": "nowhere"})
        assert (r.status, r.json["code"]) == (422, "no_such_queue")
        assert (
            wang.request("POST", f"{T}/agents/cn_wang/call/transfer", {"queue": "complaints"}).status == 204
        )
        assert wait_for(lambda: str(a.rig.agent_row("cn_zhao")["offered_member"]) == caller.uuid
                        and a.rig.agent_row("cn_zhao")["state"] == "In a queue call", timeout=30)  # fmt: skip
        assert [(c["queue"], c["agent"]) for c in admin.get(f"{T}/calls").json] == [("complaints", "cn_zhao")]
        sw.api("uuid_kill", caller.uuid)
        assert caller.destroyed.wait(30)


def test_a_supervisor_moves_a_waiting_caller_to_another_queue_and_up_and_they_are_served_next(
    store, tmp_path
) -> None:
    """Ann waits in complaints; Bob in business. The supervisor moves Bob to complaints and
    raises his priority: when cn_zhao, the complaints agent, comes back, Bob is served first."""
    with api_on_calls(store, tmp_path) as a:
        sw = a.rig.switch
        admin, sup, zhao = a.as_("admin"), a.as_("sup"), a.as_("zhao")
        assert admin.request("PUT", f"{T}/agents/cn_wang/status", {"status": "Logged Out"}).status == 200
        (group,) = admin.get(f"{T}/groups").json
        del group["name"]

        def waiting_in(queue: str) -> list[str]:
            callers = admin.get(f"{T}/queues/{queue}").json["callers"]
            return [c["uuid"] for c in callers if c["state"] == "Waiting"]

        ann = a.rig.call(keypad=["4", "1"], caller="13800000011")
        assert wait_for(lambda: waiting_in("complaints") == [ann.uuid], timeout=30)
        bob = a.rig.call(keypad=["1"], caller="13800000012")
        assert wait_for(lambda: waiting_in("business") == [bob.uuid], timeout=30)

        move = f"{T}/queues/business/callers/{bob.uuid}/move"
        r = sup.request("POST", move, {"queue": "complaints"})
        assert (r.status, r.json["code"]) == (403, "forbidden")  # complaints is not their group's
        wider = {**group, "queues": ["business", "complaints"]}
        assert admin.request("PUT", f"{T}/groups/front", wider).status == 204
        r = admin.request("POST", move, {"queue": "nowhere"})
        assert (r.status, r.json["code"]) == (422, "no_such_queue")
        r = sup.request("POST", f"{T}/queues/complaints/callers/{bob.uuid}/move", {"queue": "business"})
        assert (r.status, r.json["code"]) == (409, "not_waiting")  # he is not in complaints (yet)
        assert sup.request("POST", move, {"queue": "complaints"}).status == 204
        assert wait_for(lambda: bob.uuid in waiting_in("complaints"), timeout=30), sw.call_log(bob.uuid)[-20:]
        assert waiting_in("business") == []
        first = wait_for(a.rig.queue_calls)
        assert [(q["queue"], q["outcome"], str(q["call_uuid"])) for q in first] == [
            ("business", "moved", bob.uuid)]  # fmt: skip

        # Ann has waited longer and came in with priority 6: Bob goes before her at 20.
        assert waiting_in("complaints") == [ann.uuid, bob.uuid]
        path = f"{T}/queues/complaints/callers/{bob.uuid}/priority"
        assert sup.request("PUT", path, {"priority": 20}).status == 204
        assert waiting_in("complaints") == [bob.uuid, ann.uuid]
        assert admin.request("PUT", f"{T}/agents/cn_zhao/skills", {"skills": {"complaints": 3}}).status == 200
        assert zhao.request("PUT", f"{T}/agents/cn_zhao/status", {"status": "Available"}).status == 200
        row = wait_for(lambda: a.rig.agent_row("cn_zhao")["state"] == "In a queue call"
                       and a.rig.agent_row("cn_zhao"), timeout=30)  # fmt: skip
        assert str(row["offered_member"]) == bob.uuid
        assert waiting_in("complaints") == [ann.uuid]
        for caller in (bob, ann):
            sw.api("uuid_kill", caller.uuid)
            assert caller.destroyed.wait(30)


def test_an_agent_dials_out_and_the_cdr_and_usage_record_are_written(store, tmp_path) -> None:
    """cn_wang's phone rings first; answered, the switch calls the number through the
    carrier showing cablenet's number. Both legs' CDRs name cn_wang, and the number's leg
    makes the agent's usage record: agent/outbound_call, its billed seconds."""
    from fsapps.esl.client import InboundClient
    from fsapps.store.collector import CdrCollector
    from fsapps.store.durable import DurableWriter

    with api_on_calls(store, tmp_path) as a:
        sw = a.rig.switch
        carrier = sw.register_gateway("carrier", Endpoint(answer_after=1.0, hangup_after=8.0))
        client = InboundClient("127.0.0.1", sw.port, sw.password, backoff_min=0.05)
        collector = CdrCollector(client, DurableWriter(store, tmp_path / "spool"))
        client.start()
        try:
            assert client.wait_connected(5)
            wang = a.as_("wang")
            dial = f"{T}/agents/cn_wang/dial"
            r = wang.request("POST", dial, {"number": "15550100"})
            assert (r.status, r.json["code"]) == (409, "no_caller_id")
            with store.operator() as op:
                op.conn.execute("INSERT INTO access_numbers (number, tenant_id) VALUES ('96171', 'cablenet')")
            for bad in (
                {"number": "1555 0100"},
                {"number": "${system(id)}"},
                {"number": "15550100", "gateway": "x"},
            ):
                r = wang.request("POST", dial, bad)
                assert r.status == 422, (bad, r.json)
            r = a.as_("zhao").request("POST", dial, {"number": "15550100"})
            assert (r.status, r.json["code"]) == (403, "forbidden")
            assert carrier.calls == []

            r = wang.request("POST", dial, {"number": "15550100"})
            assert r.status == 200, r.json
            leg = r.json["leg"]
            assert wait_for(lambda: len(carrier.calls) == 1, timeout=15), sw.call_log(leg)
            (number_leg,) = carrier.calls
            assert wait_for(lambda: collector.collected >= 2, timeout=30)
            with store.tenant("cablenet") as t:
                legs = {c["leg"]: c for c in t.cdrs()}
                usage = t._all("SELECT * FROM usage_records WHERE kind = 'outbound_call'")
            assert (str(legs["a"]["leg_uuid"]), str(legs["b"]["leg_uuid"])) == (leg, number_leg)
            assert str(legs["b"]["call_uuid"]) == leg
            assert legs["a"]["answered_at"] <= legs["b"]["started_at"]  # the agent first, then the number
            assert (legs["a"]["agent_id"], legs["b"]["agent_id"]) == ("cn_wang", "cn_wang")
            assert (legs["b"]["caller"], legs["b"]["destination"]) == ("96171", "15550100")
            assert len(usage) == 1
            u = usage[0]
            assert (u["resource"], u["resource_id"], u["outcome"], str(u["call_uuid"])) == (
                "agent", "cn_wang", "answered", leg)  # fmt: skip
            assert u["workload"] == legs["b"]["billsec"] and 6 <= u["workload"] <= 9
        finally:
            client.stop()


def test_fsapps_serve_gives_the_api_its_event_socket_and_the_operators_gateways(store, tmp_path) -> None:
    """The API as `fsapps serve` mounts it (cli._api_server): call control reaches the switch
    through the controller's own Event Socket client, numbers go out through operator.yaml's
    gateway, and with no xml_curl there are no flow uploads."""
    from fsapps import cli
    from fsapps.apps.context import AppContext
    from fsapps.config import ApiSettings, ControllerSettings, EslSettings, Settings
    from fsapps.controller import Controller
    from fsapps.sim.switch import Switch

    sw = Switch(SwitchConfig(speed=4.0)).start()
    phone = sw.register_user("1001", Endpoint(answer_after=0.2))
    carrier = sw.register_gateway("carrier", Endpoint(answer_after=0.2, hangup_after=1.0))
    with store.operator() as op:
        op.add_tenant(Tenant("cablenet", "Cablenet", "cablenet.example"), numbers=["96171"])
        op.add_agent("cn_li", "Li", {"cablenet": 1}, "user/1001@cablenet.example")
    with store.tenant("cablenet") as t:
        token = t.issue_token(t.add_user("admin", PASSWORD, "tenant_admin").id, "tests")
    settings = Settings(
        esl=EslSettings("127.0.0.1", sw.port, sw.password), api=ApiSettings(port=0),
        controller=ControllerSettings(listen="127.0.0.1", port=0), state_dir=str(tmp_path / "var"),
    )  # fmt: skip
    project = check(ROOT / "dialplan", sounds=ROOT / "sounds")  # operator.yaml: gateways [carrier]
    controller = Controller(settings, store=store, context=AppContext(project, store=store)).start()
    server = None
    try:
        assert controller.client is not None and controller.client.wait_connected(5)
        server = cli._api_server(settings, store, controller)
        assert server is not None
        admin = Client(server.server_port, token=token)
        r = admin.request("POST", f"{T}/agents/cn_li/dial", {"number": "15550100"})
        assert r.status == 200, r.json
        assert phone.calls == [r.json["leg"]]
        assert wait_for(lambda: len(carrier.calls) == 1, timeout=15)
        r = admin.request("PUT", f"{T}/flows", {"files": {"tenant.yaml": "id: cablenet\n"}})
        assert (r.status, r.json["code"]) == (503, "no_flows_dir")
    finally:
        if server is not None:
            server.stop()
        controller.stop(grace=1.0)
        sw.stop()


def test_an_agent_holds_their_caller_who_hears_the_queues_hold_music_then_resumes(store, tmp_path) -> None:
    """cn_wang holds the caller through the API: still bridged to the agent's leg, the caller
    hears the business queue's hold music (the default: it names no moh-sound) in place of
    the agent; holding again is 409. Resumed, the music stops and they talk on. The call's
    records are those of any answered call: one queue call, two CDRs, no usage record twice."""
    from fsapps.acd.config import DEFAULT_MOH
    from fsapps.esl.client import InboundClient
    from fsapps.sim.apps.displace import heard_from
    from fsapps.store.collector import CdrCollector
    from fsapps.store.durable import DurableWriter

    with api_on_calls(store, tmp_path) as a:
        sw = a.rig.switch
        client = InboundClient("127.0.0.1", sw.port, sw.password, backoff_min=0.05)
        collector = CdrCollector(client, DurableWriter(store, tmp_path / "spool"))
        client.start()
        try:
            assert client.wait_connected(5)
            wang, zhao = a.as_("wang"), a.as_("zhao")
            caller, leg = answered_by(a, "cn_wang")
            ch, agent_leg = sw.channels[caller.uuid], sw.channels[leg]

            def talking() -> bool:
                return ch.bridged_to is agent_leg and agent_leg.bridged_to is ch

            assert talking() and heard_from(agent_leg) == []
            r = wang.request("POST", f"{T}/agents/cn_wang/call/unhold")
            assert (r.status, r.json["code"]) == (409, "not_now")  # not on hold
            r = zhao.request("POST", f"{T}/agents/cn_wang/call/hold")
            assert (r.status, r.json["code"]) == (403, "forbidden")
            assert wang.request("POST", f"{T}/agents/cn_wang/call/hold").status == 204
            assert heard_from(agent_leg) == [DEFAULT_MOH] and talking()
            (music,) = agent_leg.displaced.values()
            assert music.loop and not music.mux  # the music alone, round and round
            r = wang.request("POST", f"{T}/agents/cn_wang/call/hold")
            assert (r.status, r.json["code"]) == (409, "not_now")  # held already
            sw.clock.sleep(12)  # longer than one round of the tone: still held
            assert heard_from(agent_leg) == [DEFAULT_MOH] and talking()
            assert wang.request("POST", f"{T}/agents/cn_wang/call/unhold").status == 204
            assert heard_from(agent_leg) == [] and talking()
            assert a.rig.agent_row("cn_wang")["state"] == "In a queue call"
            # Held again, then hung up: the music goes with the agent's leg.
            assert wang.request("POST", f"{T}/agents/cn_wang/call/hold").status == 204
            assert wang.request("POST", f"{T}/agents/cn_wang/call/hangup").status == 204
            assert caller.destroyed.wait(30)
            # The same call never held, for its records.
            plain, plain_leg = answered_by(a, "cn_wang")
            assert wang.request("POST", f"{T}/agents/cn_wang/call/hangup").status == 204
            assert plain.destroyed.wait(30)
            rows = wait_for(lambda: len(a.rig.queue_calls()) == 2 and a.rig.queue_calls())
            assert [(q["outcome"], q["agent_id"]) for q in rows] == [("answered", "cn_wang")] * 2
            assert wait_for(lambda: collector.collected >= 4, timeout=30)

            def records(call: str, *legs: str) -> tuple[list[str], list[tuple[str, str]]]:
                with store.tenant("cablenet") as t:
                    cdrs = sorted(str(c["leg_uuid"]) for c in t.cdrs() if str(c["leg_uuid"]) in legs)
                    usage = t._all("SELECT resource, kind FROM usage_records WHERE call_uuid = %s", (call,))
                return cdrs, sorted((u["resource"], u["kind"]) for u in usage)

            held_cdrs, held_usage = records(caller.uuid, caller.uuid, leg)
            plain_cdrs, plain_usage = records(plain.uuid, plain.uuid, plain_leg)
            assert held_cdrs == sorted([caller.uuid, leg]) and plain_cdrs == sorted([plain.uuid, plain_leg])
            assert held_usage == plain_usage and ("agent", "handled_call") in held_usage
        finally:
            client.stop()
