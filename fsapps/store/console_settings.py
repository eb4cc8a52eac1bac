"""The console settings' SQL (the tenant_console_settings table): one row per tenant that
changed the defaults. Row-level security keeps a ``TenantScope`` to its own row."""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb

from fsapps.store.db import TenantScope


def stored_stuck_limits(t: TenantScope) -> dict[str, Any] | None:
    row = t._one("SELECT stuck_limits FROM tenant_console_settings WHERE tenant_id = %s", (t.tenant_id,))
    return None if row is None else dict(row["stuck_limits"])


def set_stuck_limits(t: TenantScope, limits: dict[str, int], author: str) -> None:
    t.conn.execute(
        "INSERT INTO tenant_console_settings (tenant_id, stuck_limits, changed_by) VALUES (%s, %s, %s)"
        " ON CONFLICT (tenant_id) DO UPDATE SET stuck_limits = EXCLUDED.stuck_limits,"
        " changed_by = EXCLUDED.changed_by, changed_at = now()",
        (t.tenant_id, Jsonb(limits), author),
    )
