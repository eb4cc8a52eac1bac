"""The SQL of the HTTP API (fsapps.web) that the other repositories do not have yet.

Sessions and token look-ups run as the owner (``store.operator()``): they come before
any tenant is known. Everything else takes a ``TenantScope``: row-level security keeps
it to that tenant's rows whatever the query says.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from fsapps.store.db import OperatorScope, TenantScope, token_digest

# --- who is asking (owner) ----------------------------------------------------------------


def open_session(op: OperatorScope, user_id: int, expires_at: datetime) -> tuple[str, str]:
    """A browser session for the user: (session id for the cookie, CSRF token). The id is
    stored as a digest only."""
    session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    op.conn.execute(
        "INSERT INTO user_sessions (session_sha256, user_id, csrf_token, expires_at) VALUES (%s, %s, %s, %s)",
        (token_digest(session_id), user_id, csrf, expires_at),
    )
    # Expired sessions of anyone go as new ones come: no sweeper to run.
    op.conn.execute("DELETE FROM user_sessions WHERE expires_at < now()")
    return session_id, csrf


def find_session(op: OperatorScope, session_id: str) -> dict[str, Any] | None:
    """The live session's user (id, username, role, tenant_id) and CSRF token."""
    return op._one(
        "SELECT u.id AS user_id, u.username, u.role, u.tenant_id, t.status AS tenant_status, s.csrf_token"
        " FROM user_sessions s JOIN users u ON u.id = s.user_id LEFT JOIN tenants t ON t.id = u.tenant_id"
        " WHERE s.session_sha256 = %s AND s.expires_at > now() AND NOT u.disabled",
        (token_digest(session_id),),
    )


def close_session(op: OperatorScope, session_id: str) -> None:
    op.conn.execute("DELETE FROM user_sessions WHERE session_sha256 = %s", (token_digest(session_id),))


def find_bearer(op: OperatorScope, token: str) -> dict[str, Any] | None:
    """The user of a live API token (not revoked, not expired, user not disabled)."""
    return op._one(
        "SELECT u.id AS user_id, u.username, u.role, u.tenant_id, tn.status AS tenant_status"
        " FROM api_tokens t JOIN users u ON u.id = t.user_id LEFT JOIN tenants tn ON tn.id = u.tenant_id"
        " WHERE t.token_sha256 = %s AND t.revoked_at IS NULL"
        " AND (t.expires_at IS NULL OR t.expires_at > now()) AND NOT u.disabled",
        (token_digest(token),),
    )


def issue_operator_token(op: OperatorScope, user_id: int, name: str) -> str:
    token = "fsa_" + secrets.token_urlsafe(32)
    op.conn.execute(
        "INSERT INTO api_tokens (user_id, tenant_id, name, token_sha256) VALUES (%s, NULL, %s, %s)",
        (user_id, name, token_digest(token)),
    )
    return token


_KEEP = object()  # a language not given: kept (None sets it back to the browser's)


def change_user(
    t: TenantScope, user_id: int, role: str | None, disabled: bool | None, language: Any = _KEEP
) -> dict[str, Any] | None:
    return t._one(
        "UPDATE users SET role = coalesce(%s, role), disabled = coalesce(%s, disabled),"
        " language = CASE WHEN %s THEN language ELSE %s END WHERE id = %s"
        " RETURNING id, username, role, disabled, language",
        (role, disabled, language is _KEEP, None if language is _KEEP else language, user_id),
    )


def tokens(t: TenantScope, user_id: int) -> list[dict[str, Any]]:
    """A user's API tokens, without the tokens (only digests are kept, and not shown)."""
    return t._all(
        "SELECT id, name, created_at, expires_at, revoked_at FROM api_tokens WHERE user_id = %s ORDER BY id",
        (user_id,),
    )


def revoke_token(t: TenantScope, user_id: int, token_id: int) -> bool:
    cur = t.conn.execute(
        "UPDATE api_tokens SET revoked_at = now() WHERE id = %s AND user_id = %s AND revoked_at IS NULL",
        (token_id, user_id),
    )
    return cur.rowcount == 1


