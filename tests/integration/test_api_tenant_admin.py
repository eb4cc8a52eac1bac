"""A tenant admin deletes users and prompts, and plays a recorded prompt, through the HTTP
API: not their own account, never the tenant's last tenant admin; a prompt a flow plays is
refused at file:line with nothing changed, an unused one goes with its recording; a
recorded prompt's WAV is served to its tenant only, by a path the server builds."""

from __future__ import annotations

import base64

from fsapps.store import api as repo
from fsapps.store.records import Tenant
from fsapps.web.app import ApiContext
from tests.integration.test_api_tenant_config import T, site
from tests.support.api import PASSWORD, Client, serve_api
from tests.support.wavs import wav

U = "/api/v1/tenants/acme/users"


def test_a_user_is_deleted_but_not_ones_own_account_nor_the_last_tenant_admin(store) -> None:
    with store.operator() as op:
        op.add_tenant(Tenant("acme", "Acme", "acme.example"))
        op.add_agent("acme_ann", "Ann", {"acme": 1}, "user/ann@acme.example")
    with store.tenant("acme") as t:
        boss = t.add_user("boss", PASSWORD, "tenant_admin")
        deputy = t.add_user("deputy", PASSWORD, "tenant_admin")
        ann = t.add_user("ann", PASSWORD, "agent")
        sup = t.add_user("sup", PASSWORD, "supervisor")
        repo.put_group(t, "front", [sup.id], ["acme_ann"], [])
        tokens = {u.username: t.issue_token(u.id, "tests") for u in (boss, deputy, ann)}
    with store.operator() as op:
        op.conn.execute("UPDATE agents SET user_id = %s WHERE id = 'acme_ann'", (ann.id,))
    server = serve_api(ApiContext(store, lambda tenant: {}))
    try:
        admin = Client(server.server_port, token=tokens["boss"])
        r = admin.request("DELETE", f"{U}/{boss.id}")
        assert (r.status, r.json["code"]) == (422, "own_account")
        r = Client(server.server_port, token=tokens["ann"]).request("DELETE", f"{U}/{deputy.id}")
        assert (r.status, r.json["code"]) == (403, "forbidden")

        # ann's agent stays, without a login; her token stops at once.
        assert admin.request("DELETE", f"{U}/{ann.id}").status == 204
        assert Client(server.server_port, token=tokens["ann"]).get(U).status == 401
        assert admin.request("DELETE", f"{U}/{ann.id}").json["code"] == "no_such_user"
        with store.tenant("acme") as t:
            assert repo.agent(t, "acme_ann")["user_id"] is None  # type: ignore[index]
        # The supervisor leaves their group with them.
        assert admin.request("DELETE", f"{U}/{sup.id}").status == 204
        assert admin.get("/api/v1/tenants/acme/groups").json == [
            {"name": "front", "supervisors": [], "agents": ["acme_ann"], "queues": []}
        ]
        with store.tenant("acme") as t:
            assert sorted(u.username for u in t.users()) == ["boss", "deputy"]
    finally:
        server.stop()


def test_the_last_enabled_tenant_admin_cannot_be_deleted_even_by_the_operator(store) -> None:
    with store.operator() as op:
        op.add_tenant(Tenant("acme", "Acme", "acme.example"))
        ops = op.add_operator_admin("ops", PASSWORD)
        operator_token = repo.issue_operator_token(op, ops.id, "tests")
    with store.tenant("acme") as t:
        boss = t.add_user("boss", PASSWORD, "tenant_admin")
        old = t.add_user("old", PASSWORD, "tenant_admin")
        t.conn.execute("UPDATE users SET disabled = true WHERE id = %s", (old.id,))
    server = serve_api(ApiContext(store, lambda tenant: {}))
    try:
        operator = Client(server.server_port, token=operator_token)
        # boss is the only enabled tenant admin (old is disabled): they stay.
        r = operator.request("DELETE", f"{U}/{boss.id}")
        assert (r.status, r.json["code"]) == (409, "last_tenant_admin"), r.json
        # A disabled admin may go; once old is enabled again, so may boss.
        assert operator.request("PATCH", f"{U}/{old.id}", {"disabled": False}).status == 200
        assert operator.request("DELETE", f"{U}/{boss.id}").status == 204
        r = operator.request("DELETE", f"{U}/{old.id}")
        assert (r.status, r.json["code"]) == (409, "last_tenant_admin"), r.json
    finally:
        server.stop()


def test_a_prompt_is_deleted_unless_a_flow_plays_it_and_a_recording_plays_for_its_tenant_only(
    store, tmp_path
) -> None:
    with site(store, tmp_path) as s:
        before = s.tenant_yaml()
        # welcome is played by the main flow: refused where it is played, nothing changed.
        r = s.admin.request("DELETE", T + "/prompts/welcome")
        assert (r.status, r.json["code"]) == (422, "problems"), r.json
        assert any("welcome" in p["message"] for p in r.json["detail"]["problems"]), r.json
        assert s.tenant_yaml() == before

        # A recording nobody plays yet: heard in place, then deleted with its file.
        eight = wav(8000)
        r = s.admin.request("PUT", T + "/prompts/holiday_notice", {"wav": base64.b64encode(eight).decode()})
        assert r.status == 200, r.json
        r = s.admin.get(T + "/prompts/holiday_notice/audio")
        assert (r.status, r.headers["content-type"], r.body) == (200, "audio/wav", eight)
        part = s.admin.get(T + "/prompts/holiday_notice/audio", headers={"Range": "bytes=0-3"})
        assert (part.status, part.body) == (206, b"RIFF")
        # Another tenant's admin: no such tenant; a name that is a path: refused before any file.
        assert s.other.get(T + "/prompts/holiday_notice/audio").json["code"] == "no_such_tenant"
        assert s.admin.get(T + "/prompts/..%2Fwelcome/audio").status in (404, 422)
        assert s.admin.get(T + "/prompts/Holiday.Notice/audio").json["code"] == "invalid_name"
        r = s.admin.request("PUT", T + "/prompts/spoken", {"text": "您好"})
        assert s.admin.get(T + "/prompts/spoken/audio").json["code"] == "spoken_prompt"

        r = s.admin.request("DELETE", T + "/prompts/holiday_notice")
        assert r.status == 200, r.json
        assert "holiday_notice" not in r.json["prompts"] and "welcome" in r.json["prompts"]
        assert "holiday_notice" not in s.live().prompts
        assert not (s.sounds / "zh/cablenet/8000/holiday_notice.wav").exists()
        assert s.admin.request("DELETE", T + "/prompts/holiday_notice").json["code"] == "no_such_prompt"
        assert "# A cable-TV and broadband operator's customer hotline" in s.tenant_yaml()  # comments kept


def test_a_tenant_yaml_naming_another_tenants_file_plays_nothing(store, tmp_path) -> None:
    with site(store, tmp_path) as s:
        # cablenet's tenant.yaml names a prompt in harbourbank's folder (same language).
        theirs = "welcome: {file: cablenet/welcome.wav}\n  theirs: {file: harbourbank/welcome.wav}"
        text = s.tenant_yaml().replace("welcome: {file: cablenet/welcome.wav}", theirs)
        (s.sounds / "zh/harbourbank").mkdir()
        (s.sounds / "zh/harbourbank/welcome.wav").write_bytes(wav(16000))
        (s.root / "cablenet/tenant.yaml").write_text(text)  # as an upload would have put it live
        assert s.live().prompts["theirs"].file == "harbourbank/welcome.wav"  # the check lets it by
        assert s.admin.get(T + "/prompts/theirs/audio").json["code"] == "no_recording"
