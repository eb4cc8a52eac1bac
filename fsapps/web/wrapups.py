"""Wrap-up for the HTTP API: the tenant's disposition codes (per queue, with defaults) and
whether one is required before going ready; the disposition and notes an agent writes on
a call they handled, read back on the call's record, in reports and on the customer's
timeline (fsapps.store.customers' TIMELINE).

Which call: the one the agent is on, or one whose queue visit they answered, or one with a
CDR leg of theirs; the desk offers the last of them (``last``). Required dispositions
follow Amazon Connect's "require disposition": the agent's last answered queue call must
have their wrap-up before the API sets them Available again (``check_ready``).
"""

from __future__ import annotations

from typing import Any

from fsapps import knowledge
from fsapps.acd.model import AgentStatus
from fsapps.store import wrapups as store
from fsapps.store.db import TenantScope
from fsapps.web.policy import Principal, Role, Target
from fsapps.web.service import Refused, Service

READY = frozenset({AgentStatus.AVAILABLE, AgentStatus.AVAILABLE_ON_DEMAND})


class WrapUps:
    def __init__(self, service: Service) -> None:
        self.service = service

    # --- the tenant admin's codes and setting ----------------------------------------------

    def codes(self, tenant_id: str, queue: str | None) -> list[dict[str, Any]]:
        with self.service._tenant(tenant_id, "wrapup_codes.read") as t:
            return knowledge.codes_for(store.codes(t), queue)

    def put_code(self, tenant_id: str, code: str, body: dict[str, Any]) -> None:
        queues = sorted(set(body["queues"]))
        with self.service._tenant(tenant_id, "wrapup_codes.write") as t:
            unknown = [q for q in queues if q not in self.service.queues_of(t.tenant_id)]
            if unknown:
                raise Refused("invalid", "no_such_queue", "queues: no queue " + ", ".join(map(repr, unknown)))
            store.put_code(t, code, body["label"], queues, body["position"])

    def remove_code(self, tenant_id: str, code: str) -> None:
        with self.service._tenant(tenant_id, "wrapup_codes.write") as t:
            if not store.remove_code(t, code):
                raise Refused("not_found", "no_such_code", f"no disposition code {code!r}")

    def settings(self, tenant_id: str) -> dict[str, Any]:
        with self.service._tenant(tenant_id, "wrapup_codes.read") as t:
            return {"required": store.required(t)}

    def set_settings(self, tenant_id: str, required: bool) -> dict[str, Any]:
        with self.service._tenant(tenant_id, "wrapup_codes.write") as t:
            store.set_required(t, required)
            return {"required": store.required(t)}

    # --- an agent's wrap-up ----------------------------------------------------------------

    def last(self, tenant_id: str, agent_id: str) -> dict[str, Any]:
        """The call the desk offers a wrap-up for: the agent's call on now or their last
        answered queue call, with what they wrote on it and the codes for its queue."""
        with self.service._tenant(tenant_id, "wrapup.read", Target(tenant_id, agent_id=agent_id)) as t:
            self.service._agent(t, agent_id)
            call = store.last_handled(t, agent_id)
            if call is None:
                raise Refused("not_found", "no_call", f"agent {agent_id!r} has handled no queue call")
            mine = store.wrap_up(t, str(call["call_uuid"]), agent_id)
            return {**call, "wrap_up": mine, "required": store.required(t),
                    "codes": knowledge.codes_for(store.codes(t), call["queue"])}  # fmt: skip

    def write(self, tenant_id: str, agent_id: str, call_uuid: str, body: dict[str, Any]) -> dict[str, Any]:
        target = Target(tenant_id, agent_id=agent_id)
        with self.service._tenant(tenant_id, "wrapup.write", target) as t:
            self.service._agent(t, agent_id)
            handled, queue = store.handled_queue(t, agent_id, call_uuid)
            if not handled:
                raise Refused("not_found", "no_such_call", f"agent {agent_id!r} handled no call {call_uuid}")
            offered = {str(c["code"]): c for c in knowledge.codes_for(store.codes(t), queue)}
            chosen = offered.get(body["disposition"])
            if chosen is None:
                why = f"disposition: one of {', '.join(offered)}" + (f" for queue {queue!r}" if queue else "")
                raise Refused("invalid", "invalid_disposition", why)
            store.put_wrap_up(t, {"call": call_uuid, "agent": agent_id, "queue": queue,
                                  "disposition": chosen["code"], "label": chosen["label"],
                                  "notes": body["notes"], "by": self.service.principal.username})  # fmt: skip
            row = store.wrap_up(t, call_uuid, agent_id)
            assert row is not None
            return row

    def list(self, tenant_id: str, query: dict[str, Any]) -> list[dict[str, Any]]:
        p = self.service.principal
        agent = query["agent"]
        if p.role is Role.AGENT:
            agent = p.agent_id  # their own, whatever they asked for
        target = Target(tenant_id, agent_id=agent, queue=query["queue"])
        with self.service._tenant(tenant_id, "wrapup.read", target) as t:
            rows = store.wrap_ups(t, agent=agent, queue=query["queue"], disposition=query["disposition"],
                                  limit=query["limit"], offset=query["offset"])  # fmt: skip
        if p.role is Role.SUPERVISOR:
            rows = [r for r in rows if r["agent_id"] in p.agents or r["queue"] in p.queues]
        return rows

    # --- the call's record ----------------------------------------------------------------

    def call(self, tenant_id: str, call_uuid: str) -> dict[str, Any]:
        with self.service._tenant(tenant_id, "call.read") as t:
            row = store.call_record(t, call_uuid)
        if row is None:
            raise Refused("not_found", "no_such_call", f"no call {call_uuid}")
        if not _sees(self.service.principal, row):
            raise Refused("forbidden", "forbidden", "a call of another group's or agent's")
        return row

    # --- going ready ----------------------------------------------------------------------------


def check_ready(t: TenantScope, agent_id: str, status: str) -> None:
    """Refuses Available while the tenant requires a disposition and the agent's last
    answered queue call has none of theirs (called in the status change's transaction)."""
    if status not in READY or not store.required(t):
        return
    call = store.last_answered_without_wrap_up(t, agent_id)
    if call is not None:
        why = f"give call {call} a disposition before going ready (the tenant requires one)"
        raise Refused("conflict", "wrap_up_required", why)


def _sees(p: Principal, row: dict[str, Any]) -> bool:
    """A supervisor sees a call of their groups' queues or agents, an agent one they were on."""
    if p.role not in (Role.SUPERVISOR, Role.AGENT):
        return True
    parts = [*row["visits"], *row["legs"], *row["wrap_ups"]]
    agents = {r["agent_id"] for r in parts if r.get("agent_id")}
    if p.role is Role.AGENT:
        return p.agent_id is not None and p.agent_id in agents
    queues = {r["queue"] for r in parts if r.get("queue")}
    return bool(agents & p.agents or queues & p.queues)
