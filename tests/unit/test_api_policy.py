"""The API's rules as one pure function: roles, tenant walls, groups and one's own agent."""

from __future__ import annotations

import pytest

from fsapps.web.policy import RULES, Principal, Role, Target, may, role_of

OPERATOR = Principal(1, "ops", Role.OPERATOR, None)
ADMIN = Principal(2, "admin", Role.TENANT_ADMIN, "acme")
SUPERVISOR = Principal(
    3, "sue", Role.SUPERVISOR, "acme", queues=frozenset({"support"}), agents=frozenset({"a1"})
)
AGENT = Principal(4, "al", Role.AGENT, "acme", agent_id="a1")
UNLINKED_AGENT = Principal(5, "nobody", Role.AGENT, "acme", agent_id=None)
QA = Principal(6, "quinn", Role.QA, "acme")


def test_the_operator_may_do_everything_anywhere_and_across_tenants() -> None:
    for action in RULES:
        assert may(OPERATOR, action, Target("acme"))
        assert may(OPERATOR, action, Target(None))


@pytest.mark.parametrize("who", [ADMIN, SUPERVISOR, AGENT, QA])
def test_nobody_else_crosses_the_tenant_wall_or_works_across_tenants(who: Principal) -> None:
    for action in RULES:
        assert not may(who, action, Target("globex", queue="support", agent_id="a1"))
        assert not may(who, action, Target(None))


def test_a_tenant_admin_manages_their_tenant_but_not_the_operators_business() -> None:
    assert may(ADMIN, "users.create", Target("acme"))
    assert may(ADMIN, "agent.status", Target("acme", agent_id="anyone"))
    assert may(ADMIN, "statement.read", Target("acme"))
    assert not may(ADMIN, "tenants.list", Target("acme"))
    assert not may(ADMIN, "tenants.create", Target("acme"))
    assert not may(ADMIN, "callback.claim", Target("acme"))  # claiming is an agent's


def test_a_supervisor_acts_on_their_groups_queues_and_agents_only() -> None:
    assert may(SUPERVISOR, "queue.priority", Target("acme", queue="support"))
    assert not may(SUPERVISOR, "queue.priority", Target("acme", queue="sales"))
    assert may(SUPERVISOR, "agent.status", Target("acme", agent_id="a1"))
    assert not may(SUPERVISOR, "agent.status", Target("acme", agent_id="a2"))
    assert may(SUPERVISOR, "callback.done", Target("acme", queue="support", agent_id="a1"))
    assert not may(SUPERVISOR, "callback.done", Target("acme", queue="sales"))
    assert may(SUPERVISOR, "agents.list", Target("acme"))  # the service narrows the list
    assert not may(SUPERVISOR, "users.create", Target("acme"))
    assert not may(SUPERVISOR, "cdrs.read", Target("acme"))


def test_an_agent_acts_on_their_own_status_and_callbacks_only() -> None:
    assert may(AGENT, "agent.status", Target("acme", agent_id="a1"))
    assert not may(AGENT, "agent.status", Target("acme", agent_id="a2"))
    assert not may(AGENT, "agent.skills", Target("acme", agent_id="a1"))
    assert may(AGENT, "callback.claim", Target("acme", queue="sales"))  # pending: nobody's yet
    assert may(AGENT, "callback.done", Target("acme", agent_id="a1"))
    assert not may(AGENT, "callback.done", Target("acme", agent_id="a2"))
    assert not may(AGENT, "queue.read", Target("acme", queue="support"))
    assert not may(UNLINKED_AGENT, "agent.status", Target("acme", agent_id=None))


def test_qa_reads_calls_and_surveys_and_changes_nothing_but_its_evaluations() -> None:
    assert may(QA, "cdrs.read", Target("acme"))
    assert may(QA, "surveys.read", Target("acme"))
    assert may(QA, "qa_evaluations.write", Target("acme", queue="support"))
    writes = [a for a in RULES if a.split(".")[1] not in ("list", "read") and a != "qa_evaluations.write"]
    assert writes and not any(may(QA, a, Target("acme", queue="support", agent_id="a1")) for a in writes)


def test_an_agent_reads_their_own_evaluations_and_scores_none() -> None:
    agent = AGENT
    assert may(agent, "qa_evaluations.read", Target("acme", agent_id="a1"))
    assert not may(agent, "qa_evaluations.read", Target("acme", agent_id="a2"))
    assert not any(may(agent, a, Target("acme", agent_id="a1"))
                   for a in ("qa_evaluations.write", "qa_scorecards.read", "qa_reports.read"))  # fmt: skip


def test_an_unknown_action_is_an_error_not_a_no() -> None:
    with pytest.raises(KeyError, match=r"agent\.stauts"):
        may(ADMIN, "agent.stauts", Target("acme"))


def test_the_stored_operator_admin_role_is_the_operator() -> None:
    assert role_of("operator_admin") is Role.OPERATOR
    assert role_of("qa") is Role.QA


def test_a_wallboard_reads_its_tenants_queue_figures_and_may_do_nothing_else() -> None:
    wallboard = Principal(0, "wallboard Floor TV", Role.WALLBOARD, "acme")
    assert may(wallboard, "queues.figures", Target("acme"))
    assert not may(wallboard, "queues.figures", Target("globex"))
    # and its tenant's console settings, for the timezone the board's clock is shown in
    assert [a for a in RULES if may(wallboard, a, Target("acme", queue="support", agent_id="a1"))] == [
        "queues.figures", "console_settings.read"
    ]


def test_customers_are_read_by_all_who_take_calls_written_by_agents_deleted_by_admins() -> None:
    acme = Target("acme")
    for who in (ADMIN, SUPERVISOR, AGENT, QA):
        assert may(who, "customers.read", acme) and may(who, "customer_fields.read", acme)
    for who in (ADMIN, SUPERVISOR, AGENT):
        assert may(who, "customers.write", acme) and may(who, "customers.note", acme)
    assert not may(QA, "customers.write", acme) and not may(QA, "customers.note", acme)
    assert may(ADMIN, "customers.delete", acme) and may(ADMIN, "customer_fields.write", acme)
    for who in (SUPERVISOR, AGENT, QA):
        assert not may(who, "customers.delete", acme) and not may(who, "customer_fields.write", acme)
    # The account owner steers calls: an agent owns for themselves, a supervisor for their group.
    assert may(AGENT, "customer.owner", Target("acme", agent_id="a1"))
    assert not may(AGENT, "customer.owner", Target("acme", agent_id="a2"))
    assert may(SUPERVISOR, "customer.owner", Target("acme", agent_id="a1"))
    assert not may(SUPERVISOR, "customer.owner", Target("acme", agent_id="a2"))
    assert may(ADMIN, "customer.owner", Target("acme", agent_id="a2"))
    assert not may(QA, "customer.owner", Target("acme", agent_id="a1"))
