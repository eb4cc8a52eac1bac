"""The console settings for the HTTP API: what every page of a tenant reads first (the
tenant's timezone, in which the pages show times; the floor's stuck-agent limits) and the
limits a tenant admin changes. Policy through the Service, SQL in the tenant's wall."""

from __future__ import annotations

from typing import Any

from fsapps import console_settings as rules
from fsapps.store import console_settings as store
from fsapps.web.service import Service


class ConsoleSettings:
    def __init__(self, service: Service) -> None:
        self.service = service

    def read(self, tenant_id: str) -> dict[str, Any]:
        with self.service._tenant(tenant_id, "console_settings.read") as t:
            limits = rules.stuck_limits(store.stored_stuck_limits(t))
            return {"timezone": t.info().timezone, "stuck_limits": limits}

    def set_stuck_limits(self, tenant_id: str, changes: dict[str, int]) -> dict[str, Any]:
        """Changes the limits named, keeps the others (the tenant's or the defaults)."""
        with self.service._tenant(tenant_id, "console_settings.write") as t:
            limits = rules.stuck_limits(store.stored_stuck_limits(t)) | changes
            store.set_stuck_limits(t, limits, self.service.principal.username)
            return {"timezone": t.info().timezone, "stuck_limits": rules.stuck_limits(limits)}
