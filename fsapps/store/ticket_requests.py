"""Tickets opened without a person at the keyboard: the ones a skill assigns, and the ones
a voicemail or a callback request asks for (fsapps.store.records.TicketRequest, written
through the durable writer in the same transaction as the voicemail or callback row).

Both run inside a TenantScope: the tenant's wall keeps the agents chosen among and the
open tickets counted to its own. ``store.next_number`` locks the tenant's counter row
until the transaction ends, so two tickets opened at once are assigned one after the
other and see each other's load."""

from __future__ import annotations

import secrets
from typing import Any

from fsapps import tickets as rules
from fsapps.store import customers
from fsapps.store import tickets as store
from fsapps.store.db import TenantScope
from fsapps.store.records import TicketRequest

SYSTEM = "system"  # the actor of what a rule did (assignment by skill, a voicemail's ticket)


def assign_by_skill(t: TenantScope, k: dict[str, Any]) -> str | None:
    """The agent for a ticket that needs a skill and names no agent (after the number was
    taken: the counter's lock is held); None: no skill, an agent already, or nobody holds it."""
    if k.get("assignee_agent") is not None or not k.get("required_skill"):
        return None
    return rules.pick_assignee(store.skill_candidates(t, k["required_skill"]))


def open_ticket(t: TenantScope, k: dict[str, Any], actor: str) -> tuple[int, str]:
    """Opens the ticket ``k`` (subject, body, source, ..., with ``now``; the number and due
    time are given here), assigning it by skill when it names no agent; (its id, its status
    link's token)."""
    k = {"body": "", "customer_id": None, "call_uuid": None, "contact": "", "priority": "normal",
         "assignee_agent": None, "assignee_queue": None, "required_skill": None, **k}  # fmt: skip
    k["number"] = store.next_number(t)
    k["due_at"] = rules.due_at(k["now"], k["priority"], store.settings(t)["due_minutes"])
    by_skill = assign_by_skill(t, k)
    if by_skill is not None:
        k["assignee_agent"] = by_skill
    token = secrets.token_urlsafe(24)
    ticket_id = store.create(t, k, actor, token)
    if k["assignee_agent"] or k["assignee_queue"]:
        to: dict[str, Any] = {"agent": k["assignee_agent"], "queue": k["assignee_queue"]}
        if by_skill is not None:
            to["skill"] = k["required_skill"]
        store.add_event(t, ticket_id, SYSTEM if by_skill else actor, "assignee", to, at=k["now"])
    return ticket_id, token


def open_requested(t: TenantScope, requests: list[TicketRequest]) -> int:
    """The tickets the voicemails and callback requests asked for, once each (a replayed
    request whose ticket is there already opens none); how many were opened."""
    opened = 0
    for r in requests:
        if store.by_origin(t, r.event_id) is not None:
            continue
        customer = _customer_of(t, r.number)
        k = {"subject": r.subject, "body": r.body, "source": r.source, "call_uuid": r.call_uuid,
             "contact": r.number, "priority": r.priority, "assignee_queue": r.queue,
             "required_skill": r.skill, "customer_id": customer, "origin_event": r.event_id,
             "voicemail": r.voicemail, "now": r.requested_at}  # fmt: skip
        open_ticket(t, k, SYSTEM)
        opened += 1
    return opened


def _customer_of(t: TenantScope, number: str) -> int | None:
    row = customers.by_number(t, number) if number else None
    return int(row["id"]) if row else None
