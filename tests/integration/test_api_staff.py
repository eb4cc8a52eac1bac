"""A tenant admin staffs their queues through the HTTP API: adds an agent, puts them on a
queue's tiers (tenant.yaml rewritten, checked, rendered, reloaded and adopted by the
controller), and a caller reaches them; another tenant's admin cannot see, change, take
off or tier that agent. Real HTTP, the embedded PostgreSQL, the controller on the emulator.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from fsapps.flows.roster import read_roster
from fsapps.flows.upload import FlowsSite
from fsapps.sim.directory import Directory
from fsapps.sim.endpoints import Endpoint
from fsapps.sim.xmlconf import load_document
from fsapps.sim.xmldialplan import XmlDialplan
from fsapps.store import api as repo
from fsapps.store.records import Tenant
from fsapps.web.app import ApiContext
from tests.integration.test_acd_calls import ROOT, Rig, rig
from tests.support.api import PASSWORD, Client, serve_api
from tests.support.waiting import wait_for

T = "/api/v1/tenants/cablenet"
ACME_YAML = """id: acme
name: Acme
domain: acme.example
timezone: UTC
language: en
access_numbers:
  "5550100": main
queues:
  help:   # the help desk
    strategy: ring-all
    tiers: []
"""
ACME_FLOW = """start: start
nodes:
  start: {type: answer, children: {_: bye}}
  bye: {type: hangup}
