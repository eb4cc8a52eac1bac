"""The HTTP API on a live queue call, on the real FreeSWITCH (sipp caller and phone) and
on the emulator, same assertions: an agent goes ready through the API and follows their
own event stream: their state, the offer with what their leg carries (the caller's
number, the queue), the bridge, and back to waiting once the caller hangs up.

The scenario tenant and its queue are test_queue_scenarios' (support: top-down,
acme_a1 then acme_a2); here only acme_a2 is an agent of it."""

from __future__ import annotations

from typing import Any

import gevent
import pytest

from fsapps.web.app import ApiContext
from fsapps.web.live import live_events
from tests.acceptance.test_queue_scenarios import TARGETS, target
from tests.support.api import Client, serve_api
from tests.support.sse import Frame, open_stream


@pytest.mark.parametrize("where", TARGETS)
def test_an_agent_goes_ready_through_the_api_and_follows_the_call_live(where, store, tmp_path) -> None:
    with target(where, store, tmp_path) as t:
        t.agent("acme_a2", "answer", status="Logged Out")
        with store.tenant("acme") as scope:
            user = scope.add_user("a2", "a-long-password", "agent").id
            token = scope.issue_token(user, "tests")
        with store.operator() as op:
            op.conn.execute("UPDATE agents SET user_id = %s WHERE id = 'acme_a2'", (user,))
        c = t.controller()
        live = live_events(store, c)
        assert c.relay is not None and c.relay.listening.wait(10)
        acme = next(x for x in c.context.project.tenants if x.id == "acme")

        def queues(tenant: str) -> dict[str, dict[str, Any]]:
            return {n: dict(q.data or {}) for n, q in acme.queues.items()} if tenant == "acme" else {}

        server = serve_api(ApiContext(store, queues, live=live))
        try:
            port = server.server_port
            stream = open_stream(port, "/api/v1/tenants/acme/events", token=token)
            assert stream.status == 200, stream.body
            ready = Client(port, token).request(
                "PUT", "/api/v1/tenants/acme/agents/acme_a2/status", {"status": "Available"})  # fmt: skip
            assert ready.status == 200, ready.body
            caller = gevent.spawn(t.call, "447700900177", 4.0)
            states: list[str] = []

            def back_to_waiting(f: Frame) -> bool:
                if f.event == "agent_state":
                    states.append(f.data["status"] + "/" + f.data["state"])
                return states[-2:] == ["Available/In a queue call", "Available/Waiting"]

            frames = stream.until(back_to_waiting, timeout=60)
            caller.get(timeout=60)
            stream.close()
        finally:
            server.stop()
            c.stop(grace=1.0)
        assert states == ["Available/Waiting", "Available/Receiving", "Available/In a queue call",
                          "Available/Waiting"], frames  # fmt: skip
        (offer,) = [f.data for f in frames if f.event == "offer"]
        assert (offer["agent"], offer["queue"], offer["tenant"]) == ("acme_a2", "support", "acme"), offer
        assert offer["variables"]["origination_caller_id_number"] == "447700900177", offer
        assert offer["variables"]["fsapps_queue"] == "support", offer
        (row,) = t.rows("SELECT * FROM queue_calls")
        got = (row["outcome"], row["agent_id"], str(row["call_uuid"]))
        assert got == ("answered", "acme_a2", offer["member"]), row
        legs = [(f.data["what"], f.data["agent"]) for f in frames if f.event == "leg"]
        assert ("bridged", "acme_a2") in legs, legs
        assert all(f.data.get("agent", "acme_a2") == "acme_a2" for f in frames if f.event != "queue"), frames
