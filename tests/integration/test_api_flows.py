"""A tenant admin uploads their flows through the HTTP API: the example project in a
directory of its own, rendered into a conf directory the emulator runs (reloadxml for
real, over its Event Socket), PostgreSQL for who may."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fsapps.esl.client import Connection
from fsapps.flows.check import check
from fsapps.flows.install import install
from fsapps.flows.model import Project
from fsapps.flows.render import render
from fsapps.flows.upload import FlowsSite
from fsapps.sim.directory import Directory
from fsapps.sim.endpoints import CallerScript
from fsapps.sim.switch import Switch, SwitchConfig
from fsapps.store import api as repo
from fsapps.store.records import Tenant
from fsapps.web.app import ApiContext
from tests.support.api import PASSWORD, Client, serve_api
from tests.support.controllers import switch_on_conf

ROOT = Path(__file__).resolve().parents[2]
T = "/api/v1/tenants/cablenet/flows"
HOTLINE = """start: start
nodes:
  start: {type: answer, children: {_: bye}}
  bye: {type: hangup}
"""


@dataclass
class Site:
    root: Path
    conf: Path
    switch: Switch
    port: int
    tokens: dict[str, str]
    adopted: list[Project] = field(default_factory=list)

    def as_(self, who: str) -> Client:
        return Client(self.port, token=self.tokens[who])

    def conf_digest(self) -> str:
        h = hashlib.sha256()
        for p in sorted(self.conf.rglob("*")):
            rel = str(p.relative_to(self.conf)).encode()
            if p.is_symlink():  # the current generation
                h.update(rel + b"->" + str(p.readlink()).encode())
            elif p.is_file():
                h.update(rel + b"\0" + p.read_bytes())
        return h.hexdigest()

    def reaches(self, number: str) -> bool:
        """A call to ``number`` meets an extension of the switch's dialplan as it is loaded."""
        ch = self.switch.place_call(
            number, caller_id_number="13800000001", script=CallerScript(hangup_after=2)
        )
        assert ch.destroyed.wait(10)
        return self.switch.history[ch.uuid].hangup_cause != "NO_ROUTE_DESTINATION"


@contextmanager
def site(store, tmp_path: Path) -> Iterator[Site]:
    root, conf = tmp_path / "dialplan", tmp_path / "conf"
    shutil.copytree(ROOT / "dialplan", root)
    install(render(check(root, sounds=ROOT / "sounds")), conf)
    switch = switch_on_conf(conf, ROOT / "sounds", SwitchConfig(speed=10.0)).start()
    conn = Connection("127.0.0.1", switch.port, switch.password)
    conn.connect()
    assert conn.api("reloadxml").strip() == "+OK [Success]"
    with store.operator() as op:
        for t in ("cablenet", "harbourbank"):
            op.add_tenant(Tenant(t, t, f"{t}.example"))
    tokens = {}
    for tenant, who, role in (("cablenet", "admin", "tenant_admin"), ("cablenet", "sup", "supervisor"),
                              ("harbourbank", "other", "tenant_admin")):  # fmt: skip
        with store.tenant(tenant) as t:
            tokens[who] = t.issue_token(t.add_user(who, PASSWORD, role).id, "tests")
    adopted: list[Project] = []

    def phones() -> dict[str, Any]:
        with store.operator() as op:
            return repo.sip_phones(op.conn)

    flows = FlowsSite(root, conf, lambda: conn.api("reloadxml"), adopt=adopted.append, sounds=ROOT / "sounds",
                      phones=phones)  # fmt: skip
    server = serve_api(ApiContext(store, lambda tenant: {}, flows=flows))
    try:
        yield Site(root, conf, switch, server.server_port, tokens, adopted)
    finally:
        server.stop()
        conn.stop()
        switch.stop()


