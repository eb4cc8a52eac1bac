"""The CRM for the HTTP API: a tenant's customers (numbers, company, tags, custom fields,
notes, an account owner), the screen pop's look-up by number and a customer's timeline.
Each operation asks fsapps.web.policy through the Service, then runs in the tenant's wall.

Numbers are kept in the caller-ID form the switch gives (fsapps.customers), so the
customer a number finds is the one whose caller the queues route to their owner.
"""

from __future__ import annotations

from typing import Any

import psycopg

from fsapps import customers as rules
from fsapps.store import api as repo
from fsapps.store import customers as store
from fsapps.store.db import TenantScope
from fsapps.web.policy import Target
from fsapps.web.service import Refused, Service

EDITABLE = ("name", "numbers", "company", "tags", "custom_fields", "owner_agent")


class Customers:
    def __init__(self, service: Service) -> None:
        self.service = service

    # --- the tenant admin's field definitions -------------------------------------------------

    def fields(self, tenant_id: str) -> list[dict[str, Any]]:
        with self.service._tenant(tenant_id, "customer_fields.read") as t:
            return store.field_definitions(t)

    def put_field(self, tenant_id: str, name: str, kind: str, label: str) -> None:
        with self.service._tenant(tenant_id, "customer_fields.write") as t:
            store.put_field(t, name, kind, label)

    def remove_field(self, tenant_id: str, name: str) -> None:
        with self.service._tenant(tenant_id, "customer_fields.write") as t:
            if not store.remove_field(t, name):
                raise Refused("not_found", "no_such_field", f"no customer field {name!r}")

    # --- customers -------------------------------------------------------------------------------

    def search(self, tenant_id: str, query: dict[str, Any]) -> list[dict[str, Any]]:
        number = _number(query["number"]) if query["number"] is not None else None
        with self.service._tenant(tenant_id, "customers.read") as t:
            return store.search(t, number=number, name=query["name"], tag=query["tag"],
                                limit=query["limit"], offset=query["offset"])  # fmt: skip

    def get(self, tenant_id: str, customer_id: int) -> dict[str, Any]:
        with self.service._tenant(tenant_id, "customers.read") as t:
            return self._customer(t, customer_id)

    def by_number(self, tenant_id: str, number: str) -> dict[str, Any]:
        caller = _number(number)
        with self.service._tenant(tenant_id, "customers.read") as t:
            row = store.by_number(t, caller)
        if row is None:
            raise Refused("not_found", "no_such_customer", f"no customer has the number {caller}")
        return row

    def create(self, tenant_id: str, body: dict[str, Any]) -> dict[str, Any]:
        c = {"company": "", "tags": [], "custom_fields": {}, "owner_agent": None, "numbers": [], **body}
        with self.service._tenant(tenant_id, "customers.write") as t:
            self._check(t, c, before=None)
            customer_id = self._write(t, lambda: store.create(t, c))
            return self._customer(t, customer_id)

    def patch(self, tenant_id: str, customer_id: int, changes: dict[str, Any]) -> dict[str, Any]:
        with self.service._tenant(tenant_id, "customers.write") as t:
            before = self._customer(t, customer_id, lock=True)
            c = {k: before[k] for k in EDITABLE} | changes
            if "custom_fields" in changes:  # a patch of the fields given: null clears one
                c["custom_fields"] = before["custom_fields"] | changes["custom_fields"]
            self._check(t, c, before=before)
            self._write(t, lambda: store.update(t, customer_id, c))
            return self._customer(t, customer_id)

    def delete(self, tenant_id: str, customer_id: int) -> None:
        with self.service._tenant(tenant_id, "customers.delete") as t:
            if not store.delete(t, customer_id):
                raise Refused("not_found", "no_such_customer", f"no customer {customer_id}")

    def add_note(self, tenant_id: str, customer_id: int, body: str, call: str | None) -> int:
        with self.service._tenant(tenant_id, "customers.note") as t:
            self._customer(t, customer_id)
            return store.add_note(t, customer_id, self.service.principal.username, body, call)

    def timeline(self, tenant_id: str, customer_id: int, limit: int, offset: int) -> list[dict[str, Any]]:
        with self.service._tenant(tenant_id, "customers.read") as t:
            self._customer(t, customer_id)
            return store.timeline(t, customer_id, limit, offset)

    # --- the checks ------------------------------------------------------------------------------

    def _customer(self, t: TenantScope, customer_id: int, lock: bool = False) -> dict[str, Any]:
        row = store.customer(t, customer_id, lock)
        if row is None:
            raise Refused("not_found", "no_such_customer", f"no customer {customer_id}")
        return row

    def _check(self, t: TenantScope, c: dict[str, Any], before: dict[str, Any] | None) -> None:
        try:
            c["numbers"] = rules.normalise_numbers(c["numbers"])
        except ValueError as exc:
            raise Refused("invalid", "invalid_number", f"numbers: {exc}") from None
        c["tags"] = sorted(set(c["tags"]))
        definitions = {f["name"]: f["type"] for f in store.field_definitions(t)}
        problems = rules.field_problems(definitions, c["custom_fields"])
        if problems:
            raise Refused("invalid", "invalid_input", "custom_fields: " + "; ".join(problems))
        c["custom_fields"] = {k: v for k, v in c["custom_fields"].items() if v is not None}
        taken = store.numbers_taken(t, c["numbers"], before["id"] if before else None)
        if taken:
            raise Refused("conflict", "number_taken", "; ".join(
                f"{r['number']} is customer {r['customer_id']}'s" for r in taken))  # fmt: skip
        self._check_owner(t, before["owner_agent"] if before else None, c["owner_agent"])

    def _check_owner(self, t: TenantScope, old: str | None, new: str | None) -> None:
        """Whoever changes the owner may assign both the old owner's customers and the new's."""
        if old == new:
            return
        for agent in (old, new):
            if agent is not None:
                self.service._allow("customer.owner", Target(t.tenant_id, agent_id=agent))
        if new is not None and repo.agent(t, new) is None:
            raise Refused("invalid", "no_such_agent", f"no agent {new!r} serves {t.tenant_id!r}")

    @staticmethod
    def _write(t: TenantScope, write: Any) -> Any:
        try:
            with t.conn.transaction():  # a savepoint: a lost race on a number refuses cleanly
                return write()
        except psycopg.errors.UniqueViolation:
            raise Refused("conflict", "number_taken", "a number is another customer's") from None


def _number(typed: str) -> str:
    try:
        return rules.normalise_number(typed)
    except ValueError as exc:
        raise Refused("invalid", "invalid_number", f"number: {exc}") from None