# --- what a tenant's user looks after (tenant) -------------------------------------------


def own_agent(t: TenantScope, user_id: int) -> str | None:
    row = t._one("SELECT id FROM agents WHERE user_id = %s ORDER BY id LIMIT 1", (user_id,))
    return row["id"] if row else None


def supervised(t: TenantScope, user_id: int) -> tuple[frozenset[str], frozenset[str]]:
    """The queues and agents of the groups this user supervises."""
    rows = t._all(
        "SELECT m.kind, m.member FROM supervisor_group_members m"
        " JOIN supervisor_group_members s ON s.group_name = m.group_name AND s.kind = 'supervisor'"
        " WHERE s.member = %s AND m.kind IN ('queue', 'agent')",
        (str(user_id),),
    )
    return (
        frozenset(r["member"] for r in rows if r["kind"] == "queue"),
        frozenset(r["member"] for r in rows if r["kind"] == "agent"),
    )


def groups(t: TenantScope) -> list[dict[str, Any]]:
    rows = t._all(
        "SELECT g.name, m.kind, m.member FROM supervisor_groups g"
        " LEFT JOIN supervisor_group_members m ON m.group_name = g.name ORDER BY g.name, m.kind, m.member"
    )
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        g = out.setdefault(r["name"], {"name": r["name"], "supervisors": [], "agents": [], "queues": []})
        if r["kind"]:
            g[r["kind"] + "s"].append(int(r["member"]) if r["kind"] == "supervisor" else r["member"])
    return list(out.values())


def put_group(
    t: TenantScope, name: str, supervisors: list[int], agents: list[str], queues: list[str]
) -> None:
    t.conn.execute(
        "INSERT INTO supervisor_groups (tenant_id, name) VALUES (%s, %s) ON CONFLICT DO NOTHING",
        (t.tenant_id, name),
    )
    t.conn.execute("DELETE FROM supervisor_group_members WHERE group_name = %s", (name,))
    members = [("supervisor", str(s)) for s in supervisors] + [("agent", a) for a in agents]
    members += [("queue", q) for q in queues]
    with t.conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO supervisor_group_members (tenant_id, group_name, kind, member)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
            [(t.tenant_id, name, kind, member) for kind, member in members],
        )


# --- agents ------------------------------------------------------------------------------------

AGENT_COLUMNS = (
    "a.id, a.name, a.contact, a.user_id, m.weight, coalesce(s.status, 'Logged Out') AS status,"
    " coalesce(s.state, 'Waiting') AS state, coalesce(s.break_reason, '') AS break_reason,"
    " coalesce(s.skills, '{}'::jsonb) AS skills, s.last_status_change,"
    # what fsapps.acd.figures.activity reads: since when the agent does what they do
    " s.last_bridge_start, s.last_bridge_end, s.last_offered_call,"
    " s.max_no_answer, s.wrap_up_time, s.reject_delay_time, s.busy_delay_time, s.no_answer_delay_time,"
    # a call no queue made (fsapps.acd.direct_calls): the earliest still going
    " d.answered_epoch AS direct_call_since, d.number AS direct_call_number,"
    " d.direction AS direct_call_direction"
)
DIRECT_CALL = (
    " LEFT JOIN LATERAL (SELECT answered_epoch, number, direction FROM agent_direct_calls"
    " WHERE agent_id = a.id ORDER BY answered_epoch LIMIT 1) d ON true"
)


def agents(t: TenantScope, only: frozenset[str] | None = None) -> list[dict[str, Any]]:
    return t._all(
        f"SELECT {AGENT_COLUMNS} FROM agents a JOIN agent_tenants m ON m.agent_id = a.id"
        " LEFT JOIN agent_state s ON s.agent_id = a.id" + DIRECT_CALL +
        " WHERE %s::text[] IS NULL OR a.id = ANY(%s::text[]) ORDER BY a.id",
        (None if only is None else sorted(only),) * 2,
    )