def test_a_broken_upload_comes_back_with_file_line_and_column_and_the_live_conf_is_unchanged(
    store, tmp_path
) -> None:
    with site(store, tmp_path) as s:
        admin = s.as_("admin")
        live = admin.get(T).json["files"]
        assert sorted(live) == ["flows/main.yaml", "tenant.yaml"]
        assert live["tenant.yaml"] == (ROOT / "dialplan/cablenet/tenant.yaml").read_text()
        before, yaml_before = s.conf_digest(), (s.root / "cablenet/flows/main.yaml").read_text()

        broken = live["flows/main.yaml"].replace("type: menu\n", "type: menuu\n", 1)
        line = broken[: broken.index("type: menuu")].count("\n") + 1
        hotline = HOTLINE.replace("{_: bye}", "{_: nowhere}")
        r = admin.request(
            "PUT", T, {"files": {**live, "flows/main.yaml": broken, "flows/hotline.yaml": hotline}}
        )
        assert (r.status, r.json["code"]) == (422, "problems"), r.json
        problems = r.json["detail"]["problems"]
        where = {(p["file"], p["line"]) for p in problems}
        assert ("flows/main.yaml", line) in where, problems
        assert any(p["file"] == "flows/hotline.yaml" and "nowhere" in p["message"] for p in problems), (
            problems
        )
        assert all(set(p) == {"file", "line", "column", "message"} and p["column"] >= 1 for p in problems)
        assert not any(str(tmp_path) in p["message"] for p in problems)  # no server paths
        # Nothing went live: the conf, the YAML, the controller's flows.
        assert s.conf_digest() == before
        assert (s.root / "cablenet/flows/main.yaml").read_text() == yaml_before
        assert not (s.root / "cablenet/flows/hotline.yaml").exists()
        assert s.adopted == []

        # Another tenant's id, or another tenant's number: problems of this upload too.
        for changed, said in (
            (
                live["tenant.yaml"].replace("id: cablenet", "id: harbourbank"),
                "differs from the folder name (expected 'cablenet')",
            ),
            (live["tenant.yaml"].replace('"96171": main', '"95555": main'), "already used by another tenant"),
        ):
            r = admin.request("PUT", T, {"files": {**live, "tenant.yaml": changed}})
            assert r.status == 422 and any(said in p["message"] for p in r.json["detail"]["problems"]), r.json
            if "another" in said:  # which tenant has the number is not said, nor where
                assert "harbourbank" not in r.body.decode(), r.json
        for bad in ({"../harbourbank/tenant.yaml": "id: x"}, {"flows/../../operator.yaml": "x"}, {}):
            r = admin.request("PUT", T, {"files": bad})
            assert r.status == 422 and r.json["code"] in ("invalid_input", "bad_files"), (bad, r.json)
        assert s.conf_digest() == before and s.adopted == []


def test_a_clean_upload_is_rendered_installed_and_reloaded(store, tmp_path) -> None:
    with site(store, tmp_path) as s:
        admin = s.as_("admin")
        live = admin.get(T).json["files"]
        assert not s.reaches("96199")
        tenant = live["tenant.yaml"].replace('  "96171": main\n', '  "96171": main\n  "96199": hotline\n')
        for who, status in (("sup", 403), ("other", 404)):
            r = s.as_(who).request("PUT", T, {"files": {**live, "tenant.yaml": tenant}})
            assert r.status == status
        before = s.conf_digest()
        r = admin.request("PUT", T, {"files": {**live, "tenant.yaml": tenant, "flows/hotline.yaml": HOTLINE}})
        assert r.status == 200, r.json
        assert (r.json["flows"], "business" in r.json["queues"]) == (["hotline", "main"], True)
        assert s.conf_digest() != before
        assert (s.root / "cablenet/flows/hotline.yaml").read_text() == HOTLINE
        assert admin.get(T).json["files"]["flows/hotline.yaml"] == HOTLINE
        assert s.reaches("96199")  # the switch reloaded the new XML
        (project,) = s.adopted
        cablenet = next(t for t in project.tenants if t.id == "cablenet")
        assert sorted(cablenet.flows) == ["hotline", "main"]
        assert {t.id for t in project.tenants} == {"cablenet", "harbourbank", "shopwise", "travelgo"}
        assert not any(p.name.startswith(".") for p in s.root.iterdir())  # nothing left aside


