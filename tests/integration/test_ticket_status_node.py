"""The ticket_status node, end to end: a tenant's YAML -> rendered XML -> a call on the
emulator -> the controller running the node's application -> the tenant's tickets in
PostgreSQL (a real server) -> the state spoken back, by branch found / not_found."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fsapps.flows.check import check
from fsapps.flows.simulate import simulate
from fsapps.store import tickets
from fsapps.store.records import Tenant

ROOT = Path(__file__).resolve().parents[2] / "dialplan"
AT = datetime(2026, 12, 1, 10, 0)

TENANT = """
id: {id}
name: {id}
domain: {id}.example
timezone: UTC
language: {language}
access_numbers: {{"{number}": main}}
prompts:
  enter_ticket: {{text: "Please key in your ticket number, then the hash key."}}
  agent_menu: {{text: "To speak to an agent, stay on the line."}}
  goodbye: {{text: "Goodbye."}}
"""
FLOW = """
start: start
nodes:
  start: {type: answer, children: {_: status}}
  status:
    type: ticket_status
    data: {prompt: enter_ticket, max_digits: 6}
    children: {found: after, not_found: goodbye}
  after: {type: play, data: {prompt: agent_menu}, children: {_: goodbye}}
  goodbye: {type: play, data: {prompt: goodbye}, children: {_: bye}}
  bye: {type: hangup}
"""


@pytest.fixture
def site(store, tmp_path):
    """Two tenants with the flow (one English, one Chinese), in the database, each with tickets."""
    root = tmp_path / "dialplan"
    root.mkdir()
    shutil.copy(ROOT / "operator.yaml", root / "operator.yaml")
    for tenant, language, number in (("helpdesk", "en", "5550100"), ("kefu", "zh", "5550200")):
        (root / tenant / "flows").mkdir(parents=True)
        (root / tenant / "tenant.yaml").write_text(TENANT.format(id=tenant, language=language, number=number))
        (root / tenant / "flows" / "main.yaml").write_text(FLOW)
        with store.operator() as op:
            op.add_tenant(Tenant(tenant, tenant, f"{tenant}.example", "UTC", language))
    (tmp_path / "sounds").mkdir()
    return root, store


def _ticket(store, tenant: str, state: str) -> int:
    now = datetime.now(UTC)
    k = {"subject": "Router dead", "body": "", "customer_id": None, "source": "agent", "contact": "",
         "priority": "normal", "assignee_agent": None, "assignee_queue": None, "now": now,
         "due_at": now + timedelta(days=1)}  # fmt: skip
    with store.tenant(tenant) as t:
        k["number"] = tickets.next_number(t)
        ticket_id = tickets.create(t, k, "tests", f"token-{tenant}-{k['number']}")
        t.conn.execute("UPDATE tickets SET state = %s WHERE id = %s", (state, ticket_id))
    return int(k["number"])


def run(site, tenant: str, digits: list[str]):
    root, store = site
    return simulate(root, tenant, at=AT, digits=digits, real_apps=True, store=store, speed=20.0,
                    hangup_after=60, sounds=root.parent / "sounds")  # fmt: skip


def test_a_keyed_in_number_has_its_state_read_back(site) -> None:
    _, store = site
    number = _ticket(store, "helpdesk", "pending")
    trace = run(site, "helpdesk", [f"{number}#"])
    assert ("main.status", "found") in trace.branches, trace.branches
    at = trace.prompts.index("enter_ticket")
    assert trace.prompts[at + 1 :] == [f"Ticket {' '.join(str(number))} is waiting for your reply.",
                                       "agent_menu", "goodbye"]  # fmt: skip


def test_an_unknown_number_and_another_tenants_are_not_found(site) -> None:
    _, store = site
    theirs = _ticket(store, "kefu", "open")  # 1001 is kefu's, not helpdesk's
    trace = run(site, "helpdesk", [f"{theirs}#"])
    assert ("main.status", "not_found") in trace.branches
    assert trace.prompts[-2:] == [f"There is no ticket {' '.join(str(theirs))}.", "goodbye"]


def test_the_state_is_said_in_the_tenants_language(site) -> None:
    _, store = site
    number = _ticket(store, "kefu", "solved")
    trace = run(site, "kefu", [f"{number}#"])
    assert ("main.status", "found") in trace.branches
    assert f"您的工单{number}，已解决。" in trace.prompts


def test_check_wants_a_prompt_or_a_variable(site) -> None:
    root, _ = site
    (root / "helpdesk" / "flows" / "main.yaml").write_text(FLOW.replace("prompt: enter_ticket, ", ""))
    problems = [str(p) for p in check(root, sounds=root.parent / "sounds").problems]
    assert any("main.yaml" in p and "needs a prompt to ask for the number, or a variable" in p
               for p in problems), problems  # fmt: skip
