"""Voicemails for the HTTP API: one message (who left it, when, how long, the ticket it
opened) and its audio, played in place from the ticket's page. Who hears it is who reads
the ticket it opened: admins, supervisors and qa the tenant's, an agent only those of the
tickets assigned to them or their queues (fsapps.web.ticketing's narrowing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fsapps.store.db import TenantScope
from fsapps.web import ticketing
from fsapps.web.service import Refused, Service
from fsapps.web.voicemail_files import stored_file

COLUMNS = (
    "v.event_id AS id, v.box, v.call_uuid, v.caller_number, v.caller_name, v.seconds, v.left_at, v.path,"
    " (SELECT k.number FROM tickets k WHERE k.voicemail = v.event_id ORDER BY k.id LIMIT 1) AS ticket"
)


class Voicemails:
    def __init__(self, service: Service) -> None:
        self.service = service

    def get(self, tenant_id: str, voicemail_id: str) -> dict[str, Any]:
        with self.service._tenant(tenant_id, "voicemails.read") as t:
            return self._row(t, voicemail_id)

    def file(self, tenant_id: str, voicemail_id: str, voicemail_dir: Path | None) -> Path:
        """The message's file: the path the switch gave (never one from the client), only
        under the voicemail storage's folders for the tenant's domain, and a file there."""
        with self.service._tenant(tenant_id, "voicemails.read") as t:
            row = self._row(t, voicemail_id)
            domain = t.info().domain
        return stored_file(voicemail_dir, domain, row["path"], voicemail_id)

    def _row(self, t: TenantScope, voicemail_id: str) -> dict[str, Any]:
        row = t._one(f"SELECT {COLUMNS} FROM voicemails v WHERE v.event_id = %s", (voicemail_id,))
        if row is None:
            raise Refused("not_found", "no_such_voicemail", f"no voicemail {voicemail_id}")
        scope = ticketing.Tickets(self.service)._agent_scope(t.tenant_id)
        if scope is not None:
            mine = t._one(
                "SELECT 1 FROM tickets WHERE voicemail = %s"
                " AND (assignee_agent = %s OR assignee_queue = ANY(%s))",
                (voicemail_id, scope[0], scope[1]),
            )
            if mine is None:
                raise Refused("forbidden", "not_yours", f"voicemail {voicemail_id}: not on a ticket of yours")
        return row
