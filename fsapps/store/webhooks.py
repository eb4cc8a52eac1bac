"""The tenants' CRM webhooks (fsapps.webhooks): the admin's URL and secret, and the last
delivery's outcome. The API's functions take a ``TenantScope``; the sender's read and
write as the owner (it serves every tenant) on a plain connection."""

from __future__ import annotations

from typing import Any

import psycopg

from fsapps.store.db import TenantScope

SHOWN = "url, enabled, updated_at, last_at, last_event, last_status"


def webhook(t: TenantScope) -> dict[str, Any] | None:
    """The tenant's webhook, without its secret."""
    return t._one(f"SELECT {SHOWN} FROM crm_webhooks")


def put(t: TenantScope, url: str, secret: str, enabled: bool) -> None:
    t.conn.execute(
        "INSERT INTO crm_webhooks (tenant_id, url, secret, enabled) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (tenant_id) DO UPDATE SET url = EXCLUDED.url, secret = EXCLUDED.secret,"
        " enabled = EXCLUDED.enabled, updated_at = now(),"
        " last_at = NULL, last_event = NULL, last_status = NULL",
        (t.tenant_id, url, secret, enabled),
    )


def delete(t: TenantScope) -> bool:
    return t.conn.execute("DELETE FROM crm_webhooks").rowcount == 1


def target(conn: psycopg.Connection, tenant: str) -> tuple[str, str] | None:
    """(url, secret) of the tenant's enabled webhook, for the sender."""
    row: Any = conn.execute(
        "SELECT url, secret FROM crm_webhooks WHERE tenant_id = %s AND enabled", (tenant,)
    ).fetchone()
    return None if row is None else (row["url"], row["secret"])


def delivered(conn: psycopg.Connection, tenant: str, event: str, status: str) -> None:
    conn.execute(
        "UPDATE crm_webhooks SET last_at = now(), last_event = %s, last_status = %s WHERE tenant_id = %s",
        (event, status[:200], tenant),
    )
