"""The calls an agent may pick up: queue calls of the agent's queues ringing at a
colleague's phone, as a desk lists them beside its Pick up button (the pickup itself is
``POST .../agents/{agent}/call/pickup``, fsapps.acd.operations.AgentOperations.pickup).

Who may read an agent's list is who may pick up for that agent (``call.control``): the
agent themselves, their supervisor, the tenant admin. A supervisor sees only calls ringing
at their groups' agents, as the pickup refuses the others (fsapps.web.calls). The agent's
queues are those whose tiers in tenant.yaml name them (as GET .../agents/{agent} says)."""

from __future__ import annotations

from typing import Any

from fsapps.store import api as repo
from fsapps.web.policy import Role, Target
from fsapps.web.service import Service


def ringing_elsewhere(service: Service, tenant_id: str, agent: str) -> list[dict[str, Any]]:
    """The tenant's callers in ``agent``'s queues whose call rings at other agents now and
    at no one's answered phone, oldest first, with the agents it rings at."""
    p = service.principal
    with service._tenant(tenant_id, "call.control", Target(tenant_id, agent_id=agent)) as t:
        queues = {tier["queue"] for tier in service._agent(t, agent)["tiers"]}
        rows = repo.live_calls(t)
    now = service.clock()
    out = []
    for r in rows:
        if r["queue"] not in queues or r["agent"] or agent in r["ringing"]:
            continue
        at = [a for a in r["ringing"] if p.role is not Role.SUPERVISOR or a in p.agents]
        if not at:
            continue
        out.append({
            "uuid": str(r["uuid"]), "queue": r["queue"], "number": r["cid_number"], "name": r["cid_name"],
            "wait_seconds": round(max(now - r["joined_epoch"], 0.0), 1), "ringing": sorted(at),
        })  # fmt: skip
    return out
