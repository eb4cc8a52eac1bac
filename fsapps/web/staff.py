"""A tenant's staffing through the HTTP API: agents created, changed and taken off the
tenant (fsapps.store.agents, as ``fsapps agent add``), and the agents on a queue's tiers,
rewritten in the tenant's tenant.yaml and put live as a flow upload is.

Agents are the operator's rows and ids are global, so:

* an id taken anywhere is refused alike (409 agent_id_taken): whether it is this
  tenant's or another's is not said; another tenant's agent is "not found" everywhere else
  (the tenant's wall), and in tiers "no agent ... serves this tenant" as an unknown one;
* a shared agent's name, contact and settings are every tenant's, so the operator's to
  change; a tenant takes one off itself only (unlinked), and nobody takes away an agent
  ringing or talking for a queue caller (409 on_a_call);
* a contact is never a dial string from the client: an extension of the tenant's
  directory or a number through one of operator.yaml's gateways (the call operations'
  targets, fsapps.web.calls), checked by ``escape.dial_target``; or a provisioned phone
  (``PUT .../agents/{agent}/phone``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from fsapps import escape
from fsapps.acd import config as acd_config
from fsapps.flows.tiers import TierEntry, TiersError, rewrite
from fsapps.flows.upload import FlowsSite, UploadRefused
from fsapps.store import agents as store_agents
from fsapps.store import api as repo
from fsapps.store.db import TenantScope
from fsapps.web.calls import EXTENSION, Calls
from fsapps.web.policy import Role, Target
from fsapps.web.service import Refused, Service

TIERS_REFUSED = {"no_such_queue": "not_found", "no_tenant_yaml": "conflict", "not_kept": "conflict"}


class Staff:
    def __init__(self, service: Service, gateways: Callable[[], list[str]], flows: FlowsSite | None) -> None:
        self.service = service
        self.gateways = gateways
        self.flows = flows

    # --- agents ---------------------------------------------------------------------------

    def create(self, tenant_id: str, body: dict[str, Any]) -> dict[str, Any]:
        agent_id = body["id"]
        with self.service._tenant(tenant_id, "agents.write") as t:
            contact = self._contact(t, body.get("contact"))
        settings = {k: body[k] for k in store_agents.SETTINGS if k in body}
        try:
            with self.service.store.operator() as op:
                store_agents.create_agent(op, agent_id, body.get("name") or agent_id, {tenant_id: 1}, contact,
                                          **settings)  # fmt: skip
        except store_agents.AgentTaken:
            raise Refused("conflict", "agent_id_taken", f"agent id {agent_id!r} is not available") from None
        return self.service.agent(tenant_id, agent_id)

    def change(self, tenant_id: str, agent_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.service._tenant(tenant_id, "agents.write", Target(tenant_id, agent_id=agent_id)) as t:
            self.service._agent(t, agent_id)
            changes = {k: body[k] for k in ("name", *store_agents.SETTINGS) if k in body}
            if "contact" in body:
                changes["contact"] = self._contact(t, body["contact"])
        with self.service.store.operator() as op:
            served = self._serving(op.conn, tenant_id, agent_id)
            if len(served) > 1 and self.service.principal.role is not Role.OPERATOR:
                why = f"agent {agent_id!r} serves other tenants too: ask the operator"
                raise Refused("conflict", "shared_agent", why)
            store_agents.change_agent(op.conn, agent_id, changes)
        return self.service.agent(tenant_id, agent_id)

    def remove(self, tenant_id: str, agent_id: str) -> None:
        """The agent no longer serves the tenant (deleted if it served no other); refused
        while a queue's tiers name them or they ring or talk for a caller."""
        with self.service._tenant(tenant_id, "agents.write", Target(tenant_id, agent_id=agent_id)) as t:
            self.service._agent(t, agent_id)
        tiered = sorted(q for q, tiers in self._all_tiers(tenant_id).items() if agent_id in tiers)
        if tiered:
            why = f"agent {agent_id!r} is on the tiers of {', '.join(tiered)}: take them off first"
            raise Refused("conflict", "on_tiers", why)
        try:
            with self.service.store.operator() as op:
                self._serving(op.conn, tenant_id, agent_id)
                if store_agents.busy(op.conn, agent_id):  # locked until this transaction ends
                    raise Refused(
                        "conflict", "on_a_call", f"agent {agent_id!r} is on a call: try again after it"
                    )
                phone = op._one("SELECT 1 AS n FROM sip_phones WHERE tenant_id = %s AND agent_id = %s",
                                (tenant_id, agent_id))  # fmt: skip
                store_agents.remove_agent(op.conn, agent_id, tenant_id)
                if phone is not None:  # out of the tenant's directory too; a failure rolls all back
                    if self.flows is None:
                        raise Refused(
                            "unavailable", "no_flows_dir", "this server does not render the directory"
                        )
                    self.flows.publish(repo.sip_phones(op.conn))
        except UploadRefused as exc:
            kind = "switch" if exc.code == "reload_failed" else "conflict"
            raise Refused(kind, exc.code, exc.message) from None

    def _serving(self, conn: Any, tenant_id: str, agent_id: str) -> set[str]:
        """The tenants the agent serves, this one among them (taken off meanwhile: not found)."""
        served = store_agents.tenants_of(conn, agent_id)
        if tenant_id not in served:
            raise Refused("not_found", "no_such_agent", f"no agent {agent_id!r}")
        return served

    def _contact(self, t: TenantScope, contact: dict[str, Any] | None) -> str | None:
        """The dial string of ``contact`` (an extension or a number), built here, never taken."""
        if contact is None:
            return None
        given = [k for k in ("extension", "number") if contact.get(k)]
        if len(given) != 1 or (contact.get("gateway") and given != ["number"]):
            raise Refused(
                "invalid", "invalid_contact", "contact: give an extension, or a number (and a gateway)"
            )
        if given == ["extension"]:
            if not EXTENSION.fullmatch(contact["extension"]):
                raise Refused("invalid", "invalid_contact", "extension: letters, digits, . _ -")
            dial = f"user/{contact['extension']}@{t.info().domain}"
        else:
            dial = Calls(self.service, None, self.gateways).number_dial(
                contact["number"], contact.get("gateway")
            )
        try:
            return escape.dial_target(dial)
        except escape.UnsafeValue as exc:
            raise Refused("invalid", "invalid_contact", str(exc)) from None

    # --- tiers ------------------------------------------------------------------------------

    def _all_tiers(self, tenant_id: str) -> dict[str, dict[str, tuple[int, int]]]:
        """queue -> agent -> (level, position), as the live flows have them."""
        return {
            name: _tiers(tenant_id, name, data) for name, data in self.service.queues_of(tenant_id).items()
        }

    def tiers(self, tenant_id: str, queue: str) -> dict[str, Any]:
        with self.service._tenant(tenant_id, "queue.read", Target(tenant_id, queue=queue)):
            data = self.service.queues_of(tenant_id).get(queue)
        if data is None:
            raise Refused("not_found", "no_such_queue", f"no queue {queue!r}")
        return _out(tenant_id, queue, data)

    def set_tiers(self, tenant_id: str, queue: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
        """The queue's tiers become ``entries`` in tenant.yaml, checked and put live as an
        upload of it (fsapps.flows.upload: problems at file:line, all or nothing). A
        supervisor changes only their groups' agents' tiers."""
        with self.service._tenant(tenant_id, "queue.tiers", Target(tenant_id, queue=queue)):
            pass
        if self.flows is None:
            raise Refused("unavailable", "no_flows_dir", "this server does not take flow uploads")
        wanted = [TierEntry(e["agent"], e["level"], e.get("position")) for e in entries]
        twice = sorted({w.agent for w in wanted if sum(x.agent == w.agent for x in wanted) > 1})
        if twice:
            raise Refused("invalid", "duplicate_agent", f"tiers: {', '.join(twice)} more than once")
        p = self.service.principal

        def change(files: dict[str, str]) -> dict[str, str]:
            if "tenant.yaml" not in files:
                raise TiersError("no_tenant_yaml", f"no tenant.yaml of {tenant_id!r} here: upload the flows")
            text = rewrite(files["tenant.yaml"], queue, wanted)
            if p.role is Role.SUPERVISOR:
                before = _tiers(tenant_id, queue, _queue_data(files["tenant.yaml"], queue))
                after = _tiers(tenant_id, queue, _queue_data(text, queue))
                changed = {a for a in before.keys() | after.keys() if before.get(a) != after.get(a)}
                if changed - p.agents:
                    theirs = ", ".join(sorted(changed - p.agents))
                    raise Refused("forbidden", "forbidden", f"not your groups' agents: {theirs}")
            return {**files, "tenant.yaml": text}

        try:
            live = self.flows.edit(tenant_id, change)
        except TiersError as exc:
            raise Refused(TIERS_REFUSED[exc.code], exc.code, exc.message) from None
        (ours,) = [t for t in live.tenants if t.id == tenant_id]
        return _out(tenant_id, queue, dict(ours.queues[queue].data or {}))


def _queue_data(text: str, queue: str) -> dict[str, Any]:
    return dict((yaml.safe_load(text).get("queues") or {}).get(queue) or {})


def _tiers(tenant_id: str, queue: str, data: dict[str, Any]) -> dict[str, tuple[int, int]]:
    tiers = acd_config.queue_tiers(acd_config.queue_key(tenant_id, queue), data or {})
    return {t.agent: (t.level, t.position) for t in tiers}


def _out(tenant_id: str, queue: str, data: dict[str, Any]) -> dict[str, Any]:
    tiers = acd_config.queue_tiers(acd_config.queue_key(tenant_id, queue), data or {})
    return {
        "queue": queue,
        "tiers": [{"agent": t.agent, "level": t.level, "position": t.position} for t in tiers],
    }
