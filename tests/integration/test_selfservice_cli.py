"""fsapps blacklist | outage | callbacks | surveys against a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fsapps.store import selfservice
from tests.integration.test_cli_store import run  # noqa: F401  (fixture)


@pytest.fixture
def acme(run):  # noqa: F811
    assert run("tenant", "add", "acme", "--domain", "acme.example")[0] == 0
    assert run("tenant", "add", "other", "--domain", "other.example")[0] == 0
    return run


def test_blacklist_add_list_remove_and_matching(acme, store) -> None:
    assert acme("blacklist", "add", "0755", "--prefix", "--reason", "fraud ring", "--tenant", "acme")[0] == 0
    assert (
        acme("blacklist", "add", "+8613800000000", "--until", "2027-01-01T00:00+08:00", "--tenant", "acme")[0]
        == 0
    )
    listing = acme("blacklist", "list", "--tenant", "acme")[1].splitlines()
    assert listing == ["+8613800000000\texact\t2026-12-31T16:00:00+00:00\t", "0755\tprefix\t-\tfraud ring"]
    assert acme("blacklist", "list", "--tenant", "other")[1] == ""  # tenants are walls
    now = datetime(2026, 11, 23, tzinfo=UTC)
    with store.tenant("acme") as t:
        assert selfservice.blacklisted(t, "075512345", now)["reason"] == "fraud ring"
        assert selfservice.blacklisted(t, "+8613800000000", now)["match"] == "exact"
        assert selfservice.blacklisted(t, "+8613800000000", datetime(2027, 2, 1, tzinfo=UTC)) is None
    with store.tenant("other") as t:
        assert selfservice.blacklisted(t, "075512345", now) is None
    assert acme("blacklist", "remove", "0755", "--prefix", "--tenant", "acme")[0] == 0
    assert acme("blacklist", "remove", "0755", "--prefix", "--tenant", "acme")[0] == 1


def test_a_malformed_number_is_refused_in_one_line(acme) -> None:
    with pytest.raises(SystemExit) as exc:
        acme("blacklist", "add", "12ab", "--tenant", "acme")
    assert exc.value.code == 2


def test_outage_post_list_end(acme, store) -> None:
    code, out, _ = acme("outage", "post", "--tenant", "acme", "--prefix", "0755", "--message", "Fibre cut in Nanshan.",
                        "--hours", "2")  # fmt: skip
    assert code == 0 and out.startswith("outage ")
    oid = int(out.split()[1])
    assert acme("outage", "list", "--tenant", "acme")[1].split("\t")[5] == "Fibre cut in Nanshan.\n"
    with store.tenant("acme") as t:
        assert selfservice.active_outage(t, datetime.now(UTC), caller="075588")["id"] == oid
        assert selfservice.active_outage(t, datetime.now(UTC) + timedelta(hours=3), caller="075588") is None
    assert acme("outage", "end", str(oid), "--tenant", "acme")[0] == 0
    assert acme("outage", "list", "--tenant", "acme")[1] == ""
    assert acme("outage", "list", "--all", "--tenant", "acme")[1].startswith(f"{oid}\tprefix\t0755")
    assert acme("outage", "end", str(oid), "--tenant", "acme")[0] == 1
    bad = acme("outage", "post", "--tenant", "acme", "--area", "north", "--message", "x",
               "--start", "2026-11-23T10:00", "--until", "2026-11-23T09:00")  # fmt: skip
    assert bad[0] == 2 and "must end after it starts" in bad[1]


def test_agents_added_shared_and_their_status_set_by_a_supervisor(acme, store) -> None:
    assert acme("agent", "add", "1001", "--name", "Ada", "--tenant", "acme", "--tenant", "other:3",
                "--contact", "user/1001@acme.example", "--wrap-up-time", "10")[0] == 0  # fmt: skip
    assert acme("agent", "list")[1] == "1001\tLogged Out\tWaiting\tacme,other\n"
    assert acme("agent", "status", "1001", "break", "--reason", "lunch")[0] == 0
    assert acme("agent", "list")[1] == "1001\tOn Break (lunch)\tWaiting\tacme,other\n"
    assert acme("agent", "status", "1001", "available")[0] == 0
    with store.operator() as op:
        row = op._one("SELECT status, wrap_up_time FROM agent_state WHERE agent_id = '1001'")
        weights = op._all("SELECT tenant_id, weight FROM agent_tenants ORDER BY tenant_id")
    assert row == {"status": "Available", "wrap_up_time": 10}
    assert weights == [{"tenant_id": "acme", "weight": 1}, {"tenant_id": "other", "weight": 3}]
    assert acme("agent", "status", "nobody", "available")[0] == 2  # unknown agent: one line, no traceback


def test_an_agent_id_taken_is_one_line_and_the_first_agent_is_kept(acme, store) -> None:
    """fsapps agent add and the API's POST .../agents create agents through one function
    (fsapps.store.agents): a second add of an id says so, no traceback, nothing changed."""
    assert acme("agent", "add", "1001", "--name", "Ada", "--tenant", "acme")[0] == 0
    code, out, err = acme("agent", "add", "1001", "--name", "Bob", "--tenant", "other", "--max-no-answer", "2")
    assert (code, out, err) == (1, "", "fsapps: agent 1001 exists already\n")
    with store.operator() as op:
        assert op._all("SELECT a.name, m.tenant_id, s.max_no_answer FROM agents a JOIN agent_tenants m"
                       " ON m.agent_id = a.id JOIN agent_state s ON s.agent_id = a.id") == [
            {"name": "Ada", "tenant_id": "acme", "max_no_answer": 0}]  # fmt: skip
