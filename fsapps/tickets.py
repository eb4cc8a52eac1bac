"""Tickets' pure rules: states and the moves between them, the SLA clock per priority,
which tickets are overdue at ``now``, and what a caller hears when they ask for a
ticket's state by phone. No I/O, no clock of its own.

As a Zendesk or Genesys agent knows them: a ticket is **new** until someone works on it,
**open** while the call center works on it, **pending** while it waits on the customer,
**solved** when the call center thinks it is done (the customer may reopen it) and
**closed** for good. The SLA clock runs from the ticket's creation to its due time, set by
the priority (the tenant's due times, else DEFAULT_DUE_MINUTES); a ticket not yet solved
or closed at its due time is **overdue**, and escalated once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

STATES = ("new", "open", "pending", "solved", "closed")
DONE = frozenset({"solved", "closed"})  # the SLA clock has stopped
PRIORITIES = ("low", "normal", "high", "urgent")
SOURCES = ("call", "voicemail", "callback", "web", "agent")
# Zendesk's and most help desks' first-resolution targets, in minutes: a tenant admin changes
# them per priority (PUT .../ticket-sla).
DEFAULT_DUE_MINUTES = {"urgent": 4 * 60, "high": 24 * 60, "normal": 3 * 24 * 60, "low": 7 * 24 * 60}
# state -> the states it may move to. Closed is final (a customer writes a new ticket);
# solved may be reopened.
MOVES: dict[str, frozenset[str]] = {
    "new": frozenset({"open", "pending", "solved", "closed"}),
    "open": frozenset({"pending", "solved", "closed"}),
    "pending": frozenset({"open", "solved", "closed"}),
    "solved": frozenset({"open", "closed"}),
    "closed": frozenset(),
}


def may_move(old: str, new: str) -> bool:
    return old == new or new in MOVES[old]


def due_minutes(tenant_minutes: Mapping[str, int], priority: str) -> int:
    """The tenant's due time for the priority, else the default."""
    return int(tenant_minutes.get(priority, DEFAULT_DUE_MINUTES[priority]))


def due_at(created_at: datetime, priority: str, tenant_minutes: Mapping[str, int]) -> datetime:
    """When the ticket is due: the clock runs from its creation (a priority changed later
    moves the due time as if it had been the priority from the start)."""
    return created_at + timedelta(minutes=due_minutes(tenant_minutes, priority))


def is_overdue(state: str, due: datetime, now: datetime) -> bool:
    return state not in DONE and now >= due


def to_escalate(tickets: Iterable[Mapping[str, Any]], now: datetime) -> list[Any]:
    """The ids of the tickets to escalate at ``now``: overdue, and not escalated before.
    Each ticket: id, state, due_at, escalated_at."""
    return [
        t["id"] for t in tickets if t["escalated_at"] is None and is_overdue(t["state"], t["due_at"], now)
    ]


def pick_assignee(candidates: Iterable[Mapping[str, Any]]) -> str | None:
    """The agent a ticket that needs a skill goes to, from the tenant's agents who hold it
    (each: agent, open (their running tickets), last_assigned (datetime or None: never)):
    the fewest open tickets, then the one longest without a new ticket (never first), then
    the id; None when nobody holds the skill. As Zendesk's and Genesys' round robin by load."""
    ranked = sorted(
        candidates,
        key=lambda c: (
            int(c["open"]),
            c["last_assigned"] is not None,
            c["last_assigned"].timestamp() if c["last_assigned"] is not None else 0.0,
            str(c["agent"]),
        ),
    )
    return str(ranked[0]["agent"]) if ranked else None


INTAKE_SUBJECTS = {
    "en": {
        "voicemail": "Voicemail from {number} ({seconds} s)",
        "callback": "Callback request from {number}",
    },
    "zh": {"voicemail": "{number} 的语音留言（{seconds} 秒）", "callback": "{number} 请求回电"},
}


def intake_subject(source: str, number: str, language: str, seconds: int = 0) -> str:
    """A voicemail's or a callback request's ticket subject, in the tenant's language."""
    words = INTAKE_SUBJECTS["zh" if language.startswith("zh") else "en"]
    return words[source].format(number=number or "?", seconds=seconds)


def number_digits(typed: str) -> int | None:
    """A ticket number as a caller keys it in or a person types it (digits, perhaps with
    spaces or a leading '#'); None when it is not one."""
    digits = typed.strip().lstrip("#").replace(" ", "").rstrip("#")
    if not digits.isdigit() or len(digits) > 12:
        return None
    return int(digits)


# What the phone says, per tenant language: the number digit by digit (as it is keyed in).
STATE_WORDS = {
    "en": {"new": "received", "open": "being worked on", "pending": "waiting for your reply",
           "solved": "solved", "closed": "closed"},
    "zh": {"new": "已受理", "open": "正在处理", "pending": "等待您的回复", "solved": "已解决",
           "closed": "已关闭"},
}  # fmt: skip


def spoken_status(number: int, state: str, language: str) -> str:
    """The sentence read back for a ticket's state, in the tenant's language."""
    if language == "zh":
        return f"您的工单{number}，{STATE_WORDS['zh'][state]}。"
    digits = " ".join(str(number))
    return f"Ticket {digits} is {STATE_WORDS['en'][state]}."


def spoken_not_found(typed: str, language: str) -> str:
    if language == "zh":
        return f"没有找到工单{typed}。" if typed else "没有收到工单号。"
    if not typed:
        return "No ticket number was entered."
    return f"There is no ticket {' '.join(typed)}."
