"""The customer card on the desk, end to end: the emulator running cablenet's dialplan, a
controller holding the callers, PostgreSQL, and the API with its live events, as
`fsapps serve` runs them. An agent's screen pops name the caller's customer (and stay
fetchable: a reloaded desk pops them again); a transfer or consult to another agent hands
the card to that agent's desk (their stream says so at once, their screen pops keep it);
a card's recorded calls play from the card, only the card's."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from fsapps.esl.client import Connection
from fsapps.sim.endpoints import Endpoint
from fsapps.store import customers
from fsapps.store.records import Tenant
from fsapps.web.app import ApiContext
from fsapps.web.live import LiveEvents, live_events
from tests.integration.test_acd_calls import Rig, rig
from tests.integration.test_api_calls import answered_by, cablenet_queues
from tests.support.api import PASSWORD, Client, serve_api
from tests.support.sse import open_stream
from tests.support.waiting import wait_for

T = "/api/v1/tenants/cablenet"
ADA_REC, BOB_REC = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"


@dataclass
class Desks:
    rig: Rig
    live: LiveEvents
    port: int
    tokens: dict[str, str]
    customer: int

    def as_(self, who: str) -> Client:
        return Client(self.port, token=self.tokens[who])


@contextmanager
def desks(store, tmp_path) -> Iterator[Desks]:
    """cablenet: agents cn_wang (user wang, answers the business queue) and cn_zhao (user
    zhao, on a break: reached by transfer only), user li (an agent with no part in it), and
    customer Ada whose number the rig's caller calls from; acme's admin, another tenant's."""
    with rig(store, tmp_path) as r:
        r.agent("cn_wang", Endpoint(answer_after=0.5))
        r.agent("cn_zhao", Endpoint(answer_after=0.5), status="On Break")
        r.agent("cn_li", Endpoint(answer_after=None), status="On Break")
        with store.operator() as op:
            op.add_tenant(Tenant("acme", "Acme", "acme.example"))
        tokens, users = {}, {}
        with store.tenant("cablenet") as t:
            for name in ("wang", "zhao", "li"):
                users[name] = t.add_user(name, PASSWORD, "agent").id
                tokens[name] = t.issue_token(users[name], "tests")
            customer = customers.create(t, {"name": "Ada", "company": "Lovelace Ltd", "tags": ["vip"],
                                            "custom_fields": {}, "numbers": ["13800000001"],
                                            "owner_agent": "cn_wang"})  # fmt: skip
        with store.operator() as op:
            for name in ("wang", "zhao", "li"):
                op.conn.execute("UPDATE agents SET user_id = %s WHERE id = %s", (users[name], f"cn_{name}"))
        with store.tenant("acme") as t:
            tokens["acme_admin"] = t.issue_token(t.add_user("acme_admin", PASSWORD, "tenant_admin").id, "t")
        conn = Connection("127.0.0.1", r.switch.port, r.switch.password)
        conn.connect()
        live = live_events(store, r.controllers[0])
        queues = cablenet_queues()
        ctx = ApiContext(store, lambda tenant: queues if tenant == "cablenet" else {}, switch=conn.api,
                         gateways=lambda: ["carrier"], live=live, recordings=r.recordings,
                         heartbeat=0.5)  # fmt: skip
        server = serve_api(ctx)
        try:
            yield Desks(r, live, server.server_port, tokens, customer)
        finally:
            server.stop()
            live.stop()
            conn.stop()


def test_a_blind_transfer_hands_the_callers_card_to_the_other_agents_desk(store, tmp_path) -> None:
    with desks(store, tmp_path) as d:
        wang, zhao = d.as_("wang"), d.as_("zhao")
        zhaos = open_stream(d.port, f"{T}/events", token=d.tokens["zhao"])
        lis = open_stream(d.port, f"{T}/events", token=d.tokens["li"])
        try:
            caller, _ = answered_by(d, "cn_wang")
            # The agent on the call: its screen pop names the caller's customer and carries
            # what the offer carried (the leg's variables), as it would after a reload.
            desk = wang.get(f"{T}/agents/cn_wang/screen-pops").json
            assert desk["timezone"] == "Asia/Shanghai"  # the card's times are shown in it
            (pop,) = desk["pops"]
            assert (pop["member"], pop["state"], pop["number"], pop["customer"], pop["handover"]) == (
                caller.uuid, "talking", "13800000001", d.customer, None)  # fmt: skip
            assert pop["variables"]["origination_caller_id_number"] == "13800000001"
            assert pop["variables"]["fsapps_member"] == caller.uuid
            assert zhao.get(f"{T}/agents/cn_zhao/screen-pops").json["pops"] == []
            r = zhao.request("GET", f"{T}/agents/cn_wang/screen-pops")
            assert (r.status, r.json["code"]) == (403, "forbidden")

            r = wang.request("POST", f"{T}/agents/cn_wang/call/transfer", {"agent": "cn_zhao"})
            assert r.status == 204, r.json
            # The other agent's desk hears of it at once, with the card ...
            frames = zhaos.until(lambda f: f.event == "handover")
            handover = frames[-1].data
            told = ("tenant", "member", "agent", "by", "how", "number", "customer")
            assert {k: handover[k] for k in told} == {
                "tenant": "cablenet", "member": caller.uuid, "agent": "cn_zhao", "by": "cn_wang",
                "how": "transfer", "number": "13800000001", "customer": d.customer}  # fmt: skip
            # ... and keeps it while the call lasts (a reload pops it again).
            pops = wait_for(lambda: zhao.get(f"{T}/agents/cn_zhao/screen-pops").json["pops"])
            assert [(p["member"], p["state"], p["customer"], p["handover"]["by"], p["handover"]["how"])
                    for p in pops] == [(caller.uuid, "handed_over", d.customer, "cn_wang", "transfer")]
            assert pops[0]["variables"]["origination_caller_id_number"] == "13800000001"
            # Nobody else's desk: another agent's stream has no handover.
            lis.close()
            assert d.as_("li").get(f"{T}/agents/cn_li/screen-pops").json["pops"] == []
            r = d.as_("acme_admin").request("GET", f"{T}/agents/cn_zhao/screen-pops")
            assert (r.status, r.json["code"]) == (404, "no_such_tenant")

            d.rig.switch.api("uuid_kill", caller.uuid)
            assert caller.destroyed.wait(30)
            # The call is over: no more pop.
            pops_of_zhao = lambda: zhao.get(f"{T}/agents/cn_zhao/screen-pops").json["pops"]  # noqa: E731
            assert wait_for(lambda: pops_of_zhao() == [], timeout=15)
        finally:
            zhaos.close()
            lis.close()
        assert [f for f in lis.frames if f.event == "handover"] == []


