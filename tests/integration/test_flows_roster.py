"""fsapps check / render / simulate with a database: queue tiers against the agents who
serve the tenant, domains against the tenants table. A real PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from fsapps import cli
from fsapps.flows.model import Roster
from fsapps.flows.roster import RosterError, read_roster
from fsapps.store.records import Tenant

TENANT = """\
id: acme
name: Acme
domain: acme.example
timezone: UTC
language: en
access_numbers: {"4000": main}
prompts:
  hello: {text: "Hello."}
queues:
  support: {tiers: [alice, bob]}
"""
FLOW = """\
nodes:
  start: {type: answer, children: {_: queue}}
  queue: {type: queue, data: {queue: support}, children: {_: bye}}
  bye: {type: hangup}
"""


def project(tmp_path: Path, tenant: str = TENANT) -> Path:
    root = tmp_path / "dialplan"
    (root / "acme" / "flows").mkdir(parents=True)
    (root / "acme" / "tenant.yaml").write_text(tenant)
    (root / "acme" / "flows" / "main.yaml").write_text(FLOW)
    return root


@pytest.fixture
def roster_db(store, db_dsn):
    with store.operator() as op:
        op.add_tenant(Tenant("acme", "Acme", "acme.example"))
        op.add_tenant(Tenant("bank", "Bank", "bank.example"))
        op.add_agent("alice", "Alice", {"acme": 1})
        op.add_agent("bob", "Bob", {"bank": 1})
        op.add_agent("carol", "Carol", {"acme": 2, "bank": 1})
        op.add_agent("idle", "Idle", {})
    return db_dsn


def test_the_roster_is_read_from_the_database(roster_db) -> None:
    assert read_roster(roster_db) == Roster(
        agents={
            "alice": frozenset({"acme"}),
            "bob": frozenset({"bank"}),
            "carol": frozenset({"acme", "bank"}),
            "idle": frozenset(),
        },
        domains={"acme.example": "acme", "bank.example": "bank"},
    )


def test_an_unreachable_database_is_one_line() -> None:
    with pytest.raises(RosterError, match="cannot read the agent roster from the database: "):
        read_roster("host=127.0.0.1 port=1 dbname=none connect_timeout=1", timeout=1)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_reports_a_tier_of_another_tenants_agent(roster_db, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("FSAPPS_DATABASE_DSN", roster_db)
    root = project(tmp_path)
    code, out, err = run(capsys, "check", str(root))
    assert code == 1
    assert out.splitlines() == [
        f"{root}/acme/tenant.yaml:10:28: agent 'bob' does not serve tenant 'acme'"
        " (expected one of: alice, carol)"
    ]
    assert "not checked" not in err


def test_render_and_simulate_check_the_tiers_too(roster_db, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("FSAPPS_DATABASE_DSN", roster_db)
    root = project(tmp_path)
    code, out, err = run(capsys, "render", str(root), "--out", str(tmp_path / "conf"))
    assert code == 1 and "agent 'bob' does not serve tenant 'acme'" in out
    assert not (tmp_path / "conf").exists()
    code, _, err = run(capsys, "simulate", str(root / "acme"))
    assert code == 1 and "agent 'bob' does not serve tenant 'acme'" in err


def test_a_domain_another_tenant_owns_in_the_database(roster_db, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("FSAPPS_DATABASE_DSN", roster_db)
    root = project(tmp_path, TENANT.replace("acme.example", "bank.example").replace("alice, bob", "alice"))
    code, out, _ = run(capsys, "check", str(root))
    assert code == 1
    assert out.splitlines() == [
        f"{root}/acme/tenant.yaml:3:9: domain bank.example belongs to tenant 'bank' in the database"
        " (expected a domain of this tenant's own)"
    ]


def test_without_a_database_check_passes_and_says_the_tiers_were_not_checked(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("FSAPPS_DATABASE_DSN", raising=False)
    monkeypatch.delenv("FSAPPS_CONFIG", raising=False)
    root = project(tmp_path)
    code, out, err = run(capsys, "check", str(root))
    assert code == 0, out
    assert err.count("queue tiers were not checked against the agent roster") == 1


def test_a_configured_database_that_cannot_be_read_stops_the_check(tmp_path, monkeypatch, capsys) -> None:
    settings = tmp_path / "fsapps.yaml"
    settings.write_text("database: {dsn: 'host=127.0.0.1 port=1 dbname=none connect_timeout=1'}\n")
    monkeypatch.delenv("FSAPPS_DATABASE_DSN", raising=False)
    code, out, err = run(capsys, "check", str(project(tmp_path)), "--config", str(settings))
    assert code == 2 and out == ""
    assert err.startswith("fsapps check: cannot read the agent roster from the database: ")
