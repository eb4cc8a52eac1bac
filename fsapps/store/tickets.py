"""Tickets' SQL: the tenant's settings, numbering, tickets, their history, and the sweep
that escalates overdue ones. Every function but ``escalate_overdue`` takes a
``TenantScope`` (row-level security keeps it to the tenant's rows); the sweep runs on the
operator's connection across tenants, from the ACD's housekeeping."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from fsapps.store.db import TenantScope

TICKET = (
    "t.id, t.number, t.subject, t.body, t.customer_id, t.source, t.call_uuid, t.contact, t.priority,"
    " t.state, t.assignee_agent, t.assignee_queue, t.due_at, t.escalated_at, t.created_by,"
    " t.created_at, t.updated_at, c.name AS customer_name, t.required_skill, t.assigned_at, t.voicemail"
)
FROM = "tickets t LEFT JOIN customers c ON c.id = t.customer_id"


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def settings(t: TenantScope) -> dict[str, Any]:
    row = t._one("SELECT due_minutes, web_form, web_queue FROM ticket_settings")
    return row or {"due_minutes": {}, "web_form": False, "web_queue": None}


def put_settings(t: TenantScope, s: dict[str, Any]) -> None:
    t.conn.execute(
        "INSERT INTO ticket_settings (tenant_id, due_minutes, web_form, web_queue) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (tenant_id) DO UPDATE SET due_minutes = EXCLUDED.due_minutes,"
        " web_form = EXCLUDED.web_form, web_queue = EXCLUDED.web_queue",
        (t.tenant_id, Jsonb(s["due_minutes"]), s["web_form"], s["web_queue"]),
    )


def next_number(t: TenantScope) -> int:
    """The tenant's next ticket number (the counter row is locked until the transaction
    ends: two tickets created at once get two numbers)."""
    row = t._one(
        "INSERT INTO ticket_counters (tenant_id, last_number) VALUES (%s, 1001)"
        " ON CONFLICT (tenant_id) DO UPDATE SET last_number = ticket_counters.last_number + 1"
        " RETURNING last_number",
        (t.tenant_id,),
    )
    assert row is not None
    return int(row["last_number"])


def create(t: TenantScope, k: dict[str, Any], actor: str, token: str) -> int:
    row = t.conn.execute(
        "INSERT INTO tickets (tenant_id, number, subject, body, customer_id, source, call_uuid, contact,"
        " priority, state, assignee_agent, assignee_queue, due_at, status_digest, created_by, created_at,"
        " updated_at, required_skill, assigned_at, origin_event, voicemail)"
        " VALUES (%(tenant)s, %(number)s, %(subject)s, %(body)s, %(customer_id)s, %(source)s, %(call)s,"
        " %(contact)s, %(priority)s, 'new', %(assignee_agent)s, %(assignee_queue)s, %(due_at)s,"
        " %(digest)s, %(actor)s, %(now)s, %(now)s, %(skill)s,"
        " CASE WHEN %(assignee_agent)s::text IS NOT NULL THEN %(now)s::timestamptz END, %(origin)s,"
        " %(voicemail)s) RETURNING id",
        {
            **k,
            "tenant": t.tenant_id,
            "digest": digest(token),
            "actor": actor,
            "call": k.get("call_uuid"),
            "skill": k.get("required_skill"),
            "origin": k.get("origin_event"),
            "voicemail": k.get("voicemail"),
        },
    ).fetchone()
    assert row is not None
    ticket_id = int(row["id"])  # type: ignore[call-overload]
    add_event(t, ticket_id, actor, "created", {"source": k["source"], "priority": k["priority"]},
              at=k["now"])  # fmt: skip
    return ticket_id


def update(t: TenantScope, ticket_id: int, k: dict[str, Any], now: datetime) -> None:
    """Writes the whole ticket (the service merged the patch into it)."""
    t.conn.execute(
        "UPDATE tickets SET subject = %(subject)s, state = %(state)s, priority = %(priority)s,"
        " assignee_agent = %(assignee_agent)s, assignee_queue = %(assignee_queue)s, due_at = %(due_at)s,"
        " customer_id = %(customer_id)s, required_skill = %(required_skill)s, updated_at = %(now)s,"
        " assigned_at = CASE WHEN assignee_agent IS DISTINCT FROM %(assignee_agent)s"
        "   AND %(assignee_agent)s::text IS NOT NULL THEN %(now)s ELSE assigned_at END"
        " WHERE id = %(id)s",
        {**k, "id": ticket_id, "now": now},
    )


def add_event(t: TenantScope, ticket_id: int, actor: str, kind: str, detail: dict[str, Any],
              internal: bool = False, at: datetime | None = None) -> int:  # fmt: skip
    row = t._one(
        "INSERT INTO ticket_events (tenant_id, ticket_id, actor, kind, detail, internal, at)"
        " VALUES (%s, %s, %s, %s, %s, %s, coalesce(%s, now())) RETURNING id",
        (t.tenant_id, ticket_id, actor, kind, Jsonb(detail), internal, at),
    )
    assert row is not None
    return int(row["id"])


def by_number(t: TenantScope, number: int, lock: bool = False) -> dict[str, Any] | None:
    return t._one(
        f"SELECT {TICKET} FROM {FROM} WHERE t.number = %s" + (" FOR UPDATE OF t" if lock else ""),
        (number,),
    )


def skill_candidates(t: TenantScope, skill: str) -> list[dict[str, Any]]:
    """The tenant's agents who hold ``skill`` (proficiency 1 or more, as the ACD's agent rows
    keep it: agent_state.skills), each with their running tickets here and when they were
    last given one here (fsapps.tickets.pick_assignee chooses). The tenant's wall keeps both
    counts to its own tickets."""
    return t._all(
        "SELECT a.id AS agent,"
        " (SELECT count(*) FROM tickets k WHERE k.assignee_agent = a.id"
        "   AND k.state NOT IN ('solved', 'closed')) AS open,"
        " (SELECT max(k.assigned_at) FROM tickets k WHERE k.assignee_agent = a.id) AS last_assigned"
        " FROM agents a JOIN agent_tenants m ON m.agent_id = a.id JOIN agent_state s ON s.agent_id = a.id"
        " WHERE m.tenant_id = %s AND jsonb_typeof(s.skills -> %s) = 'number'"
        " AND (s.skills ->> %s)::numeric >= 1"
        " ORDER BY a.id",
        (t.tenant_id, skill, skill),
    )


def by_origin(t: TenantScope, origin_event: str) -> dict[str, Any] | None:
    return t._one(f"SELECT {TICKET} FROM {FROM} WHERE t.origin_event = %s", (origin_event,))


def by_token(t: TenantScope, token: str) -> dict[str, Any] | None:
    return t._one(f"SELECT {TICKET} FROM {FROM} WHERE t.status_digest = %s", (digest(token),))


def search(t: TenantScope, *, state: str | None, assignee_agent: str | None, assignee_queue: str | None,
           customer_id: int | None, overdue_at: datetime | None,
           visible_to: tuple[str, list[str]] | None, limit: int,
           offset: int) -> list[dict[str, Any]]:  # fmt: skip
    """Tickets by state, assignee, customer and overdue (at ``overdue_at``), newest first;
    ``visible_to`` (agent, their queues) keeps an agent's list to theirs."""
    rows: list[dict[str, Any]] = t.conn.execute(  # type: ignore[assignment]
        f"SELECT {TICKET} FROM {FROM}"
        " WHERE (%(state)s::text IS NULL OR t.state = %(state)s)"
        " AND (%(agent)s::text IS NULL OR t.assignee_agent = %(agent)s)"
        " AND (%(queue)s::text IS NULL OR t.assignee_queue = %(queue)s)"
        " AND (%(customer)s::bigint IS NULL OR t.customer_id = %(customer)s)"
        " AND (%(overdue)s::timestamptz IS NULL OR (t.due_at <= %(overdue)s"
        "      AND t.state NOT IN ('solved', 'closed')))"
        " AND (%(me)s::text IS NULL OR t.assignee_agent = %(me)s OR t.assignee_queue = ANY(%(mine)s))"
        " ORDER BY t.created_at DESC, t.id DESC LIMIT %(limit)s OFFSET %(offset)s",
        {"state": state, "agent": assignee_agent, "queue": assignee_queue, "customer": customer_id,
         "overdue": overdue_at, "me": visible_to[0] if visible_to else None,
         "mine": visible_to[1] if visible_to else [], "limit": limit, "offset": offset},
    ).fetchall()  # fmt: skip
    return rows


