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
