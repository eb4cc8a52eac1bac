"""The wrap-up's SQL: a tenant's disposition codes and setting, the disposition and notes
an agent writes on a call they handled, and the call's record as the API shows it. Every
function takes a ``TenantScope`` (row-level security)."""

from __future__ import annotations

from typing import Any

from fsapps.store.db import TenantScope

WRAP_UP = "w.call_uuid, w.agent_id, w.queue, w.disposition, w.label, w.notes, w.written_by, w.written_at"


# --- codes and the setting -------------------------------------------------------------------


def codes(t: TenantScope) -> list[dict[str, Any]]:
    return t._all("SELECT code, label, queues, position FROM wrap_up_codes ORDER BY position, code")


def put_code(t: TenantScope, code: str, label: str, queues: list[str], position: int) -> None:
    t.conn.execute(
        "INSERT INTO wrap_up_codes (tenant_id, code, label, queues, position) VALUES (%s, %s, %s, %s, %s)"
        " ON CONFLICT (tenant_id, code) DO UPDATE SET label = EXCLUDED.label, queues = EXCLUDED.queues,"
        " position = EXCLUDED.position",
        (t.tenant_id, code, label, queues, position),
    )


def remove_code(t: TenantScope, code: str) -> bool:
    return t.conn.execute("DELETE FROM wrap_up_codes WHERE code = %s", (code,)).rowcount == 1


def required(t: TenantScope) -> bool:
    row = t._one("SELECT required FROM wrap_up_settings")
    return bool(row and row["required"])


def set_required(t: TenantScope, value: bool) -> None:
    t.conn.execute(
        "INSERT INTO wrap_up_settings (tenant_id, required) VALUES (%s, %s)"
        " ON CONFLICT (tenant_id) DO UPDATE SET required = EXCLUDED.required",
        (t.tenant_id, value),
    )


# --- the calls an agent handled ---------------------------------------------------------------


def handled_queue(t: TenantScope, agent_id: str, call_uuid: str) -> tuple[bool, str | None]:
    """Whether ``agent_id`` handled the call (is on it now, answered its queue visit, or has a
    leg of it in the CDRs), and the queue it came through (None: not a queue call)."""
    row = _one(
        t,
        "SELECT q.queue FROM queue_calls q WHERE q.call_uuid = %(c)s AND q.agent_id = %(a)s"
        " UNION ALL SELECT m.queue FROM agent_state s JOIN queue_members m ON m.uuid = s.offered_member"
        "   WHERE s.agent_id = %(a)s AND s.offered_member = %(c)s AND s.state = 'In a queue call'"
        " UNION ALL SELECT d.queue FROM cdrs d WHERE d.call_uuid = %(c)s AND d.agent_id = %(a)s"
        " LIMIT 1",
        {"c": call_uuid, "a": agent_id},
    )
    return (row is not None, row["queue"] if row else None)


def last_handled(t: TenantScope, agent_id: str) -> dict[str, Any] | None:
    """The agent's call on now, or else the last queue call they answered: call_uuid, queue,
    number, ended_at (None while on it)."""
    live = t._one(
        "SELECT m.uuid AS call_uuid, m.queue, m.cid_number AS number, NULL::timestamptz AS ended_at"
        " FROM agent_state s JOIN queue_members m ON m.uuid = s.offered_member"
        " WHERE s.agent_id = %s AND s.state = 'In a queue call'",
        (agent_id,),
    )
    if live is not None:
        return live
    return t._one(
        "SELECT q.call_uuid, q.queue, q.caller AS number, q.ended_at FROM queue_calls q"
        " WHERE q.agent_id = %s AND q.outcome = 'answered' AND q.call_uuid IS NOT NULL"
        " ORDER BY q.ended_at DESC LIMIT 1",
        (agent_id,),
    )


