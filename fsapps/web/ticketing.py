"""Tickets for the HTTP API: the tenant's SLA and web-form settings, tickets opened by
people (from a call, a voicemail, a callback) and by the public web form, their changes
and history, and the public status link. Each person's operation asks fsapps.web.policy
through the Service, then runs in the tenant's wall; the public ones (the form, the
status link) run in the tenant's wall with no principal and show no internal notes.

An agent's tickets are the ones assigned to them or to a queue whose tiers hold them (as
the tenant's flows define the queues): the policy's SELF scope, narrowed here.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from fsapps import tickets as rules
from fsapps.acd import config as acd_config
from fsapps.store import api as repo
from fsapps.store import customers as customers_store
from fsapps.store import ticket_requests as intake
from fsapps.store import tickets as store
from fsapps.store.db import Store, TenantScope, UnknownTenant
from fsapps.web.policy import Role
from fsapps.web.service import Refused, Service

EDITABLE = (
    "subject", "state", "priority", "assignee_agent", "assignee_queue", "customer_id", "required_skill",
)  # fmt: skip
STATUS_PAGE = (
    "/console/ticket-status"  # the public page: #<tenant>/<token> (the fragment stays in the browser)
)


def status_link(tenant_id: str, token: str) -> str:
    return f"{STATUS_PAGE}#{tenant_id}/{token}"


class Tickets:
    def __init__(self, service: Service) -> None:
        self.service = service

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.service.clock(), UTC)

    # --- the tenant's settings ---------------------------------------------------------------

    def settings(self, tenant_id: str) -> dict[str, Any]:
        with self.service._tenant(tenant_id, "ticket_settings.read") as t:
            return _settings_out(store.settings(t))

    def put_settings(self, tenant_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.service._tenant(tenant_id, "ticket_settings.write") as t:
            if body["web_queue"] is not None and body["web_queue"] not in self.service.queues_of(tenant_id):
                raise Refused("invalid", "no_such_queue", f"no queue {body['web_queue']!r} in {tenant_id!r}")
            store.put_settings(t, body)
            return _settings_out(store.settings(t))

    # --- tickets -------------------------------------------------------------------------------

    def search(self, tenant_id: str, query: dict[str, Any]) -> list[dict[str, Any]]:
        with self.service._tenant(tenant_id, "tickets.read") as t:
            now = self._now()
            rows = store.search(
                t, state=query["state"], assignee_agent=query["agent"], assignee_queue=query["queue"],
                customer_id=query["customer"], overdue_at=now if query["overdue"] else None,
                visible_to=self._agent_scope(tenant_id), limit=query["limit"], offset=query["offset"],
            )  # fmt: skip
            return [_out(r, now) for r in rows]

    def get(self, tenant_id: str, number: int) -> dict[str, Any]:
        with self.service._tenant(tenant_id, "tickets.read") as t:
            row = self._ticket(t, number)
            return _out(row, self._now()) | {"history": store.history(t, row["id"])}

    def create(self, tenant_id: str, body: dict[str, Any]) -> dict[str, Any]:
        p = self.service.principal
        k = {"body": "", "customer_id": None, "call_uuid": None, "contact": "", "priority": "normal",
             "assignee_agent": None, "assignee_queue": None, "required_skill": None, **body}  # fmt: skip
        if k["source"] in ("call", "voicemail", "callback") and k["call_uuid"] is None:
            raise Refused("invalid", "call_required", f"a ticket from a {k['source']} names its call")
        if (p.role is Role.AGENT and k["assignee_agent"] is None and k["assignee_queue"] is None
                and k["required_skill"] is None):  # fmt: skip
            k["assignee_agent"] = p.agent_id  # who opens it works it, unless they hand it on
        with self.service._tenant(tenant_id, "tickets.write") as t:
            self._check(t, k)
            now = self._now()
            _, token = intake.open_ticket(t, k | {"now": now}, p.username)
            row = store.by_token(t, token)
            assert row is not None
            return _out(row, now) | {"status_link": status_link(tenant_id, token)}

    def patch(self, tenant_id: str, number: int, changes: dict[str, Any]) -> dict[str, Any]:
        p = self.service.principal
        with self.service._tenant(tenant_id, "tickets.write") as t:
            before = self._ticket(t, number, lock=True)
            k = {f: before[f] for f in EDITABLE} | changes
            moved = any(k[f] != before[f] for f in ("assignee_agent", "assignee_queue"))
            if moved and p.role is Role.AGENT:
                # Supervisors and tenant admins hand tickets on (Zendesk's "assign" permission);
                # an agent works the ones they are given.
                raise Refused("forbidden", "reassign_refused", "a supervisor or a tenant admin reassigns")
            if not rules.may_move(before["state"], k["state"]):
                raise Refused(
                    "invalid", "state_move", f"a {before['state']} ticket cannot become {k['state']}"
                )
            self._check(t, k)
            now = self._now()
            k["due_at"] = rules.due_at(before["created_at"], k["priority"], store.settings(t)["due_minutes"])
            store.update(t, before["id"], k, now)
            if k["due_at"] > now or k["state"] in rules.DONE:
                t.conn.execute("UPDATE tickets SET escalated_at = NULL WHERE id = %s", (before["id"],))
            for field in ("state", "priority", "subject"):
                if k[field] != before[field]:
                    store.add_event(t, before["id"], p.username, field,
                                    {"from": before[field], "to": k[field]}, at=now)  # fmt: skip
            if (k["assignee_agent"], k["assignee_queue"]) != (
                before["assignee_agent"],
                before["assignee_queue"],
            ):
                to = {"agent": k["assignee_agent"], "queue": k["assignee_queue"]}
                store.add_event(t, before["id"], p.username, "assignee", to, at=now)
            row = self._ticket(t, number, check=False)
            return _out(row, now) | {"history": store.history(t, row["id"])}

    def add_note(self, tenant_id: str, number: int, body: str) -> int:
        with self.service._tenant(tenant_id, "tickets.write") as t:
            row = self._ticket(t, number)
            return store.add_event(t, row["id"], self.service.principal.username, "note", {"body": body},
                                   internal=True, at=self._now())  # fmt: skip

    # --- the checks ----------------------------------------------------------------------------

    def _agent_queues(self, tenant_id: str, agent_id: str | None) -> list[str]:
        return sorted(
            name
            for name, data in self.service.queues_of(tenant_id).items()
            if any(tier.agent == agent_id
                   for tier in acd_config.queue_tiers(acd_config.queue_key(tenant_id, name), data))
        )  # fmt: skip

    def _agent_scope(self, tenant_id: str) -> tuple[str, list[str]] | None:
        p = self.service.principal
        if p.role is not Role.AGENT:
            return None
        return (p.agent_id or "", self._agent_queues(tenant_id, p.agent_id))

    def _ticket(self, t: TenantScope, number: int, lock: bool = False, check: bool = True) -> dict[str, Any]:
        row = store.by_number(t, number, lock)
        if row is None:
            raise Refused("not_found", "no_such_ticket", f"no ticket {number}")
        scope = self._agent_scope(t.tenant_id)
        if (
            check
            and scope is not None
            and row["assignee_agent"] != scope[0]
            and row["assignee_queue"] not in scope[1]
        ):
            raise Refused("forbidden", "not_yours", f"ticket {number} is neither yours nor your queues'")
        return row

    def _check(self, t: TenantScope, k: dict[str, Any]) -> None:
        if k["customer_id"] is not None and customers_store.customer(t, k["customer_id"]) is None:
            raise Refused("invalid", "no_such_customer", f"no customer {k['customer_id']}")
        if k["assignee_agent"] is not None and repo.agent(t, k["assignee_agent"]) is None:
            raise Refused(
                "invalid", "no_such_agent", f"no agent {k['assignee_agent']!r} serves {t.tenant_id!r}"
            )
        if k["assignee_queue"] is not None and k["assignee_queue"] not in self.service.queues_of(t.tenant_id):
            raise Refused("invalid", "no_such_queue", f"no queue {k['assignee_queue']!r} in {t.tenant_id!r}")


# --- the public doors: the web form and the status link ------------------------------------------


def web_form(db: Store, tenant_id: str, body: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A ticket from the tenant's public web form (when the tenant admin turned it on); the
    number and the status link, whose token is shown here once (only its digest is kept)."""
    try:
        with db.tenant(tenant_id) as t:
            s = store.settings(t)
            if not s["web_form"] or t.info().status != "active":  # a suspended tenant takes none
                raise Refused("not_found", "no_web_form", "no ticket form here")
            k = {"subject": body["subject"], "body": body["body"], "customer_id": None, "source": "web",
                 "contact": body["contact"], "priority": "normal", "assignee_agent": None,
                 "assignee_queue": s["web_queue"], "number": store.next_number(t), "now": now,
                 "due_at": rules.due_at(now, "normal", s["due_minutes"])}  # fmt: skip
            token = secrets.token_urlsafe(24)
            store.create(t, k, "web", token)
            return {"number": k["number"], "status_link": status_link(tenant_id, token)}
    except UnknownTenant:
        raise Refused("not_found", "no_web_form", "no ticket form here") from None


def public_status(db: Store, tenant_id: str, token: str) -> dict[str, Any]:
    """What the status link shows: the number, subject, state and the state's changes; not
    who worked it, nor any note."""
    try:
        with db.tenant(tenant_id) as t:
            row = store.by_token(t, token)
            if row is None:
                raise Refused("not_found", "no_such_ticket", "no such ticket")
            events = store.history(t, row["id"], public_only=True)
            changes = [{"at": e["at"], "state": e["detail"]["to"]} for e in events if e["kind"] == "state"]
    except UnknownTenant:
        raise Refused("not_found", "no_such_ticket", "no such ticket") from None
    return {"number": row["number"], "subject": row["subject"], "state": row["state"],
            "created_at": row["created_at"], "updated_at": row["updated_at"], "changes": changes}  # fmt: skip


def _out(row: dict[str, Any], now: datetime) -> dict[str, Any]:
    return row | {"overdue": rules.is_overdue(row["state"], row["due_at"], now)}


def _settings_out(s: dict[str, Any]) -> dict[str, Any]:
    minutes = {p: rules.due_minutes(s["due_minutes"], p) for p in rules.PRIORITIES}
    return {"due_minutes": minutes, "web_form": s["web_form"], "web_queue": s["web_queue"]}