"""


@dataclass
class Staffing:
    rig: Rig
    root: Path
    conf: Path
    port: int
    tokens: dict[str, str]

    def as_(self, who: str) -> Client:
        return Client(self.port, token=self.tokens[who])

    def conf_digest(self) -> str:
        h = hashlib.sha256()
        for p in sorted(self.conf.rglob("*")):
            if p.is_file() and not p.is_symlink():
                h.update(str(p.relative_to(self.conf)).encode() + b"\0" + p.read_bytes())
        return h.hexdigest()


@contextmanager
def staffing(store, tmp_path: Path) -> Iterator[Staffing]:
    """cablenet (its example tenant.yaml; agents cn_li, cn_wang, cn_zhao logged out) and
    acme (one queue, help), as `fsapps serve` runs them: the flows directory the API
    installs from, the roster from the database, the controller adopting what is reloaded."""
    with rig(store, tmp_path) as r:
        for agent in ("cn_li", "cn_wang", "cn_zhao"):
            r.agent(agent, Endpoint(answer_after=0.5), status="Logged Out")
        with store.operator() as op:
            op.add_tenant(Tenant("acme", "Acme", "acme.example"))
        root, conf = tmp_path / "flows", tmp_path / "conf"
        (root / "acme/flows").mkdir(parents=True)
        (root / "acme/flows/main.yaml").write_text(ACME_FLOW)
        shutil.copytree(ROOT / "dialplan/cablenet", root / "cablenet")
        (root / "acme/tenant.yaml").write_text(ACME_YAML)
        operator = yaml.safe_load((ROOT / "dialplan/operator.yaml").read_text())
        operator["controllers"] = [f"127.0.0.1:{c.server.port}" for c in r.controllers]
        operator["sounds"] = str(ROOT / "sounds")
        (root / "operator.yaml").write_text(yaml.safe_dump(operator))
        tokens = {}
        for tenant, who, role in (
            ("cablenet", "admin", "tenant_admin"),
            ("cablenet", "sup", "supervisor"),
            ("acme", "acme_admin", "tenant_admin"),
        ):
            with store.tenant(tenant) as t:
                user = t.add_user(who, PASSWORD, role)
                tokens[who] = t.issue_token(user.id, "tests")
                if who == "sup":
                    repo.put_group(t, "front", [user.id], ["cn_wang"], ["business"])

        def reloadxml() -> str:  # what the switch does with reloadxml: the conf, read again
            document = load_document(conf)
            r.switch.dialplan = XmlDialplan.from_document(document)
            r.switch.directory = Directory.from_document(document)
            return "+OK [Success]"

        def phones() -> Any:
            with store.operator() as op:
                return repo.sip_phones(op.conn)

        controller = r.controllers[0]
        flows = FlowsSite(
            root,
            conf,
            reloadxml,
            adopt=controller.context.adopt,
            sounds=ROOT / "sounds",
            roster=lambda: read_roster(store.dsn),
            phones=phones,
        )

        def queues(tenant_id: str) -> dict[str, dict[str, Any]]:  # as `fsapps serve` gives them
            for tenant in controller.context.project.tenants:
                if tenant.id == tenant_id:
                    return {name: dict(q.data or {}) for name, q in tenant.queues.items()}
            return {}

        server = serve_api(ApiContext(store, queues, flows=flows, gateways=lambda: ["carrier"]))
        try:
            yield Staffing(r, root, conf, server.server_port, tokens)
        finally:
            server.stop()


def test_a_tenant_admin_adds_an_agent_puts_them_on_a_queue_and_a_caller_reaches_them(store, tmp_path) -> None:
    with staffing(store, tmp_path) as s:
        admin = s.as_("admin")
        phone = s.rig.switch.register_user("cn_new", Endpoint(answer_after=0.5, hangup_after=30))
        r = admin.request(
            "POST",
            f"{T}/agents",
            {
                "id": "cn_new",
                "name": "New",
                "contact": {"extension": "cn_new"},
                "max_no_answer": 3,
                "wrap_up_time": 2,
            },
        )
        assert r.status == 201, r.json
        assert (r.json["contact"], r.json["status"], r.json["max_no_answer"], r.json["wrap_up_time"]) == (
            "user/cn_new@cablenet.example",
            "Logged Out",
            3,
            2,
        )
        assert admin.request("PUT", f"{T}/agents/cn_new/status", {"status": "Available"}).status == 200

        before = (s.root / "cablenet/tenant.yaml").read_text()
        r = admin.request(
            "PUT",
            f"{T}/queues/business/tiers",
            {"tiers": [{"agent": "cn_new"}, {"agent": "cn_li", "level": 2}]},
        )
        assert r.status == 200, r.json
        assert r.json == {
            "queue": "business",
            "tiers": [
                {"agent": "cn_new", "level": 1, "position": 1},
                {"agent": "cn_li", "level": 2, "position": 2},
            ],
        }
        after = (s.root / "cablenet/tenant.yaml").read_text()
        # One line changed; the comments and the rest of the file as they were.
        changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b]
        assert changed == [("    tiers: [cn_li, cn_wang]", "    tiers: [cn_new, {agent: cn_li, level: 2}]")]
        assert admin.get(f"{T}/queues/business/tiers").json == r.json  # the controller's flows now
        assert admin.get(f"{T}/agents/cn_new").json["tiers"] == [
            {"queue": "business", "level": 1, "position": 1}
        ]

        caller = s.rig.call(keypad=["1"])
        wait_for(lambda: s.rig.agent_row("cn_new")["state"] == "In a queue call", timeout=30)
        assert str(s.rig.agent_row("cn_new")["offered_member"]) == caller.uuid
        assert phone is s.rig.switch.find_user("cn_new@cablenet.example")

        # Taking them off: not while a queue's tiers name them, nor while they talk.
        r = admin.request("DELETE", f"{T}/agents/cn_new")
        assert (r.status, r.json["code"]) == (409, "on_tiers"), r.json
        assert (
            admin.request("PUT", f"{T}/queues/business/tiers", {"tiers": [{"agent": "cn_li"}]}).status == 200
        )
        r = admin.request("DELETE", f"{T}/agents/cn_new")
        assert (r.status, r.json["code"]) == (409, "on_a_call"), r.json
        assert caller.destroyed.wait(60)
        wait_for(lambda: s.rig.agent_row("cn_new")["state"] != "In a queue call", timeout=30)
        assert admin.request("DELETE", f"{T}/agents/cn_new").status == 204
        with store.operator() as op:
            assert op._all("SELECT id FROM agents WHERE id = 'cn_new'") == []
        assert admin.get(f"{T}/agents/cn_new").status == 404


def test_another_tenants_admin_cannot_see_change_take_off_or_tier_the_agent(store, tmp_path) -> None:
    with staffing(store, tmp_path) as s:
        admin, acme = s.as_("admin"), s.as_("acme_admin")
        assert admin.request("POST", f"{T}/agents", {"id": "cn_new"}).status == 201

        def state() -> Any:
            with store.operator() as op:
                return (
                    op._all("SELECT * FROM agents ORDER BY id"),
                    op._all("SELECT * FROM agent_tenants ORDER BY agent_id, tenant_id"),
                    (s.root / "acme/tenant.yaml").read_text(),
                )

        before, conf = state(), s.conf_digest()
        A = "/api/v1/tenants/acme"
        # In acme, cablenet's agent is as much "not found" as one that does not exist.
        for agent in ("cn_new", "nobody"):
            for method, body in (("GET", None), ("PATCH", {"name": "Mine now"}), ("DELETE", None)):
                r = acme.request(method, f"{A}/agents/{agent}", body)
                assert (r.status, r.json["code"]) == (404, "no_such_agent"), (agent, method, r.json)
            r = acme.request("PUT", f"{A}/agents/{agent}/status", {"status": "Available"})
            assert (r.status, r.json["code"]) == (404, "no_such_agent")
        assert "cn_new" not in str(acme.get(f"{A}/agents").json)
        # Creating it: the same answer as for an id taken in acme itself.
        assert acme.request("POST", f"{A}/agents", {"id": "acme_1"}).status == 201
        before = state()
        for agent in ("cn_new", "acme_1"):
            r = acme.request("POST", f"{A}/agents", {"id": agent})
            assert (r.status, r.json) == (
                409,
                {"code": "agent_id_taken", "message": f"agent id '{agent}' is not available"},
            ), r.json
        # Tiering it: 422 at the tier's line, said as for an id nobody has; nothing changes.
        answers = []
        for agent in ("cn_new", "nobody"):
            r = acme.request("PUT", f"{A}/queues/help/tiers", {"tiers": [{"agent": agent}]})
            assert (r.status, r.json["code"]) == (422, "problems"), r.json
            (problem,) = r.json["detail"]["problems"]
            assert (problem["file"], problem["line"]) == (
                "tenant.yaml",
                ACME_YAML.splitlines().index("    tiers: []") + 1,
            )
            answers.append(problem["message"].replace(agent, "X"))
        assert answers[0] == answers[1] == "no agent 'X' serves this tenant (expected one of: acme_1)"
        assert "cablenet" not in str(answers)
        # cablenet's own paths are not acme's to use.
        for method, path, body in (
            ("GET", f"{T}/agents/cn_new", None),
            ("DELETE", f"{T}/agents/cn_new", None),
            ("PUT", f"{T}/queues/business/tiers", {"tiers": [{"agent": "cn_new"}]}),
        ):
            r = acme.request(method, path, body)
            assert (r.status, r.json["code"]) == (404, "no_such_tenant"), r.json
        assert state() == before and s.conf_digest() == conf


def test_a_bad_tier_comes_back_with_file_and_line_and_changes_nothing(store, tmp_path) -> None:
    with staffing(store, tmp_path) as s:
        admin = s.as_("admin")
        yaml_before, conf = (s.root / "cablenet/tenant.yaml").read_text(), s.conf_digest()
        adopted = s.rig.controllers[0].context.project
        line = yaml_before.splitlines().index("    tiers: [cn_li, cn_wang]") + 1
        r = admin.request(
            "PUT",
            f"{T}/queues/business/tiers",
            {"tiers": [{"agent": "ghost"}, {"agent": "cn_li", "level": 0}]},
        )
        assert (r.status, r.json["code"]) == (422, "problems"), r.json
        got = sorted((p["file"], p["line"], p["message"]) for p in r.json["detail"]["problems"])
        assert got == [
            ("tenant.yaml", line, "0 is out of range (expected a number from 1)"),
            (
                "tenant.yaml",
                line,
                "no agent 'ghost' serves this tenant (expected one of: cn_li, cn_wang, cn_zhao)",
            ),
        ]
        assert (s.root / "cablenet/tenant.yaml").read_text() == yaml_before
        assert s.conf_digest() == conf and s.rig.controllers[0].context.project is adopted
        # Bad in the request itself, or twice the same agent, or no such queue.
        for body, status, code in (
            ({"tiers": [{"agent": "x;y"}]}, 422, "invalid_input"),
            ({"tiers": [{"agent": "cn_li"}, {"agent": "cn_li", "level": 2}]}, 422, "duplicate_agent"),
        ):
            r = admin.request("PUT", f"{T}/queues/business/tiers", body)
            assert (r.status, r.json["code"]) == (status, code), r.json
        r = admin.request("PUT", f"{T}/queues/nowhere/tiers", {"tiers": []})
        assert (r.status, r.json["code"]) == (404, "no_such_queue"), r.json
        assert (s.root / "cablenet/tenant.yaml").read_text() == yaml_before and s.conf_digest() == conf


def test_a_supervisor_tiers_their_groups_agents_only(store, tmp_path) -> None:
    with staffing(store, tmp_path) as s:
        sup = s.as_("sup")  # group front: queue business, agent cn_wang
        r = sup.request("PUT", f"{T}/queues/business/tiers", {"tiers": [{"agent": "cn_wang"}]})  # cn_li off
        assert (r.status, r.json["code"]) == (403, "forbidden"), r.json
        r = sup.request("PUT", f"{T}/queues/complaints/tiers", {"tiers": [{"agent": "cn_wang"}]})
        assert (r.status, r.json["code"]) == (403, "forbidden"), r.json
        r = sup.request(
            "PUT",
            f"{T}/queues/business/tiers",
            {"tiers": [{"agent": "cn_li"}, {"agent": "cn_wang", "level": 3}]},
        )
        assert r.status == 200, r.json
        assert r.json["tiers"][1] == {"agent": "cn_wang", "level": 3, "position": 2}
        assert sup.request("POST", f"{T}/agents", {"id": "cn_sup"}).status == 403


def test_contacts_are_built_not_taken(store, tmp_path) -> None:
    with staffing(store, tmp_path) as s:
        admin = s.as_("admin")
        r = admin.request("POST", f"{T}/agents", {"id": "cn_far", "contact": {"number": "+8613900000000"}})
        assert (r.status, r.json["contact"]) == (201, "sofia/gateway/carrier/+8613900000000"), r.json
        for contact, code in (
            ({"extension": "1001@evil.example"}, "invalid_input"),
            ({"number": "0755;x"}, "invalid_input"),
            ({"extension": "1001", "number": "+861"}, "invalid_contact"),
            ({"number": "+8613900000000", "gateway": "elsewhere"}, "no_such_gateway"),
            ({"dial": "sofia/gateway/carrier/1"}, "invalid_input"),
        ):
            r = admin.request("PATCH", f"{T}/agents/cn_far", {"contact": contact})
            assert (r.status, r.json["code"]) == (422, code), (contact, r.json)
        with store.operator() as op:
            assert op._one("SELECT contact FROM agents WHERE id = 'cn_far'")["contact"] == (
                "sofia/gateway/carrier/+8613900000000"
            )
        r = admin.request(
            "PATCH", f"{T}/agents/cn_far", {"contact": None, "name": "Far", "busy_delay_time": 9}
        )
        assert (r.status, r.json["contact"], r.json["name"], r.json["busy_delay_time"]) == (
            200,
            None,
            "Far",
            9,
        )
        # A shared agent's settings are the operator's (every tenant it serves has them).
        with store.operator() as op:
            op.conn.execute("INSERT INTO agent_tenants (agent_id, tenant_id) VALUES ('cn_far', 'acme')")
        r = admin.request("PATCH", f"{T}/agents/cn_far", {"name": "Mine"})
        assert (r.status, r.json["code"]) == (409, "shared_agent"), r.json
        # Taken off cablenet, it still serves acme.
        assert admin.request("DELETE", f"{T}/agents/cn_far").status == 204
        with store.operator() as op:
            assert op._all("SELECT tenant_id FROM agent_tenants WHERE agent_id = 'cn_far'") == [
                {"tenant_id": "acme"}
            ]
        assert s.as_("acme_admin").get("/api/v1/tenants/acme/agents/cn_far").status == 200