def last_answered_without_wrap_up(t: TenantScope, agent_id: str) -> str | None:
    """The agent's last answered queue call if they have written no wrap-up on it."""
    row = _one(
        t,
        "SELECT q.call_uuid FROM queue_calls q WHERE q.agent_id = %(a)s AND q.outcome = 'answered'"
        " AND q.call_uuid IS NOT NULL AND NOT EXISTS (SELECT 1 FROM call_wrap_ups w"
        "   WHERE w.call_uuid = q.call_uuid AND w.agent_id = %(a)s)"
        " AND q.ended_at = (SELECT max(ended_at) FROM queue_calls WHERE agent_id = %(a)s"
        "   AND outcome = 'answered' AND call_uuid IS NOT NULL) LIMIT 1",
        {"a": agent_id},
    )
    return str(row["call_uuid"]) if row else None


# --- wrap-ups -------------------------------------------------------------------------------------


def wrap_up(t: TenantScope, call_uuid: str, agent_id: str) -> dict[str, Any] | None:
    return t._one(f"SELECT {WRAP_UP} FROM call_wrap_ups w WHERE w.call_uuid = %s AND w.agent_id = %s",
                  (call_uuid, agent_id))  # fmt: skip


def put_wrap_up(t: TenantScope, w: dict[str, Any]) -> None:
    """The agent's disposition and notes on the call; written again, they replace the last."""
    t.conn.execute(
        "INSERT INTO call_wrap_ups"
        " (tenant_id, call_uuid, agent_id, queue, disposition, label, notes, written_by)"
        " VALUES (%(tenant)s, %(call)s, %(agent)s, %(queue)s, %(disposition)s, %(label)s, %(notes)s, %(by)s)"
        " ON CONFLICT (tenant_id, call_uuid, agent_id) DO UPDATE SET queue = EXCLUDED.queue,"
        " disposition = EXCLUDED.disposition, label = EXCLUDED.label, notes = EXCLUDED.notes,"
        " written_by = EXCLUDED.written_by, written_at = now()",
        {"tenant": t.tenant_id, **w},
    )


def call_record(t: TenantScope, call_uuid: str) -> dict[str, Any] | None:
    """A call as the API shows it: its queue visits, the legs of its CDRs and the wrap-ups
    written on it. None when the tenant has no trace of it."""
    visits = t._all(
        "SELECT queue, agent_id, caller, joined_at, ended_at, wait_seconds, talk_seconds, outcome,"
        " CASE WHEN recording IS NOT NULL THEN event_id END AS recording"
        " FROM queue_calls WHERE call_uuid = %s ORDER BY joined_at",
        (call_uuid,),
    )
    legs = t._all(
        "SELECT leg, direction, caller, destination, agent_id, queue, started_at, answered_at, ended_at,"
        " billsec, hangup_cause FROM cdrs WHERE call_uuid = %s ORDER BY started_at, leg",
        (call_uuid,),
    )
    wrap_ups = t._all(f"SELECT {WRAP_UP} FROM call_wrap_ups w WHERE w.call_uuid = %s ORDER BY w.written_at",
                      (call_uuid,))  # fmt: skip
    if not (visits or legs or wrap_ups):
        return None
    return {"uuid": call_uuid, "visits": visits, "legs": legs, "wrap_ups": wrap_ups}


def wrap_ups(t: TenantScope, *, agent: str | None, queue: str | None, disposition: str | None,
             limit: int, offset: int) -> list[dict[str, Any]]:  # fmt: skip
    """Wrap-ups newest first (reports), with the call's caller."""
    rows: list[dict[str, Any]] = t.conn.execute(  # type: ignore[assignment]
        f"SELECT {WRAP_UP}, (SELECT q.caller FROM queue_calls q WHERE q.call_uuid = w.call_uuid"
        "   ORDER BY q.joined_at DESC LIMIT 1) AS number"
        " FROM call_wrap_ups w WHERE (%(agent)s::text IS NULL OR w.agent_id = %(agent)s)"
        " AND (%(queue)s::text IS NULL OR w.queue = %(queue)s)"
        " AND (%(disposition)s::text IS NULL OR w.disposition = %(disposition)s)"
        " ORDER BY w.written_at DESC LIMIT %(limit)s OFFSET %(offset)s",
        {"agent": agent, "queue": queue, "disposition": disposition, "limit": limit, "offset": offset},
    ).fetchall()
    return rows


def _one(t: TenantScope, sql: str, params: dict[str, Any]) -> dict[str, Any] | None:
    return t.conn.execute(sql, params).fetchone()  # type: ignore[return-value]
