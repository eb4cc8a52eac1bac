"""The CRM's SQL: customers, their numbers, notes and custom-field definitions, and a
customer's timeline. Every function takes a ``TenantScope``: row-level security keeps it
to the tenant's rows whatever the query says."""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb

from fsapps.store.db import TenantScope

CUSTOMER = (
    "c.id, c.name, c.company, c.tags, c.fields AS custom_fields, c.owner_agent, c.created_at, c.updated_at,"
    " coalesce((SELECT array_agg(n.number ORDER BY n.position, n.number) FROM customer_numbers n"
    "   WHERE n.customer_id = c.id), '{}') AS numbers"
)


def field_definitions(t: TenantScope) -> list[dict[str, Any]]:
    return t._all("SELECT name, type, label FROM customer_fields ORDER BY name")


def put_field(t: TenantScope, name: str, kind: str, label: str) -> None:
    t.conn.execute(
        "INSERT INTO customer_fields (tenant_id, name, type, label) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (tenant_id, name) DO UPDATE SET type = EXCLUDED.type, label = EXCLUDED.label",
        (t.tenant_id, name, kind, label),
    )


def remove_field(t: TenantScope, name: str) -> bool:
    """The definition goes, and the field with it from every customer (no value the
    tenant can no longer see or edit is left behind)."""
    cur = t.conn.execute("DELETE FROM customer_fields WHERE name = %s", (name,))
    if cur.rowcount:
        t.conn.execute("UPDATE customers SET fields = fields - %s WHERE fields ? %s", (name, name))
    return cur.rowcount == 1


def search(t: TenantScope, *, number: str | None, name: str | None, tag: str | None, limit: int,
           offset: int) -> list[dict[str, Any]]:  # fmt: skip
    """Customers by a number of theirs (exact), a part of the name or company (any case)
    and a tag, by name."""
    rows: list[dict[str, Any]] = t.conn.execute(  # type: ignore[assignment]
        f"SELECT {CUSTOMER} FROM customers c"
        " WHERE (%(number)s::text IS NULL OR c.id IN"
        "   (SELECT customer_id FROM customer_numbers WHERE number = %(number)s))"
        " AND (%(name)s::text IS NULL OR strpos(lower(c.name), lower(%(name)s)) > 0"
        "   OR strpos(lower(c.company), lower(%(name)s)) > 0)"
        " AND (%(tag)s::text IS NULL OR c.tags @> ARRAY[%(tag)s::text])"
        " ORDER BY lower(c.name), c.id LIMIT %(limit)s OFFSET %(offset)s",
        {"number": number, "name": name, "tag": tag, "limit": limit, "offset": offset},
    ).fetchall()
    return rows


def customer(t: TenantScope, customer_id: int, lock: bool = False) -> dict[str, Any] | None:
    return t._one(
        f"SELECT {CUSTOMER} FROM customers c WHERE c.id = %s" + (" FOR UPDATE" if lock else ""),
        (customer_id,),
    )


def by_number(t: TenantScope, number: str) -> dict[str, Any] | None:
    return t._one(
        f"SELECT {CUSTOMER} FROM customer_numbers n JOIN customers c ON c.id = n.customer_id"
        " WHERE n.number = %s",
        (number,),
    )


def numbers_taken(t: TenantScope, numbers: list[str], but: int | None) -> list[dict[str, Any]]:
    """Which of ``numbers`` another customer (not ``but``) has: number, customer_id."""
    return t._all(
        "SELECT number, customer_id FROM customer_numbers WHERE number = ANY(%s::text[])"
        " AND customer_id IS DISTINCT FROM %s ORDER BY number",
        (numbers, but),
    )


def create(t: TenantScope, c: dict[str, Any]) -> int:
    row = t._one(
        "INSERT INTO customers (tenant_id, name, company, tags, fields, owner_agent)"
        " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
        (t.tenant_id, c["name"], c["company"], c["tags"], Jsonb(c["custom_fields"]), c["owner_agent"]),
    )
    assert row is not None
    _set_numbers(t, int(row["id"]), c["numbers"])
    return int(row["id"])


def update(t: TenantScope, customer_id: int, c: dict[str, Any]) -> None:
    """Writes the whole customer (the service has merged the patch into it)."""
    t.conn.execute(
        "UPDATE customers SET name = %s, company = %s, tags = %s, fields = %s, owner_agent = %s,"
        " updated_at = now() WHERE id = %s",
        (c["name"], c["company"], c["tags"], Jsonb(c["custom_fields"]), c["owner_agent"], customer_id),
    )
    _set_numbers(t, customer_id, c["numbers"])


def _set_numbers(t: TenantScope, customer_id: int, numbers: list[str]) -> None:
    t.conn.execute("DELETE FROM customer_numbers WHERE customer_id = %s", (customer_id,))
    with t.conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO customer_numbers (tenant_id, number, customer_id, position) VALUES (%s, %s, %s, %s)",
            [(t.tenant_id, n, customer_id, i) for i, n in enumerate(numbers)],
        )