def test_a_tenant_admin_provisions_an_agents_sip_phone(store, tmp_path) -> None:
    """A SIP user in cablenet's directory with a generated password: the switch has its
    a1-hash (never the password), the agent's contact rings it; a second one replaces it."""
    import hashlib

    with site(store, tmp_path) as s:
        with store.operator() as op:
            op.add_agent("cn_li", "Li", {"cablenet": 1})
            op.add_agent("cn_wang", "Wang", {"cablenet": 1})
            op.add_agent("bpo1", "Shared", {"cablenet": 1, "harbourbank": 1})
        admin, path = s.as_("admin"), "/api/v1/tenants/cablenet/agents/cn_li/phone"

        def user(name: str) -> Any:
            return s.switch.directory.user(name, "cablenet.example")

        assert user("1001") is None
        r = admin.request("PUT", path, {"user": "1001"})
        assert r.status == 200, r.json
        password = r.json["password"]
        assert (r.json["contact"], r.json["domain"], len(password) >= 20) == (
            "user/1001@cablenet.example", "cablenet.example", True)  # fmt: skip
        a1 = hashlib.md5(f"1001:cablenet.example:{password}".encode()).hexdigest()
        found = user("1001")
        assert found is not None, "the switch did not reload the directory"
        assert {p.get("name"): p.get("value") for p in found.iter("param")} == {"a1-hash": a1}
        assert {v.get("name"): v.get("value") for v in found.iter("variable")} == {
            "fsapps_tenant": "cablenet", "fsapps_agent": "cn_li"}  # fmt: skip
        assert not any(password.encode() in p.read_bytes() for p in s.conf.rglob("*.xml"))
        assert (
            admin.get("/api/v1/tenants/cablenet/agents/cn_li").json["contact"] == "user/1001@cablenet.example"
        )

        r = admin.request("PUT", path, {"user": "1002"})  # a new phone replaces the first
        assert r.status == 200 and r.json["password"] != password
        assert user("1001") is None and user("1002") is not None
        for agent, body, status, code in (
            ("cn_wang", {"user": "1002"}, 409, "user_taken"),  # cn_li's
            ("cn_wang", {"user": "suggestions"}, 409, "user_taken"),  # a voicemail box
            ("bpo1", {"user": "2001"}, 409, "shared_agent"),
            ("cn_wang", {"user": "2001@evil"}, 422, "invalid_input"),
            ("nobody", {"user": "2001"}, 404, "no_such_agent"),
        ):
            r = admin.request("PUT", f"/api/v1/tenants/cablenet/agents/{agent}/phone", body)
            assert (r.status, r.json["code"]) == (status, code), (agent, body, r.json)
        assert s.as_("sup").request("PUT", path, {"user": "1003"}).status == 403
        assert s.as_("other").request("PUT", path, {"user": "1003"}).status == 404
        assert user("2001") is None and user("1002") is not None
        with store.operator() as op:  # the refusals left nothing behind
            rows = op._all("SELECT tenant_id, username, agent_id FROM sip_phones")
            contacts = op._all("SELECT id, contact FROM agents WHERE id IN ('cn_wang', 'bpo1') ORDER BY id")
        assert rows == [{"tenant_id": "cablenet", "username": "1002", "agent_id": "cn_li"}]
        assert contacts == [{"id": "bpo1", "contact": None}, {"id": "cn_wang", "contact": None}]

        # An upload of the tenant's flows keeps the phone in the directory.
        live = admin.get(T).json["files"]
        assert admin.request("PUT", T, {"files": live}).status == 200
        assert user("1002") is not None


def test_fsapps_render_with_a_database_keeps_the_provisioned_phones(store, tmp_path, capsys) -> None:
    """The operator's render (README: `fsapps render` with a database) puts the phones the
    API provisioned in the directory, as the API's own renders do."""
    from fsapps import cli
    from fsapps.sim.xmlconf import load_document

    root = tmp_path / "dialplan"  # cablenet alone, its agents in the database
    (root / "cablenet").mkdir(parents=True)
    shutil.copy(ROOT / "dialplan/operator.yaml", root)
    shutil.copytree(ROOT / "dialplan/cablenet", root / "cablenet", dirs_exist_ok=True)
    with store.operator() as op:
        op.add_tenant(Tenant("cablenet", "Cablenet", "cablenet.example"))
        for agent in ("cn_li", "cn_wang", "cn_zhao"):
            op.add_agent(agent, agent, {"cablenet": 1})
        assert repo.provision_phone(
            op.conn, "cablenet", "1001", "cn_li", "0" * 32, "user/1001@cablenet.example"
        )
    config = tmp_path / "fsapps.yaml"
    config.write_text(f"database: {{dsn: '{store.dsn}'}}\n")
    argv = ["render", str(root), "--sounds", str(ROOT / "sounds"), "--out", str(tmp_path / "conf")]
    code = cli.main([*argv, "--config", str(config)])
    assert code == 0, capsys.readouterr()
    directory = Directory.from_document(load_document(tmp_path / "conf"))
    found = directory.user("1001", "cablenet.example")
    assert found is not None
    assert [p.get("value") for p in found.iter("param") if p.get("name") == "a1-hash"] == ["0" * 32]
    assert directory.user("suggestions", "cablenet.example") is not None  # the boxes stay