def test_a_consult_hands_the_card_over_and_a_cancelled_one_takes_it_back(store, tmp_path) -> None:
    with desks(store, tmp_path) as d:
        wang, zhao = d.as_("wang"), d.as_("zhao")
        caller, leg = answered_by(d, "cn_wang")
        r = wang.request("POST", f"{T}/agents/cn_wang/call/consult", {"agent": "cn_zhao"})
        assert r.status == 200, r.json
        pops = zhao.get(f"{T}/agents/cn_zhao/screen-pops").json["pops"]
        assert [(p["member"], p["customer"], p["handover"]["how"]) for p in pops] == [
            (caller.uuid, d.customer, "consult")]  # fmt: skip
        # Called off: the caller is back with cn_wang, and the card leaves cn_zhao's desk.
        assert wang.request("POST", f"{T}/agents/cn_wang/call/cancel").status == 204
        ch = d.rig.switch.channels[caller.uuid]
        assert wait_for(lambda: ch.bridged_to is not None and ch.bridged_to.uuid == leg, timeout=15)
        assert zhao.get(f"{T}/agents/cn_zhao/screen-pops").json["pops"] == []
        # Consulted again and completed: the caller is cn_zhao's, and so is the card.
        r = wang.request("POST", f"{T}/agents/cn_wang/call/consult", {"agent": "cn_zhao"})
        assert r.status == 200, r.json
        second = r.json["leg"]
        assert wait_for(lambda: ch.bridged_to is None, timeout=15)
        assert wang.request("POST", f"{T}/agents/cn_wang/call/complete").status == 204
        assert wait_for(lambda: ch.bridged_to is not None and ch.bridged_to.uuid == second, timeout=15)
        assert wait_for(lambda: d.rig.agent_row("cn_wang")["state"] != "In a queue call")
        pops = zhao.get(f"{T}/agents/cn_zhao/screen-pops").json["pops"]
        assert [(p["member"], p["handover"]["how"]) for p in pops] == [(caller.uuid, "consult")]
        d.rig.switch.api("uuid_kill", caller.uuid)
        assert caller.destroyed.wait(30)


def test_a_cards_recordings_play_from_the_card_and_only_its_own(store, tmp_path) -> None:
    with desks(store, tmp_path) as d:
        folder = d.rig.recordings / "cablenet"
        folder.mkdir(parents=True, exist_ok=True)
        theirs, other = folder / "ada.wav", folder / "bob.wav"
        theirs.write_bytes(b"RIFF-ada-WAVE")
        other.write_bytes(b"RIFF-bob-WAVE")
        with d.rig.store.operator() as op:
            for event, caller, path in ((ADA_REC, "13800000001", theirs),
                                        (BOB_REC, "13900000002", other)):
                op.conn.execute(
                    "INSERT INTO queue_calls (event_id, tenant_id, queue, agent_id, caller, joined_at,"
                    " ended_at, wait_seconds, outcome, recording) VALUES (%s, 'cablenet', 'business',"
                    " 'cn_wang', %s, now(), now(), 0, 'answered', %s)",
                    (event, caller, str(path)),
                )
        li = d.as_("li")  # an agent: no GET .../recordings for them, but the card's calls
        card = f"{T}/customers/{d.customer}"
        timeline = li.get(f"{card}/timeline").json
        assert [e["recording"] for e in timeline if e["kind"] == "call"] == [ADA_REC]
        r = li.get(f"{card}/recordings/{ADA_REC}/audio")
        assert (r.status, r.body) == (200, b"RIFF-ada-WAVE")
        r = li.get(f"{card}/recordings/{BOB_REC}/audio")
        assert (r.status, r.json["code"]) == (404, "no_such_recording")
        r = li.get(f"{T}/recordings/{ADA_REC}/audio")
        assert r.status == 403
        r = d.as_("acme_admin").get(f"{card}/recordings/{ADA_REC}/audio")
        assert (r.status, r.json["code"]) == (404, "no_such_tenant")