def agent_tenants(op: OperatorScope) -> dict[str, frozenset[str]]:
    """Every agent and the tenants it serves (what a tenant's agents list joins on)."""
    out: dict[str, set[str]] = {}
    for r in op._all("SELECT agent_id, tenant_id FROM agent_tenants"):
        out.setdefault(r["agent_id"], set()).add(r["tenant_id"])
    return {a: frozenset(t) for a, t in out.items()}


def agent(t: TenantScope, agent_id: str) -> dict[str, Any] | None:
    return t._one(
        f"SELECT {AGENT_COLUMNS} FROM agents a JOIN agent_tenants m ON m.agent_id = a.id"
        " LEFT JOIN agent_state s ON s.agent_id = a.id" + DIRECT_CALL + " WHERE a.id = %s",
        (agent_id,),
    )


def set_skills(t: TenantScope, agent_id: str, skills: dict[str, int]) -> None:
    from psycopg.types.json import Jsonb

    t.conn.execute("INSERT INTO agent_state (agent_id) VALUES (%s) ON CONFLICT DO NOTHING", (agent_id,))
    t.conn.execute("UPDATE agent_state SET skills = %s WHERE agent_id = %s", (Jsonb(skills), agent_id))


# --- queues' live state -------------------------------------------------------------------


def waiting(t: TenantScope, queue: str) -> list[dict[str, Any]]:
    """The callers in the queue: waiting, ringing an agent, or talking to one."""
    return t._all(
        "SELECT uuid, cid_number, cid_name, state, priority, base_score, joined_epoch, system_epoch,"
        " serving_agent FROM queue_members WHERE queue = %s AND state IN ('Waiting', 'Trying', 'Answered')",
        (queue,),
    )


def set_priority(t: TenantScope, queue: str, member: str, priority: int) -> bool:
    cur = t.conn.execute(
        "UPDATE queue_members SET priority = %s"
        " WHERE uuid = %s AND queue = %s AND state IN ('Waiting', 'Trying')",
        (priority, member, queue),
    )
    if cur.rowcount:
        t.conn.execute("SELECT pg_notify('fsapps_acd', '')")  # the dispatcher re-reads the order
    return cur.rowcount == 1


def live_calls(t: TenantScope) -> list[dict[str, Any]]:
    """The tenant's callers in its queues, oldest first: the agent on the call (and its leg)
    and the agents their call rings at (a shared agent's row shows for each tenant it serves,
    but only this tenant's callers are here)."""
    return t._all(
        "SELECT m.uuid, m.queue, m.cid_number, m.cid_name, m.state, m.priority, m.joined_epoch, m.transfer,"
        " talking.agent_id AS agent, talking.agent_leg,"
        " coalesce((SELECT array_agg(r.agent_id ORDER BY r.agent_id) FROM agent_state r"
        "   WHERE r.offered_member = m.uuid AND r.state = 'Receiving'), '{}') AS ringing"
        " FROM queue_members m LEFT JOIN agent_state talking ON talking.offered_member = m.uuid"
        "   AND talking.state = 'In a queue call'"
        " WHERE m.state IN ('Waiting', 'Trying', 'Answered') ORDER BY m.joined_epoch, m.uuid"
    )


# --- calls ---------------------------------------------------------------------------------------


def cdrs(t: TenantScope, limit: int, agent: str | None = None) -> list[dict[str, Any]]:
    """The newest legs; with ``agent``, every leg of the calls that agent was on."""
    return t._all(
        "SELECT * FROM cdrs WHERE %s::text IS NULL"
        " OR call_uuid IN (SELECT call_uuid FROM cdrs WHERE agent_id = %s)"
        " ORDER BY started_at DESC, leg LIMIT %s",
        (agent, agent, limit),
    )


# --- recordings ---------------------------------------------------------------------------------

RECORDING_COLUMNS = (
    "event_id AS id, call_uuid, queue, agent_id, caller, joined_at, ended_at, talk_seconds, recording,"
    " outcome,"
    " (SELECT round(avg(s.score), 2) FROM survey_answers s WHERE s.call_uuid = queue_calls.call_uuid"
    "   AND s.score IS NOT NULL) AS survey_score"
)


