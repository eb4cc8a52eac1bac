"""Repositories of the self-service applications, each bound to one tenant's scope.

Every query runs inside ``Store.tenant(...)``: the fsapps_tenant role and
row-level security keep a tenant's flow to its own rows, and every value
travels as a parameter.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import sql

from fsapps.store.db import TenantScope


def blacklisted(scope: TenantScope, number: str, now: datetime) -> dict[str, Any] | None:
    """The entry that stops ``number`` at ``now``: an exact match before the longest prefix."""
    return scope._one(
        "SELECT number, match, reason, expires_at FROM blacklist"
        " WHERE (expires_at IS NULL OR expires_at > %s)"
        "   AND ((match = 'exact' AND number = %s) OR (match = 'prefix' AND starts_with(%s, number)))"
        " ORDER BY match = 'exact' DESC, length(number) DESC LIMIT 1",
        (now, number, number),
    )


def add_blacklist(
    scope: TenantScope,
    number: str,
    match: str = "exact",
    reason: str = "",
    expires_at: datetime | None = None,
) -> None:
    scope.conn.execute(
        "INSERT INTO blacklist (tenant_id, number, match, reason, expires_at) VALUES (%s, %s, %s, %s, %s)"
        " ON CONFLICT (tenant_id, number, match) DO UPDATE SET reason = EXCLUDED.reason,"
        " expires_at = EXCLUDED.expires_at",
        (scope.tenant_id, number, match, reason, expires_at),
    )


def remove_blacklist(scope: TenantScope, number: str, match: str = "exact") -> bool:
    cur = scope.conn.execute("DELETE FROM blacklist WHERE number = %s AND match = %s", (number, match))
    return cur.rowcount > 0


def list_blacklist(scope: TenantScope) -> list[dict[str, Any]]:
    return scope._all("SELECT number, match, reason, expires_at FROM blacklist ORDER BY number, match")


def active_outage(
    scope: TenantScope, now: datetime, *, caller: str | None = None, area: str | None = None
) -> dict[str, Any] | None:
    """The outage to announce: for the caller's number by prefix, or for an area
    (district, account attribute); the one that started last wins."""
    return scope._one(
        "SELECT id, area_kind, area, message, starts_at, ends_at FROM outages"
        " WHERE starts_at <= %s AND ends_at > %s"
        "   AND ((area_kind = 'prefix' AND %s::text IS NOT NULL AND starts_with(%s::text, area))"
        "     OR (area_kind = 'area' AND area = %s::text))"
        " ORDER BY starts_at DESC, id DESC LIMIT 1",
        (now, now, caller, caller, area),
    )


def post_outage(
    scope: TenantScope, area_kind: str, area: str, message: str, starts_at: datetime, ends_at: datetime
) -> int:
    row = scope._one(
        "INSERT INTO outages (tenant_id, area_kind, area, message, starts_at, ends_at)"
        " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
        (scope.tenant_id, area_kind, area, message, starts_at, ends_at),
    )
    assert row is not None
    return int(row["id"])


def end_outage(scope: TenantScope, outage_id: int, now: datetime) -> bool:
    """Ends it now (kept for the record); False when there is no such current outage."""
    cur = scope.conn.execute(
        "UPDATE outages SET ends_at = greatest(%s, starts_at + interval '1 microsecond')"
        " WHERE id = %s AND ends_at > %s",
        (now, outage_id, now),
    )
    return cur.rowcount > 0


def list_outages(scope: TenantScope, now: datetime, *, include_ended: bool = False) -> list[dict[str, Any]]:
    where = "" if include_ended else " WHERE ends_at > %s"
    return scope._all(
        "SELECT id, area_kind, area, message, starts_at, ends_at FROM outages"
        + where
        + " ORDER BY starts_at, id",
        () if include_ended else (now,),
    )


def callback_requests(scope: TenantScope, status: str = "pending") -> list[dict[str, Any]]:
    """Oldest place first: a caller who left a queue is served as if still waiting."""
    return scope._all(
        "SELECT event_id, number, queue, queue_entered_at, requested_at, call_uuid, status"
        " FROM callback_requests WHERE status = %s ORDER BY coalesce(queue_entered_at, requested_at)",
        (status,),
    )


def survey_answers(scope: TenantScope, limit: int = 100) -> list[dict[str, Any]]:
    return scope._all(
        "SELECT call_uuid, agent_id, queue, flow, question, score, answered_at FROM survey_answers"
        " ORDER BY answered_at DESC LIMIT %s",
        (limit,),
    )


def lookup_row(scope: TenantScope, table: str, column: str, key: str) -> dict[str, Any] | None:
    """One row of the tenant's ``lookup.<table>`` whose ``column`` equals ``key``."""
    query = sql.SQL("SELECT * FROM {} WHERE tenant_id = %s AND {}::text = %s LIMIT 1").format(
        sql.Identifier("lookup", table), sql.Identifier(column)
    )
    return scope._one(query, (scope.tenant_id, key))  # type: ignore[arg-type]
