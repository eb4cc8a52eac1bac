"""The operator's roster, read for ``fsapps check``: which agents serve which
tenants, and which tenant owns each domain (tables agents, agent_tenants,
tenants). One read as the operator; the check itself takes the result as data.
"""

from __future__ import annotations

import psycopg

from fsapps.flows.model import Roster
from fsapps.flows.render import SipPhone


class RosterError(RuntimeError):
    """The database could not be read; the message is one line."""


def read_roster(dsn: str, timeout: float = 10.0) -> Roster:
    agents: dict[str, set[str]] = {}
    try:
        with psycopg.connect(dsn, connect_timeout=max(1, int(timeout)), autocommit=True) as conn:
            rows = conn.execute(
                "SELECT a.id, m.tenant_id FROM agents a LEFT JOIN agent_tenants m ON m.agent_id = a.id"
            ).fetchall()
            for agent_id, tenant_id in rows:
                served = agents.setdefault(agent_id, set())
                if tenant_id is not None:
                    served.add(tenant_id)
            domains = {d.lower(): t for t, d in conn.execute("SELECT id, domain FROM tenants").fetchall()}
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise RosterError(f"cannot read the agent roster from the database: {first}") from None
    return Roster({a: frozenset(t) for a, t in agents.items()}, domains)


def read_phones(dsn: str, timeout: float = 10.0) -> dict[str, list[SipPhone]]:
    """The agents' SIP phones the HTTP API provisioned, by tenant: ``fsapps render`` puts
    them in the tenants' directories as the API does (else a render would drop them)."""
    out: dict[str, list[SipPhone]] = {}
    try:
        with psycopg.connect(dsn, connect_timeout=max(1, int(timeout)), autocommit=True) as conn:
            rows = conn.execute("SELECT tenant_id, username, a1_hash, agent_id FROM sip_phones").fetchall()
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise RosterError(f"cannot read the agents' phones from the database: {first}") from None
    for tenant_id, user, a1_hash, agent in rows:
        out.setdefault(tenant_id, []).append(SipPhone(user, a1_hash, agent))
    return out
