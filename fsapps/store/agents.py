"""Agents as the operator's rows: created, changed and taken off a tenant. One place for
``fsapps agent add`` and the HTTP API (fsapps.web.staff), which asks the policy first.

Agents are the operator's: ids are unique across tenants and an agent may serve several
(``agent_tenants``). The tenant role reads them only (row-level security), so these run
as the owner; every statement names the tenant it acts for where one is given.
"""

from __future__ import annotations

from typing import Any

import psycopg

from fsapps.store import acd
from fsapps.store.db import OperatorScope

# What an agent's offers do, as mod_callcenter's agent settings (agent_state's columns).
SETTINGS = acd.SETTINGS
# States in which the agent's phone rings or talks for a queue caller: not to be taken away.
BUSY_STATES = ("Receiving", "In a queue call")


class AgentTaken(Exception):
    """The id is somebody's already (in this tenant or another: the caller is not told which)."""


def create_agent(op: OperatorScope, agent_id: str, name: str, tenants: dict[str, int],
                 contact: str | None = None, **settings: int) -> None:  # fmt: skip
    """A new agent serving ``tenants`` (tenant -> weight), Logged Out, with its offer
    ``settings`` (max_no_answer, wrap_up_time, ...). Raises AgentTaken."""
    unknown = set(settings) - set(SETTINGS)
    if unknown:
        raise ValueError(f"unknown agent settings: {', '.join(sorted(unknown))}")
    try:
        with op.conn.transaction():  # a savepoint: a taken id leaves the caller's transaction usable
            op.add_agent(agent_id, name, tenants, contact)
    except psycopg.errors.UniqueViolation:
        raise AgentTaken(agent_id) from None
    acd.ensure_agent(op.conn, agent_id, **settings)


def change_agent(conn: Any, agent_id: str, changes: dict[str, Any]) -> None:
    """``changes``: name, contact (None clears it) and SETTINGS' keys."""
    if "name" in changes:
        conn.execute("UPDATE agents SET name = %s WHERE id = %s", (changes["name"], agent_id))
    if "contact" in changes:
        conn.execute("UPDATE agents SET contact = %s WHERE id = %s", (changes["contact"], agent_id))
    acd.ensure_agent(conn, agent_id, **{k: v for k, v in changes.items() if k in SETTINGS})


def tenants_of(conn: Any, agent_id: str) -> set[str]:
    rows = conn.execute("SELECT tenant_id FROM agent_tenants WHERE agent_id = %s", (agent_id,)).fetchall()
    return {r["tenant_id"] for r in rows}


def busy(conn: Any, agent_id: str) -> bool:
    """Whether the agent rings or talks for a queue caller now. Locks their live row until
    the transaction ends, so no controller offers them a call meanwhile (its reserve
    waits on the lock, then finds the row changed or gone)."""
    row = conn.execute(
        "SELECT state, offered_member FROM agent_state WHERE agent_id = %s FOR UPDATE", (agent_id,)
    ).fetchone()
    if row is None:
        return False
    return row["state"] in BUSY_STATES or row["offered_member"] is not None


def remove_agent(conn: Any, agent_id: str, tenant_id: str) -> bool:
    """The agent no longer serves ``tenant_id``: its phone in that tenant's directory and
    its places in the tenant's supervisors' groups go; an agent serving no other tenant is
    deleted (its live state with it). True if deleted, False if only unlinked."""
    conn.execute("DELETE FROM sip_phones WHERE tenant_id = %s AND agent_id = %s", (tenant_id, agent_id))
    conn.execute(
        "DELETE FROM supervisor_group_members WHERE tenant_id = %s AND kind = 'agent' AND member = %s",
        (tenant_id, agent_id),
    )
    conn.execute("DELETE FROM agent_tenants WHERE tenant_id = %s AND agent_id = %s", (tenant_id, agent_id))
    if tenants_of(conn, agent_id):
        return False
    conn.execute("DELETE FROM agents WHERE id = %s", (agent_id,))
    return True