def delete(t: TenantScope, customer_id: int) -> bool:
    return t.conn.execute("DELETE FROM customers WHERE id = %s", (customer_id,)).rowcount == 1


def add_note(t: TenantScope, customer_id: int, author: str, body: str, call_uuid: str | None) -> int:
    row = t._one(
        "INSERT INTO customer_notes (tenant_id, customer_id, author, body, call_uuid)"
        " VALUES (%s, %s, %s, %s, %s) RETURNING id",
        (t.tenant_id, customer_id, author, body, call_uuid),
    )
    assert row is not None
    return int(row["id"])


# A customer's timeline: one row per thing that happened, newest first. Calls are the
# queue visits of their numbers (with the recording's id, which GET .../recordings/{id}
# plays) and the calls of the CDRs from or to their numbers that no queue visit has; the
# wrap-ups (disposition and notes) agents wrote on those calls; their tickets are there as
# opened (with the number and the state now).
TIMELINE = """
WITH nums AS (SELECT number FROM customer_numbers WHERE customer_id = %(id)s),
their_calls AS (
  SELECT 'call' AS kind, q.ended_at AS at, q.call_uuid, q.queue, q.agent_id,
         CASE WHEN q.recording IS NOT NULL THEN q.event_id END AS recording,
         jsonb_build_object('direction', 'inbound', 'number', q.caller, 'outcome', q.outcome,
           'joined_at', q.joined_at, 'wait_seconds', q.wait_seconds, 'talk_seconds', q.talk_seconds)
           AS detail
    FROM queue_calls q WHERE q.caller IN (SELECT number FROM nums)
  UNION ALL
  SELECT 'call', c.ended_at, c.call_uuid, c.queue, c.agent_id, NULL,
         jsonb_build_object('direction', c.direction,
           'number', CASE WHEN c.caller IN (SELECT number FROM nums) THEN c.caller ELSE c.destination END,
           'outcome', CASE WHEN c.answered_at IS NULL THEN 'unanswered' ELSE 'answered' END,
           'started_at', c.started_at, 'billsec', c.billsec, 'hangup_cause', c.hangup_cause)
    FROM calls c
   WHERE (c.caller IN (SELECT number FROM nums) OR c.destination IN (SELECT number FROM nums))
     AND NOT EXISTS (SELECT 1 FROM queue_calls q WHERE q.call_uuid = c.call_uuid)
)
SELECT * FROM their_calls
UNION ALL
SELECT 'callback', coalesce(b.claimed_at, b.requested_at), b.call_uuid, b.queue, b.claimed_by, NULL,
       jsonb_build_object('number', b.number, 'status', b.status, 'requested_at', b.requested_at)
  FROM callback_requests b WHERE b.number IN (SELECT number FROM nums)
UNION ALL
SELECT 'survey', s.answered_at, s.call_uuid, s.queue, s.agent_id, NULL,
       jsonb_build_object('question', s.question, 'score', s.score)
  FROM survey_answers s WHERE s.call_uuid IN (SELECT call_uuid FROM their_calls WHERE call_uuid IS NOT NULL)
UNION ALL
SELECT 'wrap_up', w.written_at, w.call_uuid, w.queue, w.agent_id, NULL,
       jsonb_build_object('disposition', w.disposition, 'label', w.label, 'notes', w.notes,
         'author', w.written_by)
  FROM call_wrap_ups w WHERE w.call_uuid IN (SELECT call_uuid FROM their_calls WHERE call_uuid IS NOT NULL)
UNION ALL
SELECT 'note', n.created_at, n.call_uuid, NULL, NULL, NULL,
       jsonb_build_object('id', n.id, 'author', n.author, 'body', n.body)
  FROM customer_notes n WHERE n.customer_id = %(id)s
UNION ALL
SELECT 'ticket', k.created_at, k.call_uuid, k.assignee_queue, k.assignee_agent, NULL,
       jsonb_build_object('number', k.number, 'subject', k.subject, 'state', k.state,
         'priority', k.priority, 'source', k.source)
  FROM tickets k WHERE k.customer_id = %(id)s
UNION ALL
SELECT 'voicemail', v.left_at, v.call_uuid, NULL, NULL, NULL,
       jsonb_build_object('id', v.event_id, 'box', v.box, 'number', v.caller_number,
         'name', v.caller_name, 'seconds', v.seconds)
  FROM voicemails v WHERE v.caller_number IN (SELECT number FROM nums)
ORDER BY at DESC, kind LIMIT %(limit)s OFFSET %(offset)s
"""


def timeline(t: TenantScope, customer_id: int, limit: int, offset: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = t.conn.execute(  # type: ignore[assignment]
        TIMELINE, {"id": customer_id, "limit": limit, "offset": offset}
    ).fetchall()
    return rows
