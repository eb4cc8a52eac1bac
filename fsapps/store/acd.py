"""The ACD's shared state in PostgreSQL: agent reservations that hold across
controllers, and the members waiting in queues.

Every change of an agent's state is a conditional UPDATE on its row: the
first controller to move an agent out of Waiting wins, any other sees zero
rows and moves on. No advisory locks, no leader: PostgreSQL's row lock
orders concurrent attempts (READ COMMITTED re-checks the WHERE clause
after the wait).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from fsapps.acd.model import AgentState

SETTINGS = ("max_no_answer", "wrap_up_time", "reject_delay_time", "busy_delay_time", "no_answer_delay_time")


def reserve(conn: psycopg.Connection, agent_id: str, member: str, controller: str, now: float) -> bool:
    """Waiting -> Receiving for ``member``; False when another offer got there first."""
    cur = conn.execute(
        "UPDATE agent_state SET state = %s, offered_member = %s, offered_by = %s, last_offered_call = %s"
        " WHERE agent_id = %s AND state = %s",
        (AgentState.RECEIVING, member, controller, now, agent_id, AgentState.WAITING),
    )
    return cur.rowcount == 1


def release(conn: psycopg.Connection, agent_id: str, member: str, fields: dict[str, Any]) -> bool:
    """Back from an offer (``fields``: the agent as fsapps.acd.agent_events left it),
    only if this agent is still on ``member``'s offer."""
    allowed = {
        "state", "status", "ready_time", "no_answer_count", "last_bridge_start", "last_bridge_end",
        "calls_answered", "talk_time",
    }  # fmt: skip
    sets = [k for k in fields if k in allowed]
    assignments: list[sql.Composable] = [sql.SQL("{} = %s").format(sql.Identifier(k)) for k in sets]
    if fields.get("state") != AgentState.IN_A_QUEUE_CALL:
        assignments += [sql.SQL("offered_member = NULL"), sql.SQL("offered_by = NULL")]
    query = sql.SQL("UPDATE agent_state SET {} WHERE agent_id = %s AND offered_member = %s").format(
        sql.SQL(", ").join(assignments)
    )
    cur = conn.execute(query, (*[fields[k] for k in sets], agent_id, member))
    return cur.rowcount == 1


def set_status(conn: psycopg.Connection, agent_id: str, status: str, now: float, reason: str = "") -> bool:
    cur = conn.execute(
        "UPDATE agent_state SET status = %s, break_reason = %s, last_status_change = %s WHERE agent_id = %s",
        (status, reason, now, agent_id),
    )
    return cur.rowcount == 1


def ensure_agent(conn: psycopg.Connection, agent_id: str, **settings: Any) -> None:
    conn.execute(
        "INSERT INTO agent_state (agent_id) VALUES (%s) ON CONFLICT (agent_id) DO NOTHING", (agent_id,)
    )
    for key in SETTINGS:
        if key in settings:
            query = sql.SQL("UPDATE agent_state SET {} = %s WHERE agent_id = %s").format(sql.Identifier(key))
            conn.execute(query, (settings[key], agent_id))


def claim_member(conn: psycopg.Connection, member: str, agent_id: str, controller: str) -> bool:
    """Waiting -> Trying for ``member``: the same race, on the caller's row."""
    cur = conn.execute(
        "UPDATE queue_members SET state = 'Trying', serving_agent = %s, controller = %s"
        " WHERE uuid = %s AND state = 'Waiting'",
        (agent_id, controller, member),
    )
    return cur.rowcount == 1
