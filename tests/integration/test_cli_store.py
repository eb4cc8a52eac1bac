"""fsapps db | tenant | user | bill against a real PostgreSQL; errors are one line."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import yaml

from fsapps import cli
from fsapps.store.records import UsageRecord


@pytest.fixture
def run(db_dsn, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("FSAPPS_DATABASE_DSN", db_dsn)
    monkeypatch.setenv("FSAPPS_STATE_DIR", str(tmp_path / "var"))

    def go(*argv: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = cli.main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return go


def test_tenant_user_and_a_bill(run, store, tmp_path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump({"currency": "EUR", "components": [
        {"type": "seat", "monthly": "20.00"},
        {"type": "usage", "resource": "ivr", "kind": "ivr_session", "unit": "seconds", "rate": "0.01"},
    ]}))  # fmt: skip
    assert run("tenant", "add", "acme", "--domain", "acme.example", "--timezone", "Europe/Paris",
               "--number", "4000", "--plan", str(plan))[0] == 0  # fmt: skip
    assert run("tenant", "list")[1].startswith("acme\tactive\tacme.example\tEurope/Paris")
    user = ("user", "add", "boss", "--role", "tenant_admin", "--tenant", "acme", "--password-stdin")
    code, out, _ = run(*user, stdin="a long passphrase\n")
    assert code == 0 and "boss (tenant_admin, acme)" in out
    t0 = datetime(2026, 11, 10, 9, tzinfo=UTC)
    with store.tenant("acme") as t:
        t.add_usage([UsageRecord("acme", "ivr", "ivr_session", t0, t0 + timedelta(seconds=90), Decimal(90),
                                 "seconds", "completed") for _ in range(3)])  # fmt: skip
    code, out, err = run("bill", "--tenant", "acme", "--month", "2026-11", "--out", str(tmp_path / "st"))
    assert code == 0, err
    assert "total 2.70 EUR" in out  # no seats assigned; 270 s x 0.01
    data = json.loads((tmp_path / "st" / "statement-acme-2026-11.json").read_text())
    assert data["records"] == 3 and data["total"] == "2.70"


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (("bill", "--tenant", "ghost", "--month", "2026-11"), "", "fsapps: unknown tenant 'ghost'"),
        (("bill", "--tenant", "acme", "--month", "11/2026"), "", "expected YYYY-MM"),
        (
            ("user", "add", "x", "--role", "agent", "--tenant", "acme", "--password-stdin"),
            "short\n",
            "at least 8",
        ),
        (("user", "add", "x", "--role", "agent", "--password-stdin"), "long enough pw\n", "give --tenant"),
        (("tenant", "add", "Bad Id", "--domain", "b.example"), "", "lowercase letters"),
    ],
)
def test_mistakes_are_one_line(run, argv, stdin, message) -> None:
    run("tenant", "add", "acme", "--domain", "acme.example")
    code, _, err = run(*argv, stdin=stdin)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_database_down_is_one_line(monkeypatch, capsys) -> None:
    monkeypatch.setenv("FSAPPS_DATABASE_DSN", "postgresql://nobody@127.0.0.1:1/x?connect_timeout=2")
    assert cli.main(["tenant", "list"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("fsapps: cannot reach PostgreSQL") and len(err.strip().splitlines()) == 1


def test_db_migrate_and_status(run) -> None:
    code, out, _ = run("db", "migrate")
    assert code == 0 and out.startswith("applied 0 migration(s)")
    out = run("db", "status")[1]
    assert "0001_tenants_users_agents: applied" in out and "database: configured database.dsn" in out
