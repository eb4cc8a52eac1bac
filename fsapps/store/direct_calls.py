"""Agents' direct calls (fsapps.acd.direct_calls) in ``agent_direct_calls``: noted at the
answer, forgotten at the hangup, and swept of calls the switch no longer has."""

from __future__ import annotations

from typing import Any

import psycopg

from fsapps.store.acd import _ALIVE, _alive_params


def note(conn: psycopg.Connection[Any], leg: str, agent: str, number: str, direction: str, at: float,
         origin: str) -> None:  # fmt: skip
    conn.execute(
        "INSERT INTO agent_direct_calls (leg, agent_id, number, direction, answered_epoch, origin)"
        " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (leg) DO NOTHING",
        (leg, agent, number, direction, at, origin),
    )


def forget(conn: psycopg.Connection[Any], leg: str) -> None:
    conn.execute("DELETE FROM agent_direct_calls WHERE leg = %s", (leg,))


def forget_gone(conn: psycopg.Connection[Any], origin: str, live: list[str], now: float,
                silent_for: float) -> list[str]:  # fmt: skip
    """The calls not among the switch's ``live`` channels that this controller noted, or a
    dead one did (a controller that died mid-call never saw its hangup); the others' are
    theirs to sweep (they may follow another switch). The agents they were for."""
    rows: list[Any] = conn.execute(
        "DELETE FROM agent_direct_calls WHERE NOT (leg::text = ANY(%(live)s))"
        f" AND (origin = %(origin)s OR origin NOT IN ({_ALIVE})) RETURNING agent_id",
        {**_alive_params(now, silent_for), "live": live, "origin": origin},
    ).fetchall()
    return [r["agent_id"] if isinstance(r, dict) else r[0] for r in rows]


def monitored_leg(conn: psycopg.Connection[Any], agent: str, tenant: str | None) -> str | None:
    """The agent's phone's leg of their earliest direct call still going (the one the floor
    shows), for a supervisor of ``tenant`` to listen to; None when there is none, or when the
    agent also serves another tenant: a direct call carries no tenant, so a shared agent's may
    be another tenant's customer. ``tenant`` None: the operator's, anyone's."""
    row = conn.execute(
        "SELECT d.leg::text AS leg FROM agent_direct_calls d WHERE d.agent_id = %(agent)s"
        " AND (%(tenant)s::text IS NULL OR (EXISTS (SELECT 1 FROM agent_tenants m"
        "   WHERE m.agent_id = d.agent_id AND m.tenant_id = %(tenant)s)"
        " AND NOT EXISTS (SELECT 1 FROM agent_tenants m"
        "   WHERE m.agent_id = d.agent_id AND m.tenant_id <> %(tenant)s)))"
        " ORDER BY d.answered_epoch, d.leg LIMIT 1",
        {"agent": agent, "tenant": tenant},
    ).fetchone()
    if row is None:
        return None
    return str(row["leg"] if isinstance(row, dict) else row[0])


def caller_handed(conn: psycopg.Connection[Any], leg: str, member: str) -> tuple[str, str] | None:
    """An attended transfer completed to the direct call on ``leg`` (the consulted party's):
    from now on its other party is the queue's caller ``member``, whose number it shows.
    (The agent it is for, the number), or None when the call is not noted (yet) or the
    caller is gone."""
    row = conn.execute(
        "UPDATE agent_direct_calls d SET number = COALESCE(m.cid_number, ''), direction = 'inbound'"
        " FROM queue_members m WHERE d.leg = %s AND m.uuid = %s RETURNING d.agent_id, d.number",
        (leg, member),
    ).fetchone()
    if row is None:
        return None
    return (row["agent_id"], row["number"]) if isinstance(row, dict) else (row[0], row[1])