def recordings(t: TenantScope, *, call: str | None, agent: str | None, number: str | None,
               start: datetime | None, end: datetime | None, limit: int,
               queues: frozenset[str] | None = None, queue: str | None = None, outcome: str | None = None,
               survey_min: int | None = None,
               survey_max: int | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Recorded queue calls, newest first, by the call, the agent, the caller's number,
    when they joined the queue ([start, end)), the queue, the outcome and the caller's
    mean survey score (within [survey_min, survey_max]); ``queues``: only these queues'."""
    rows: list[Any] = list(t.conn.execute(
        f"SELECT * FROM (SELECT {RECORDING_COLUMNS} FROM queue_calls WHERE recording IS NOT NULL"
        " AND (%(queue)s::text IS NULL OR queue = %(queue)s)"
        " AND (%(outcome)s::text IS NULL OR outcome = %(outcome)s)"
        " AND (%(call)s::uuid IS NULL OR call_uuid = %(call)s::uuid)"
        " AND (%(agent)s::text IS NULL OR agent_id = %(agent)s)"
        " AND (%(number)s::text IS NULL OR caller = %(number)s)"
        " AND (%(start)s::timestamptz IS NULL OR joined_at >= %(start)s)"
        " AND (%(end)s::timestamptz IS NULL OR joined_at < %(end)s)"
        " AND (%(queues)s::text[] IS NULL OR queue = ANY(%(queues)s::text[]))) r"
        " WHERE (%(smin)s::int IS NULL OR r.survey_score >= %(smin)s)"
        " AND (%(smax)s::int IS NULL OR r.survey_score <= %(smax)s)"
        " ORDER BY joined_at DESC, id LIMIT %(limit)s",
        {"call": call, "agent": agent, "number": number, "start": start, "end": end, "limit": limit,
         "queues": None if queues is None else sorted(queues), "queue": queue, "outcome": outcome,
         "smin": survey_min, "smax": survey_max},
    ).fetchall())  # fmt: skip
    return rows


def recording(t: TenantScope, recording_id: str) -> dict[str, Any] | None:
    return t._one(
        f"SELECT {RECORDING_COLUMNS} FROM queue_calls WHERE event_id = %s AND recording IS NOT NULL",
        (recording_id,),
    )


# --- agents' SIP phones (owner: written with the agent's contact, read for rendering) ----------


def sip_phones(conn: Any) -> dict[str, list[Any]]:
    """Every tenant's provisioned phones, as fsapps.flows.render takes them."""
    from fsapps.flows.render import SipPhone

    out: dict[str, list[Any]] = {}
    for r in conn.execute("SELECT tenant_id, username, a1_hash, agent_id FROM sip_phones").fetchall():
        out.setdefault(r["tenant_id"], []).append(SipPhone(r["username"], r["a1_hash"], r["agent_id"]))
    return out


def provision_phone(conn: Any, tenant_id: str, username: str, agent_id: str, a1_hash: str,
                    contact: str) -> bool:  # fmt: skip
    """The agent's phone in the tenant (one each: a new one replaces theirs) and their
    contact; False when another agent has that username."""
    taken = conn.execute(
        "SELECT agent_id FROM sip_phones WHERE tenant_id = %s AND username = %s", (tenant_id, username)
    ).fetchone()
    if taken is not None and taken["agent_id"] != agent_id:
        return False
    conn.execute("DELETE FROM sip_phones WHERE tenant_id = %s AND agent_id = %s", (tenant_id, agent_id))
    conn.execute(
        "INSERT INTO sip_phones (tenant_id, username, agent_id, a1_hash) VALUES (%s, %s, %s, %s)",
        (tenant_id, username, agent_id, a1_hash),
    )
    conn.execute("UPDATE agents SET contact = %s WHERE id = %s", (contact, agent_id))
    return True


# --- callbacks ------------------------------------------------------------------------------


def callbacks(t: TenantScope, status: str, queues: frozenset[str] | None = None) -> list[dict[str, Any]]:
    return t._all(
        "SELECT event_id, number, queue, queue_entered_at, requested_at, call_uuid, status, claimed_by,"
        " claimed_at FROM callback_requests WHERE status = %s"
        " AND (%s::text[] IS NULL OR queue = ANY(%s::text[]))"
        " ORDER BY coalesce(queue_entered_at, requested_at), event_id",
        (status, *(None if queues is None else sorted(queues),) * 2),
    )


def callback(t: TenantScope, event_id: str) -> dict[str, Any] | None:
    return t._one(
        "SELECT event_id, number, queue, status, claimed_by FROM callback_requests WHERE event_id = %s"
        " FOR UPDATE",
        (event_id,),
    )


def claim_callback(t: TenantScope, event_id: str, agent_id: str) -> bool:
    cur = t.conn.execute(
        "UPDATE callback_requests SET status = 'dialing', claimed_by = %s, claimed_at = now()"
        " WHERE event_id = %s AND status = 'pending'",
        (agent_id, event_id),
    )
    return cur.rowcount == 1


def finish_callback(t: TenantScope, event_id: str, status: str) -> bool:
    cur = t.conn.execute(
        "UPDATE callback_requests SET status = %s WHERE event_id = %s AND status IN ('pending', 'dialing')",
        (status, event_id),
    )
    return cur.rowcount == 1


# --- the floor's figures, and the wallboards that show them ----------------------------------


def visits_since(t: TenantScope, queues: list[str], since: datetime) -> list[dict[str, Any]]:
    """The queues' visits that ended since ``since`` (today's): queue, outcome, wait."""
    return t._all(
        "SELECT queue, outcome, wait_seconds FROM queue_calls"
        " WHERE queue = ANY(%s::text[]) AND ended_at >= %s",
        (queues, since),
    )


def waiting_members(t: TenantScope, queues: list[str]) -> list[dict[str, Any]]:
    """The callers in the queues now (waiting, ringing or talking): queue, state, when they joined."""
    return t._all(
        "SELECT queue, state, joined_epoch FROM queue_members"
        " WHERE queue = ANY(%s::text[]) AND state IN ('Waiting', 'Trying', 'Answered')",
        (queues,),
    )


def agent_states(t: TenantScope) -> list[dict[str, Any]]:
    """The tenant's agents' live state (a shared agent's row is each tenant's to see)."""
    return t._all(
        "SELECT a.id, coalesce(s.status, 'Logged Out') AS status, coalesce(s.state, 'Waiting') AS state,"
        " s.last_status_change, s.last_bridge_start, s.last_bridge_end, s.last_offered_call, s.wrap_up_time"
        " FROM agents a JOIN agent_tenants m ON m.agent_id = a.id"
        " LEFT JOIN agent_state s ON s.agent_id = a.id"
    )


WALLBOARD_PREFIX = "fsw_"  # tells a wallboard's token from a user's (fsa_) before any look-up


def issue_wallboard_token(t: TenantScope, name: str, created_by: int | None) -> tuple[int, str]:
    """A new wallboard token of the tenant: (its id, the token), the token shown once and
    stored as a digest."""
    token = WALLBOARD_PREFIX + secrets.token_urlsafe(32)
    row = t._one(
        "INSERT INTO wallboard_tokens (tenant_id, name, token_sha256, created_by) VALUES (%s, %s, %s, %s)"
        " RETURNING id",
        (t.tenant_id, name, token_digest(token), created_by),
    )
    assert row is not None
    return int(row["id"]), token


def wallboard_tokens(t: TenantScope) -> list[dict[str, Any]]:
    return t._all("SELECT id, name, created_at, revoked_at FROM wallboard_tokens ORDER BY id")


def revoke_wallboard_token(t: TenantScope, token_id: int) -> bool:
    cur = t.conn.execute(
        "UPDATE wallboard_tokens SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL", (token_id,)
    )
    return cur.rowcount == 1


def find_wallboard(op: OperatorScope, token: str) -> dict[str, Any] | None:
    """The live wallboard token's id, name and tenant (with the tenant's status)."""
    return op._one(
        "SELECT w.id, w.name, w.tenant_id, t.status AS tenant_status FROM wallboard_tokens w"
        " JOIN tenants t ON t.id = w.tenant_id WHERE w.token_sha256 = %s AND w.revoked_at IS NULL",
        (token_digest(token),),
    )
