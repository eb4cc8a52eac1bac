"""Which live ACD events a person's event stream shows: pure, no I/O.

The rules are the API's (fsapps.web.policy), applied to each event:

* the **operator** sees everything, in a tenant's stream that tenant's, across
  tenants (``tenant`` None) all;
* a **tenant admin** everything of their tenant;
* a **supervisor** their groups' agents' states, and their groups' queues' offers,
  callers, legs and figures;
* an **agent** their own state, the offers made to them (with the caller's screen-pop
  variables), their own legs and callers, the calls handed to them (a transfer or consult:
  the caller's card goes with it), and the figures of the queues they serve;
* an escalated ticket: every **supervisor** of the tenant and its assigned **agent**;
* **qa** nothing live (it reviews what happened: recordings, CDRs, surveys); the
  route refuses them.

An agent's state names no tenant: an agent belongs to the tenants it serves
(``agent_tenants``). A shared agent's state is the person's, so each tenant it serves
sees it, but the caller it is about may be another tenant's: in a tenant's stream the
``member`` of a shared agent's state is left out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from fsapps.acd.notifier import (
    AcdEvent,
    AgentDirectCall,
    AgentStateChanged,
    CallHandedOver,
    LegChanged,
    MemberChanged,
    OfferMade,
    TicketEscalated,
)
from fsapps.web.policy import Principal, Role

# Events about one agent: an agent sees theirs.
AGENTS_OWN = (AgentStateChanged, OfferMade, LegChanged, MemberChanged, CallHandedOver, AgentDirectCall)
TenantsOf = Callable[[str], frozenset[str]]  # agent -> the tenants it serves


@dataclass(frozen=True)
class Viewer:
    principal: Principal
    tenant: str | None  # the stream's tenant; None: the operator's, across tenants
    served: frozenset[str] = frozenset()  # an agent's queues (the tiers naming them)


def sees(v: Viewer, event: AcdEvent, tenants_of: TenantsOf) -> bool:
    p = v.principal
    if v.tenant is None:
        return p.role is Role.OPERATOR
    if isinstance(event, AgentStateChanged | AgentDirectCall):
        if v.tenant not in tenants_of(event.agent):
            return False
    elif event.tenant != v.tenant:
        return False
    if p.role in (Role.OPERATOR, Role.TENANT_ADMIN):
        return True
    if isinstance(event, TicketEscalated):
        # Supervisors work every ticket of the tenant (tickets.read), an agent their own.
        return p.role is Role.SUPERVISOR or (p.role is Role.AGENT and event.agent == (p.agent_id or ""))
    if p.role is Role.SUPERVISOR:
        if isinstance(event, AgentStateChanged | AgentDirectCall):
            return event.agent in p.agents
        return event.queue in p.queues
    if p.role is Role.AGENT and p.agent_id is not None:
        if isinstance(event, AGENTS_OWN):
            return event.agent == p.agent_id
        return event.queue in v.served  # QueueFigures
    return False


def shown(v: Viewer, event: AcdEvent, tenants_of: TenantsOf) -> AcdEvent:
    """The event as the stream shows it (``sees`` said it may)."""
    if (
        isinstance(event, AgentStateChanged)
        and v.tenant is not None
        and event.member
        and len(tenants_of(event.agent)) > 1
    ):
        return dataclasses.replace(event, member="")
    if isinstance(event, AgentDirectCall) and v.tenant is not None and len(tenants_of(event.agent)) > 1:
        return dataclasses.replace(event, number="")  # whose caller it is, the event does not say
    return event
