"""The floor's figures and the wallboard's token through the HTTP API, on the real store:
today's service level and abandoned counted from the queue's visits in the tenant's day,
callers waiting now, agents by what they do; a wallboard token issued, used, revoked."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

from fsapps.acd.figures import day_start
from fsapps.store import api as repo
from fsapps.store.db import token_digest
from fsapps.web.app import ApiContext
from tests.support.api import QUEUES, Client, populate, serve_api, static_queues

T = "/api/v1/tenants/acme"


def _visit(store, queue: str, outcome: str, wait: float, ended: datetime) -> None:
    with store.operator() as op:
        op.conn.execute(
            "INSERT INTO queue_calls (event_id, tenant_id, queue, joined_at, ended_at, wait_seconds, outcome)"
            " VALUES (%s, 'acme', %s, %s, %s, %s, %s)",
            (str(uuid.uuid4()), queue, ended - timedelta(seconds=wait), ended, wait, outcome),
        )


def test_queue_figures_count_today_in_the_tenants_timezone_and_agents_by_activity(store) -> None:
    cc = populate(store)
    now = time.time()
    with store.operator() as op:
        op.conn.execute("UPDATE tenants SET timezone = 'Asia/Shanghai' WHERE id = 'acme'")
        # acme1 talks for 90 s; acme2 has been on break for an hour
        op.conn.execute("UPDATE agent_state SET status = 'Available', state = 'In a queue call',"
                        " last_bridge_start = %s WHERE agent_id = 'acme1'", (now - 90,))  # fmt: skip
        op.conn.execute("UPDATE agent_state SET status = 'On Break', last_status_change = %s"
                        " WHERE agent_id = 'acme2'", (now - 3600,))  # fmt: skip
    today = datetime.fromtimestamp(day_start(now, "Asia/Shanghai"), UTC)
    for outcome, wait in (("answered", 5), ("answered", 19), ("answered", 45), ("abandoned", 30),
                          ("callback", 10)):  # fmt: skip
        _visit(store, "support", outcome, wait, today + timedelta(seconds=1))
    _visit(store, "support", "abandoned", 50, today - timedelta(seconds=1))  # yesterday's: not counted
    aimed = {**QUEUES["acme"]["support"], "service-level-target": 90}
    queues = {"acme": {**QUEUES["acme"], "support": aimed}}
    server = serve_api(ApiContext(store, static_queues(queues)))
    try:
        admin = Client(server.server_port, token=cc.token("tenant_admin", "acme"))
        r = admin.get(f"{T}/queue-figures")
        assert r.status == 200, r.json
        support, sales = sorted(r.json, key=lambda q: q["name"], reverse=True)
        assert support["name"] == "support"
        counts = [support[k] for k in ("answered", "answered_within", "abandoned", "offered")]
        assert counts == [3, 2, 1, 4]
        assert support["service_level"] == 50.0
        assert (support["service_level_seconds"], support["service_level_target"]) == (20, 90)
        assert support["waiting"] == 1 and 29 <= support["longest_wait_seconds"] < 60
        assert support["agents"]["talking"] == 1 and sum(support["agents"].values()) == 1
        assert sales["agents"]["on_break"] == 1 and sales["service_level"] is None
        assert sales["service_level_target"] == 80  # the default
        assert datetime.fromisoformat(support["day_started_at"]) == today

        # The agents, with what they do and for how long.
        agents = {a["id"]: a for a in admin.get(f"{T}/agents").json}
        assert agents["acme1"]["activity"] == "talking" and 89 <= agents["acme1"]["activity_seconds"] < 120
        assert agents["acme2"]["activity"] == "on_break" and agents["acme2"]["activity_seconds"] >= 3599

        # A supervisor sees their group's queue only.
        sup = Client(server.server_port, token=cc.token("supervisor", "acme"))
        assert [q["name"] for q in sup.get(f"{T}/queue-figures").json] == ["support"]
    finally:
        server.stop()


def test_a_wallboard_token_is_issued_once_kept_as_a_digest_works_and_stops_when_revoked(store) -> None:
    cc = populate(store)
    server = serve_api(ApiContext(store, static_queues(QUEUES)))
    try:
        admin = Client(server.server_port, token=cc.token("tenant_admin", "acme"))
        r = admin.request("POST", f"{T}/wallboards", {"name": "Floor 3 TV"})
        assert r.status == 201, r.json
        token, token_id = r.json["token"], r.json["id"]
        assert token.startswith("fsw_")
        with store.operator() as op:
            kept = op._one("SELECT token_sha256 FROM wallboard_tokens WHERE id = %s", (token_id,))
        assert kept == {"token_sha256": token_digest(token)}
        listed = admin.get(f"{T}/wallboards").json
        assert [(w["id"], w["name"], w["revoked_at"]) for w in listed] == [(token_id, "Floor 3 TV", None)]
        assert "token" not in listed[0]

        tv = Client(server.server_port, token=token)
        assert [q["name"] for q in tv.get(f"{T}/queue-figures").json] == ["sales", "support"]
        r = tv.get(f"{T}/queues")  # the callers' numbers: not a wallboard's
        assert (r.status, r.json["code"]) == (403, "wallboard_only")
        r = admin.request("POST", f"{T}/wallboards", {"name": ""})
        assert (r.status, r.json["code"]) == (422, "invalid_input")

        with store.operator() as op:  # a suspended tenant's screens go dark with its users
            op.conn.execute("UPDATE tenants SET status = 'suspended' WHERE id = 'acme'")
        r = tv.get(f"{T}/queue-figures")
        assert (r.status, r.json["code"]) == (403, "tenant_suspended")
        with store.operator() as op:
            op.conn.execute("UPDATE tenants SET status = 'active' WHERE id = 'acme'")

        assert admin.request("DELETE", f"{T}/wallboards/{token_id}").status == 204
        r = tv.get(f"{T}/queue-figures")
        assert (r.status, r.json["code"]) == (401, "invalid_token")
        r = admin.request("DELETE", f"{T}/wallboards/{token_id}")
        assert (r.status, r.json["code"]) == (404, "no_such_token")
        # A user's token that happens to look like one is still just unknown.
        r = Client(server.server_port, token="fsw_" + "x" * 43).get(f"{T}/queue-figures")
        assert (r.status, r.json["code"]) == (401, "invalid_token")
        with store.tenant("globex") as t:  # another tenant's admin does not see acme's
            assert repo.wallboard_tokens(t) == []
    finally:
        server.stop()