def history(t: TenantScope, ticket_id: int, public_only: bool = False) -> list[dict[str, Any]]:
    return t._all(
        "SELECT at, actor, kind, detail, internal FROM ticket_events WHERE ticket_id = %s"
        + (" AND NOT internal" if public_only else "")
        + " ORDER BY at, id",
        (ticket_id,),
    )


def delete(t: TenantScope, number: int) -> bool:
    return t.conn.execute("DELETE FROM tickets WHERE number = %s", (number,)).rowcount == 1


# --- escalation (the operator's, across tenants) ---------------------------------------------


def escalate_overdue(conn: psycopg.Connection[Any], now: datetime,
                     decide: Callable[[list[dict[str, Any]], datetime], list[Any]],
                     batch: int = 500) -> list[dict[str, Any]]:  # fmt: skip
    """Marks the tickets ``decide`` (fsapps.tickets.to_escalate) picks from the running ones
    due by ``now`` as escalated, once each, with a history row; returns them (tenant_id,
    number, subject, priority, assignee_agent, assignee_queue, due_at). Rows another sweep
    holds are skipped, not waited for."""
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "SELECT id, tenant_id, number, state, due_at, escalated_at, subject, priority, assignee_agent,"
            " assignee_queue FROM tickets"
            " WHERE escalated_at IS NULL AND state NOT IN ('solved', 'closed') AND due_at <= %s"
            " ORDER BY due_at LIMIT %s FOR UPDATE SKIP LOCKED",
            (now, batch),
        )
        rows = cur.fetchall()
        ids = set(decide(rows, now))
        picked = [r for r in rows if r["id"] in ids]
        if picked:
            cur.execute(
                "UPDATE tickets SET escalated_at = %s WHERE id = ANY(%s)", (now, [r["id"] for r in picked])
            )
            cur.executemany(
                "INSERT INTO ticket_events (tenant_id, ticket_id, at, actor, kind, detail)"
                " VALUES (%s, %s, %s, 'system', 'escalated', %s)",
                [(r["tenant_id"], r["id"], now, Jsonb({"due_at": r["due_at"].isoformat()})) for r in picked],
            )
    keep = ("tenant_id", "number", "subject", "priority", "assignee_agent", "assignee_queue", "due_at")
    return [{k: r[k] for k in keep} for r in picked]
