"""Who may do what: one pure function, ``may(principal, action, target)``.

Every request of the HTTP API asks it before touching anything, and so can
any other front end (the CLI). The rules, from DESIGN.md's principle 5:

* an **operator** does everything, in any tenant or across all of them;
* a **tenant admin** manages their own tenant only;
* a **supervisor** acts on the queues and agents of their own groups;
* an **agent** acts on their own status and their own calls and callbacks (and reads
  the outage notices callers hear and the callbacks waiting to be claimed);
* **qa** reads what quality assurance reviews (calls, survey answers, customer cards) and
  writes only evaluations of recorded calls (the agent reads their own);
* customers (the CRM) are read by every role but the wallboard, created, edited and noted
  by admins, supervisors and agents, deleted by admins; an account owner is set within
  the scope of ``customer.owner``;
* tickets are worked by agents (theirs and their queues'), supervisors and admins (all
  of the tenant's), and read by qa;
* a **wallboard** (a TV on the floor, with a token a tenant admin issued, no user) reads
  its tenant's queue figures and the console settings (its timezone) and nothing else.

A target names the tenant acted in (None: across all tenants) and, where it
matters, the queue and the agent the action is about. No I/O, no clock:
whoever calls it has already read the principal's groups and the target's
owner from the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    OPERATOR = "operator"
    TENANT_ADMIN = "tenant_admin"
    SUPERVISOR = "supervisor"
    AGENT = "agent"
    QA = "qa"
    WALLBOARD = "wallboard"  # a wallboard token's: no user, no role a users row can have


def role_of(stored: str) -> Role:
    """The role a users row's ``role`` column gives (the operator's is stored as operator_admin)."""
    return Role.OPERATOR if stored == "operator_admin" else Role(stored)


@dataclass(frozen=True)
class Principal:
    """Who is asking: a user, with what their role scopes them to."""

    user_id: int
    username: str
    role: Role
    tenant_id: str | None  # None: the operator's, across tenants
    agent_id: str | None = None  # an agent's own agent (agents.user_id)
    queues: frozenset[str] = frozenset()  # a supervisor's groups' queues
    agents: frozenset[str] = frozenset()  # ... and agents


@dataclass(frozen=True)
class Target:
    """What an action is about. ``queue``/``agent_id`` None: no particular one (a list,
    an unclaimed callback), which the service then narrows to what the principal may see."""

    tenant_id: str | None  # None: across all tenants
    queue: str | None = None
    agent_id: str | None = None


class Scope(StrEnum):
    TENANT = "tenant"  # anything in their tenant
    GROUP = "group"  # their groups' queues and agents
    SELF = "self"  # their own agent


_T, _G, _S = Scope.TENANT, Scope.GROUP, Scope.SELF
A, SUP, AG, QA = Role.TENANT_ADMIN, Role.SUPERVISOR, Role.AGENT, Role.QA
WB = Role.WALLBOARD

# action -> the roles that may take it, each within its scope. The operator may take all,
# so appears nowhere; an action missing here is the operator's alone.
RULES: dict[str, dict[Role, Scope]] = {
    "tenants.list": {},
    "tenants.create": {},
    "tenant.read": {A: _T},
    "users.list": {A: _T},
    "users.create": {A: _T},
    "users.token": {A: _T},
    "agents.list": {A: _T, SUP: _G},
    "agent.read": {A: _T, SUP: _G, AG: _S},
    "agent.status": {A: _T, SUP: _G, AG: _S},
    "agent.skills": {A: _T, SUP: _G},
    "agent.phone": {A: _T},  # a SIP user in the tenant's directory, with a generated password
    "agents.write": {A: _T},  # create, change, take off the tenant (a shared agent: unlinked only)
    "groups.list": {A: _T},
    "groups.write": {A: _T},
    "queues.list": {A: _T, SUP: _G},
    "queue.read": {A: _T, SUP: _G},
    "queue.priority": {A: _T, SUP: _G},
    "queues.figures": {A: _T, SUP: _G, WB: _T},  # the floor's and the wallboard's: counts, no callers
    "wallboards.manage": {A: _T},  # issue, list and revoke wallboard tokens
    "queue.tiers": {A: _T, SUP: _G},  # rewrites tenant.yaml's tiers (a supervisor: their groups' agents)
    "blacklist.read": {A: _T, SUP: _T},
    "blacklist.write": {A: _T},
    "outages.read": {A: _T, SUP: _T, AG: _T},
    "outages.write": {A: _T, SUP: _T},
    "callbacks.list": {A: _T, SUP: _G, AG: _S},
    "callback.claim": {AG: _S},
    "callback.done": {A: _T, SUP: _G, AG: _S},
    "calls.list": {A: _T, SUP: _G, AG: _S},
    "call.control": {A: _T, SUP: _G, AG: _S},  # answer-side: transfer, consult, pickup, hangup...
    "call.monitor": {A: _T, SUP: _G},  # listen, whisper, barge
    "call.dial_out": {A: _T, SUP: _G, AG: _S},  # from the agent's phone, with the tenant's caller ID
    "call.move": {A: _T, SUP: _G},  # a waiting caller to another queue (a supervisor: both theirs)
    "flows.read": {A: _T},
    "flows.write": {A: _T},  # upload: checked, rendered, installed, reloaded
    "recordings.read": {A: _T, SUP: _G, QA: _T},
    "surveys.read": {A: _T, SUP: _G, QA: _T},
    "cdrs.read": {A: _T, QA: _T, AG: _S},
    "usage.read": {A: _T},
    "statement.read": {A: _T},
    "statements.all": {},
    # The CRM, as a Zendesk or Amazon Connect agent expects it: everyone who takes or reviews
    # calls reads every customer card of the tenant (the screen pop comes before anyone knows
    # whose customer it is); admins, supervisors and agents create and edit customers and add
    # notes; deleting one (their history's key) is the tenant admin's. Who owns a customer
    # steers calls (the owner is rung first): an agent may take on or give up only their own
    # customers, a supervisor assign their groups' agents (checked on the old owner and the new).
    "customers.read": {A: _T, SUP: _T, AG: _T, QA: _T},
    "customers.write": {A: _T, SUP: _T, AG: _T},
    "customers.note": {A: _T, SUP: _T, AG: _T},
    "customers.delete": {A: _T},
    "customer.owner": {A: _T, SUP: _G, AG: _S},
    "customer_fields.read": {A: _T, SUP: _T, AG: _T, QA: _T},  # the card's and the form's labels
    # The recorded calls on a customer's card, played from it: whoever reads the card hears
    # the calls it lists (only those: the card's customer's numbers'), as the desk's agent.
    "customer_recordings.read": {A: _T, SUP: _T, AG: _T, QA: _T},
    "webhook.manage": {A: _T},  # the tenant's CRM webhook: its URL and signing secret
    "customer_fields.write": {A: _T},
    # Quality assurance (S2.6): the tenant admin defines the scorecards; QA, the tenant admin
    # and a supervisor (their groups' queues, as they hear the recordings) score calls and read
    # the scores and their averages; an agent reads their own evaluations only.
    "qa_scorecards.read": {A: _T, SUP: _T, QA: _T},
    "qa_scorecards.write": {A: _T},
    "qa_evaluations.write": {A: _T, SUP: _G, QA: _T},
    "qa_evaluations.read": {A: _T, SUP: _G, QA: _T, AG: _S},
    "qa_reports.read": {A: _T, SUP: _G, QA: _T},
    # The knowledge base and call scripts: everyone who takes or reviews calls reads them;
    # admins and supervisors write them (a script is the whole floor's, not a group's).
    "kb.read": {A: _T, SUP: _T, AG: _T, QA: _T},
    "kb.write": {A: _T, SUP: _T},
    # Wrap-up: the tenant admin defines the disposition codes and whether one is required
    # before going ready; an agent writes theirs on the calls they handled, a supervisor on
    # their groups' agents'; a call's record (visits, legs, wrap-ups) is read as CDRs are.
    "wrapup_codes.read": {A: _T, SUP: _T, AG: _T, QA: _T},
    "wrapup_codes.write": {A: _T},
    "wrapup.write": {A: _T, SUP: _G, AG: _S},
    "wrapup.read": {A: _T, SUP: _G, AG: _S, QA: _T},
    "call.read": {A: _T, SUP: _G, AG: _S, QA: _T},
    # Tickets, as Zendesk's and Genesys Cloud's agents work them: an agent sees, opens and
    # works the tickets assigned to them or to their queues (the service narrows SELF to
    # that); supervisors and admins all of the tenant's. QA reads them all (a ticket is part
    # of the interaction it reviews) and changes none. The SLA due times and the public web
    # form are the tenant admin's to set.
    "tickets.read": {A: _T, SUP: _T, AG: _S, QA: _T},
    "tickets.write": {A: _T, SUP: _T, AG: _S},
    # A voicemail is heard by whoever reads the ticket it opened (an agent: their tickets').
    "voicemails.read": {A: _T, SUP: _T, AG: _S, QA: _T},
    "ticket_settings.read": {A: _T, SUP: _T, AG: _T, QA: _T},
    "ticket_settings.write": {A: _T},
    # What every page of the tenant reads first (its timezone, the floor's stuck-agent limits);
    # the tenant admin changes the limits.
    "console_settings.read": {A: _T, SUP: _T, AG: _T, QA: _T, WB: _T},
    "console_settings.write": {A: _T},
    "events.read": {A: _T, SUP: _G, AG: _S},  # the live event stream, filtered to what each may see
    "events.all": {},  # the operator's, across tenants
}


def may(principal: Principal, action: str, target: Target) -> bool:
    if action not in RULES:
        raise KeyError(f"unknown action {action!r}")  # a typo must not read as "no"
    if principal.role is Role.OPERATOR:
        return True
    if target.tenant_id is None or target.tenant_id != principal.tenant_id:
        return False
    scope = RULES[action].get(principal.role)
    if scope is None:
        return False
    if scope is Scope.TENANT:
        return True
    if scope is Scope.GROUP:
        if target.queue is not None and target.queue not in principal.queues:
            return False
        return target.agent_id is None or target.agent_id in principal.agents
    # Scope.SELF
    return principal.agent_id is not None and target.agent_id in (None, principal.agent_id)
