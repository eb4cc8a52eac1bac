"""The ACD's shared state in PostgreSQL: agent reservations that hold across
controllers, and the members waiting in queues.

Every change of an agent's state is a conditional UPDATE on its row: the
first controller to move an agent out of Waiting wins, any other sees zero
rows and moves on. No advisory locks, no leader: PostgreSQL's row lock
orders concurrent attempts (READ COMMITTED re-checks the WHERE clause
after the wait).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from fsapps.acd import relay
from fsapps.acd.model import Agent, AgentState, AgentStatus, Member, MemberState
from fsapps.acd.notifier import AgentStateChanged
from fsapps.store.literals import text_array

SETTINGS = ("max_no_answer", "wrap_up_time", "reject_delay_time", "busy_delay_time", "no_answer_delay_time")


def reserve(
    conn: psycopg.Connection, agent_id: str, member: str, controller: str, now: float, leg: str | None = None
) -> bool:
    """Waiting -> Receiving for ``member`` (the agent's phone to ring as ``leg``);
    False when another offer got there first."""
    cur = conn.execute(
        "UPDATE agent_state SET state = %s, offered_member = %s, offered_by = %s, last_offered_call = %s,"
        " agent_leg = %s WHERE agent_id = %s AND state = %s",
        (AgentState.RECEIVING, member, controller, now, leg, agent_id, AgentState.WAITING),
    )
    return cur.rowcount == 1


_RELEASED = (
    "state", "status", "ready_time", "no_answer_count", "last_bridge_start", "last_bridge_end",
    "calls_answered", "talk_time",
)  # fmt: skip
_release_queries: dict[tuple[tuple[str, ...], bool, bool], str] = {}


def release(
    conn: psycopg.Connection, agent_id: str, member: str, fields: dict[str, Any], *, wake: bool = True,
    read: bool = True,
) -> bool:
    """Back from an offer (``fields``: the agent as fsapps.acd.agent_events left it),
    only if this agent is still on ``member``'s offer. ``wake``: NOTIFY the dispatchers
    (False when the transaction notifies once for all its changes, or frees nobody).
    ``read`` False: the result is not read (True is returned), so in a pipelined
    transaction the statement goes out with the COMMIT (fsapps.store.db.Store.operator)."""
    sets = tuple(k for k in _RELEASED if k in fields)
    offered = fields.get("state") == AgentState.IN_A_QUEUE_CALL
    key = (sets, offered, wake)
    query = _release_queries.get(key)
    if query is None:
        # The few shapes a release takes, composed once each (composing is a good part of
        # a release's cost).
        assignments: list[sql.Composable] = [sql.SQL("{} = %s").format(sql.Identifier(k)) for k in sets]
        if not offered:
            assignments += [
                sql.SQL("offered_member = NULL"),
                sql.SQL("offered_by = NULL"),
                sql.SQL("agent_leg = NULL"),
            ]
        update = sql.SQL(
            "UPDATE agent_state SET {} WHERE agent_id = %s AND offered_member = %s RETURNING 1"
        ).format(sql.SQL(", ").join(assignments))
        # The NOTIFY in the same statement: one round trip, not two.
        composed = (
            sql.SQL("WITH u AS ({}) SELECT (SELECT count(*) FROM u) AS n, pg_notify(%s, '')").format(update)
            if wake
            else sql.SQL("WITH u AS ({}) SELECT count(*) AS n FROM u").format(update)
        )
        query = _release_queries[key] = composed.as_string(conn)
    params: tuple[Any, ...] = (*[fields[k] for k in sets], agent_id, member, *((CHANNEL,) if wake else ()))
    if not read:
        conn.execute(query, params)
        return True
    row: Any = conn.execute(query, params).fetchone()
    return bool(row is not None and (row["n"] if isinstance(row, dict) else row[0]) == 1)


def wrap_up_done(conn: psycopg.Connection, agent_id: str, now: float) -> bool:
    """End the agent's wrap-up at ``now`` (an On Demand agent's Idle ends too); False: no
    such agent. NOTIFYs the dispatchers and announces the change to the event streams."""
    row: Any = conn.execute(
        "UPDATE agent_state SET last_bridge_end = LEAST(last_bridge_end, %s - wrap_up_time - 0.001),"
        " state = CASE WHEN state = %s THEN %s ELSE state END WHERE agent_id = %s"
        " RETURNING state, status",
        (now, AgentState.IDLE, AgentState.WAITING, agent_id),
    ).fetchone()
    if row is None:
        return False
    notify(conn)
    # Made outside any controller's notifier: the event streams hear it from the database.
    state, status = (row["state"], row["status"]) if isinstance(row, dict) else row
    relay.announce(conn, AgentStateChanged(agent_id, state, status, now))
    return True


def set_status(conn: psycopg.Connection, agent_id: str, status: str, now: float, reason: str = "") -> bool:
    """The agent's status. Becoming Available starts their talk time, calls answered and
    no-answer count from 0, as mod_callcenter's status change does (mod_callcenter.c:1016-1021:
    agent-with-least-talk-time and agent-with-fewest-calls count from the login, and an
    agent back from max-no-answer's break has all their no-answers again).
    last_status_change moves only when the status does (there, any status but Available
    moves it even unchanged): a second logout of a logged-out agent is not when their
    queues lost them (max-wait-time-with-no-agent counts from it)."""
    changed = "status <> %(status)s"
    fresh = f"%(status)s = '{AgentStatus.AVAILABLE}' AND {changed}"
    cur = conn.execute(
        "UPDATE agent_state SET status = %(status)s, break_reason = %(reason)s,"
        f" last_status_change = CASE WHEN {changed} THEN %(now)s ELSE last_status_change END,"
        f" talk_time = CASE WHEN {fresh} THEN 0 ELSE talk_time END,"
        f" calls_answered = CASE WHEN {fresh} THEN 0 ELSE calls_answered END,"
        f" no_answer_count = CASE WHEN {fresh} THEN 0 ELSE no_answer_count END"
        " WHERE agent_id = %(agent)s RETURNING state, status",
        {"status": status, "reason": reason, "now": now, "agent": agent_id},
    )
    row = cur.fetchone()
    notify(conn)
    if row is not None:
        # No notifier saw this change (the CLI's, the API's): the event streams learn it from
        # the database, once this transaction commits.
        state, status = (row["state"], row["status"]) if isinstance(row, dict) else row
        relay.announce(conn, AgentStateChanged(agent_id, state, status, now))
    return row is not None


def ensure_agent(conn: psycopg.Connection, agent_id: str, **settings: Any) -> None:
    conn.execute(
        "INSERT INTO agent_state (agent_id) VALUES (%s) ON CONFLICT (agent_id) DO NOTHING", (agent_id,)
    )
    for key in SETTINGS:
        if key in settings:
            query = sql.SQL("UPDATE agent_state SET {} = %s WHERE agent_id = %s").format(sql.Identifier(key))
            conn.execute(query, (settings[key], agent_id))


def claim_member(
    conn: psycopg.Connection,
    member: str,
    agent_id: str,
    controller: str,
    *,
    now: float = 0,
    tier: tuple[int, int] | None = None,
    adding: bool = False,
) -> bool:
    """Waiting -> Trying for ``member``: the same race, on the caller's row. ``tier``: the
    (level, position) of the agent offered, where top-down goes on from; ``now``: when
    (ring-progressively's next agent waits from it). ``adding``: another agent joins
    the ringing of a caller this controller already has Trying (ring-progressively)."""
    level, position = tier if tier is not None else (None, None)
    cur = conn.execute(
        "UPDATE queue_members SET state = 'Trying', serving_agent = %s, controller = %s,"
        " last_originated = %s, last_tier_level = coalesce(%s, last_tier_level),"
        " last_tier_position = coalesce(%s, last_tier_position)"
        " WHERE uuid = %s AND (state = 'Waiting' OR (%s AND state = 'Trying' AND controller = %s))"
        # A caller being moved to another queue is offered nothing more here.
        " AND NOT coalesce(transfer ? 'move', false)",
        (agent_id, controller, now, level, position, member, adding, controller),
    )
    return cur.rowcount == 1


# --- a pass's offers, in one statement -----------------------------------------------------
#
# A dispatcher makes all of its pass's offers in one statement, committed as it runs: the
# agents offered are locked first (FOR UPDATE, in agent order), then the callers' rows
# claimed, then the agents reserved for the callers claimed, the order the transitions'
# transactions take too (free_the_dead takes the callers first, but only agents no pass
# can lock: they are offered, not Waiting). A row another transaction holds is skipped, not waited for:
# that agent is being offered, released or changed elsewhere, and the caller waits for the
# next pass (which that transaction's wake-up or end brings), so two controllers never
# wait on each other's offers. One statement is one round trip: as three statements and a
# COMMIT it took three, each a wait for a core on a loaded machine.

OFFERS = (
    "WITH o AS ("
    "  SELECT * FROM unnest(%(offer)s::int[], %(member)s::uuid[], %(agent)s::text[], %(leg)s::uuid[],"
    "    %(level)s::int[], %(position)s::int[], %(adding)s::bool[])"
    "    WITH ORDINALITY AS o(offer, member, agent, leg, level, position, adding, rank)"
    "), free AS ("
    "  SELECT agent_id FROM agent_state WHERE agent_id = ANY(%(agents)s::text[]) AND state = 'Waiting'"
    "  ORDER BY agent_id FOR UPDATE SKIP LOCKED"
    # One pass offers an agent to one caller: the first offer that names them.
    "), won AS ("
    "  SELECT DISTINCT ON (o.agent) o.* FROM o JOIN free ON free.agent_id = o.agent"
    "  ORDER BY o.agent, o.offer, o.rank"
    # The caller's row names the first of their agents won, and that agent's tier.
    "), first AS ("
    "  SELECT DISTINCT ON (member) member, agent, level, position, adding FROM won ORDER BY member, rank"
    "), claimed AS ("
    "  UPDATE queue_members q SET state = 'Trying', serving_agent = f.agent, controller = %(c)s,"
    "    last_originated = %(now)s, last_tier_level = coalesce(f.level, q.last_tier_level),"
    "    last_tier_position = coalesce(f.position, q.last_tier_position)"
    "  FROM first f WHERE q.uuid = f.member"
    "  AND (q.state = 'Waiting' OR (f.adding AND q.state = 'Trying' AND q.controller = %(c)s))"
    # A caller being moved to another queue is offered nothing more here; one a pickup is
    # taking from the agents it rings gets no agent added (the picking agent is theirs).
    "  AND NOT coalesce(q.transfer ? 'move', false)"
    "  AND NOT (f.adding AND coalesce(q.transfer ? 'pickup', false))"
    "  RETURNING q.uuid"
    ")"
    " UPDATE agent_state s SET state = 'Receiving', offered_member = w.member, offered_by = %(c)s,"
    " last_offered_call = %(now)s, agent_leg = w.leg"
    " FROM won w JOIN claimed ON claimed.uuid = w.member"
    " WHERE s.agent_id = w.agent AND s.state = 'Waiting'"
    " RETURNING w.member::text AS member, s.agent_id, w.leg::text AS leg"
)


@dataclass(frozen=True)
class OfferPlan:
    """One caller's offer as a pass makes it: ``legs`` (agent -> the leg's uuid) in the order
    the offer rings them, ``tiers`` each agent's (level, position) where known, ``adding``:
    another agent joins a ring this controller already has going (ring-progressively)."""

    member: str
    legs: dict[str, str]
    tiers: dict[str, tuple[int, int]]
    adding: bool = False


def make_offers(
    conn: psycopg.Connection, plans: list[OfferPlan], controller: str, now: float
) -> dict[str, dict[str, str]]:
    """A pass's offers, in the pass's order: member -> the agents reserved for them (agent ->
    leg, in the offer's order). A caller who left or was answered meanwhile is claimed by
    nobody and gets none; an agent not Waiting, or held by another transaction, is skipped."""
    return send_offers(conn, plans, controller, now)()


def send_offers(
    conn: psycopg.Connection, plans: list[OfferPlan], controller: str, now: float
) -> Callable[[], dict[str, dict[str, str]]]:
    """make_offers, its statement sent now and its result read by the function returned:
    in a pipeline, read once the pipeline has synced, so that the statement, its COMMIT
    and its result take one round trip."""
    rows: list[tuple[int, str, str, str, tuple[int, int] | None, bool]] = [
        (i, p.member, agent, leg, p.tiers.get(agent), p.adding)
        for i, p in enumerate(plans) for agent, leg in p.legs.items()
    ]  # fmt: skip
    if not rows:
        return dict
    cur = conn.execute(
        OFFERS,
        {
            "offer": [r[0] for r in rows], "member": [r[1] for r in rows],
            "agent": text_array(r[2] for r in rows), "leg": [r[3] for r in rows],
            "level": [r[4][0] if r[4] else None for r in rows],
            "position": [r[4][1] if r[4] else None for r in rows],
            "adding": [r[5] for r in rows], "agents": text_array(sorted({r[2] for r in rows})),
            "c": controller, "now": now,
        },
    )  # fmt: skip

    def read() -> dict[str, dict[str, str]]:
        got: list[Any] = cur.fetchall()
        reserved = {(r["member"], r["agent_id"]) for r in got}
        out: dict[str, dict[str, str]] = {}
        for p in plans:
            member = str(uuid.UUID(p.member))  # as PostgreSQL writes it back
            legs = {a: leg for a, leg in p.legs.items() if (member, a) in reserved}
            if legs:
                out[p.member] = legs
        return out

    return read


def rewind_member(conn: psycopg.Connection, member: str) -> None:
    """top-down: the caller starts again from the first tier (fsapps.acd.decide.Rewind)."""
    conn.execute(
        "UPDATE queue_members SET last_tier_level = 0, last_tier_position = 0 WHERE uuid = %s", (member,)
    )


# --- members: callers waiting in queues ---------------------------------------------

CHANNEL = "fsapps_acd"  # NOTIFY channel: something changed that may make an offer possible


def notify(conn: psycopg.Connection, what: str = "") -> None:
    """Wake every controller's dispatcher when this transaction commits."""
    conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, what))


# The account owner of the tenant's customer who has this number (one look-up by the
# customer_numbers primary key, as the caller joins; an owner who stopped serving the
# tenant is no longer one: the foreign key set it to NULL).
ACCOUNT_OWNER = (
    "SELECT c.owner_agent FROM customer_numbers n JOIN customers c ON c.id = n.customer_id"
    " WHERE n.tenant_id = %s AND n.number = %s"
)


# In a join's ON CONFLICT: the row moves to the joining queue (a resumed caller, see there).
_MOVES = "q.state <> 'Answered' AND q.queue <> EXCLUDED.queue"


def send_join(
    conn: psycopg.Connection,
    m: Member,
    tenant_id: str,
    queue: str,
    controller: str,
    cid_number: str,
    cid_name: str,
    now: float,
    resume_within: float = 0,
    *,
    wake: bool = True,
    completing: bool = False,
) -> Callable[[], tuple[float, str, str | None]]:
    """Put the caller in the queue, or back in it; the function returned reads (joined_epoch,
    state before, account owner), in a pipeline once it has synced (the statement, its COMMIT and its
    result in one round trip): a caller another controller was serving keeps their row (state before Waiting,
    Trying or Answered); with ``resume_within``, one who abandoned that recently from the
    same number gets their old place back (abandoned-resume-allowed). A caller with no
    account manager from the flow gets their customer's account owner (the CRM's), found
    by their number: the queue's sticky rule then rings that agent first. ``wake``: NOTIFY
    the dispatchers in the same statement (False: the caller wakes them after the commit,
    fsapps.acd.wakeup). ``completing``: the caller comes back from an answered visit the
    channel notes (fsapps.acd.visit NOTED_VISIT): their row is Answered, in its own queue,
    whatever it said (its visit's database failed as the agent answered), or written so if
    gone, so that no offer is made to the caller before the visit is completed."""
    joined = m.joined_epoch
    if resume_within > 0 and cid_number:
        row = conn.execute(
            "DELETE FROM queue_members WHERE uuid = (SELECT uuid FROM queue_members"
            " WHERE tenant_id = %s AND queue = %s AND cid_number = %s AND state = 'Abandoned'"
            " AND abandoned_epoch >= %s AND uuid <> %s ORDER BY abandoned_epoch DESC LIMIT 1)"
            " RETURNING joined_epoch",
            (tenant_id, queue, cid_number, now - resume_within, m.uuid),
        ).fetchone()
        if row is not None:
            joined = _first(row)
    # With ``wake``, the NOTIFY in the same statement: one round trip.
    cur = conn.execute(
        "WITH before AS (SELECT state FROM queue_members WHERE uuid = %s), placed AS ("
        " INSERT INTO queue_members AS q (uuid, tenant_id, queue, joined_epoch, priority, base_score, skills,"
        "   owner_agent, private_agent, controller, cid_number, cid_name, system_epoch, state)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, coalesce(%s, (" + ACCOUNT_OWNER + ")), %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (uuid) DO UPDATE SET controller = EXCLUDED.controller,"
        "   state = CASE WHEN q.state = 'Answered' OR %s THEN 'Answered' ELSE 'Waiting' END,"
        # A caller resumed at their flow's queue node after an agent moved them to another
        # queue waits in the node's queue, their place kept: the row where the caller is held
        # (fsapps.acd.rowsync), and without what the other queue's visit left on it (the
        # tiers tried, the last originate, a note). An Answered visit is completed as it was,
        # in its own queue.
        "   queue = CASE WHEN q.state = 'Answered' OR %s THEN q.queue ELSE EXCLUDED.queue END,"
        "   last_tier_level = CASE WHEN " + _MOVES + " THEN 0 ELSE q.last_tier_level END,"
        "   last_tier_position = CASE WHEN " + _MOVES + " THEN 0 ELSE q.last_tier_position END,"
        "   last_originated = CASE WHEN " + _MOVES + " THEN 0 ELSE q.last_originated END,"
        "   transfer = CASE WHEN " + _MOVES + " OR coalesce(q.transfer ? 'pickup', false) THEN NULL"
        " ELSE q.transfer END,"
        "   serving_agent = CASE WHEN " + _MOVES + " THEN NULL ELSE q.serving_agent END"
        " RETURNING q.joined_epoch, q.owner_agent)"
        " SELECT placed.joined_epoch, placed.owner_agent, (SELECT state FROM before) AS before"
        + (", pg_notify(%s, '') AS woken" if wake else "")
        + " FROM placed",
        (
            m.uuid,
            m.uuid,
            tenant_id,
            queue,
            joined,
            m.priority,
            m.base_score,
            Jsonb(m.skills),
            m.owner_agent,
            tenant_id,
            cid_number,
            m.private_agent,
            controller,
            cid_number,
            cid_name,
            m.system_epoch,
            MemberState.ANSWERED if completing else MemberState.WAITING,
            completing,
            completing,
            *((CHANNEL,) if wake else ()),
        ),
    )

    def read() -> tuple[float, str, str | None]:
        joined_row: Any = cur.fetchone()
        assert joined_row is not None  # INSERT ... ON CONFLICT DO UPDATE always returns the row
        return float(joined_row["joined_epoch"]), joined_row["before"] or "", joined_row["owner_agent"]

    return read



@dataclass(frozen=True)
class OwnRows:
    """A controller's rows as fsapps.acd.rowsync compares them with its memory."""

    members: dict[str, str]  # member -> state, of its callers' rows in play
    queues: dict[str, tuple[str, str]]  # member -> (tenant, queue) of the same rows
    offered: list[tuple[str, str, str]]  # (agent, member, leg) of the agents Receiving for its offers
    talking: list[tuple[str, str]]  # (agent, member) of the agents In a queue call with its callers


def own_rows(conn: psycopg.Connection, controller: str) -> OwnRows:
    """``controller``'s callers' rows in play and the agents its offers hold."""
    members: list[Any] = conn.execute(
        "SELECT uuid::text AS m, state, tenant_id, queue FROM queue_members WHERE controller = %s"
        " AND state IN ('Waiting', 'Trying', 'Answered')",
        (controller,),
    ).fetchall()
    agents: list[Any] = conn.execute(
        "SELECT agent_id, state, offered_member::text AS m, coalesce(agent_leg::text, '') AS leg"
        " FROM agent_state WHERE offered_by = %s AND state IN ('Receiving', 'In a queue call')"
        " AND offered_member IS NOT NULL",
        (controller,),
    ).fetchall()
    return OwnRows(
        {r["m"]: r["state"] for r in members},
        {r["m"]: (r["tenant_id"], r["queue"]) for r in members},
        [(r["agent_id"], r["m"], r["leg"]) for r in agents if r["state"] == "Receiving"],
        [(r["agent_id"], r["m"]) for r in agents if r["state"] != "Receiving"],
    )


@dataclass(frozen=True)
class HeldCaller:
    """A caller a controller holds, as its row should read (fsapps.acd.rowsync)."""

    member: Member
    tenant_id: str
    queue: str
    cid_number: str
    cid_name: str
    state: str  # Waiting, Trying (its offer rings) or Answered


def restore_member(conn: psycopg.Connection, controller: str, h: HeldCaller) -> bool:
    """The row of a caller ``controller`` holds, written back where missing, with the
    joined time it holds (their place); False when a row was there."""
    m = h.member
    row = conn.execute(
        "INSERT INTO queue_members (uuid, tenant_id, queue, joined_epoch, state, priority, base_score,"
        " skills, owner_agent, private_agent, controller, cid_number, cid_name, system_epoch)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (uuid) DO NOTHING RETURNING 1",
        (
            m.uuid, h.tenant_id, h.queue, m.joined_epoch, h.state, m.priority, m.base_score,
            Jsonb(m.skills), m.owner_agent, m.private_agent, controller, h.cid_number, h.cid_name,
            m.system_epoch,
        ),
    ).fetchone()  # fmt: skip
    return row is not None


def replace_member(
    conn: psycopg.Connection, controller: str, h: HeldCaller, seen: tuple[str, str, str]
) -> bool:
    """The row of a caller ``controller`` holds, made the visit it holds: ``seen`` (tenant,
    queue, state) is the earlier visit's row as rowsync saw it (another queue, or Answered),
    which only then is replaced; a visit's own change since (an answer, a leave) stands.
    What belonged to the earlier visit (its transfer note, tiers tried, and but for a caller
    held as answered its serving agent) goes with it."""
    m = h.member
    row = conn.execute(
        "UPDATE queue_members SET queue = %s, joined_epoch = %s, state = %s, priority = %s,"
        " base_score = %s, skills = %s, owner_agent = %s, private_agent = %s, cid_number = %s,"
        " cid_name = %s, system_epoch = %s, abandoned_epoch = 0, transfer = NULL,"
        " serving_agent = CASE WHEN %s = 'Answered' THEN serving_agent END,"
        " last_tier_level = 0, last_tier_position = 0, last_originated = 0"
        " WHERE uuid = %s AND controller = %s AND tenant_id = %s AND queue = %s AND state = %s"
        " RETURNING 1",
        (
            h.queue, m.joined_epoch, h.state, m.priority, m.base_score, Jsonb(m.skills), m.owner_agent,
            m.private_agent, h.cid_number, h.cid_name, m.system_epoch, h.state, m.uuid, controller, *seen,
        ),
    ).fetchone()  # fmt: skip
    return row is not None


def remove_own_member(conn: psycopg.Connection, controller: str, member: str) -> bool:
    """A row of ``controller``'s still Waiting or Trying that no caller there holds: gone."""
    row = conn.execute(
        "DELETE FROM queue_members WHERE uuid = %s AND controller = %s AND state IN ('Waiting', 'Trying')"
        " RETURNING 1",
        (member, controller),
    ).fetchone()
    return row is not None


def member_waits_again(conn: psycopg.Connection, controller: str, member: str) -> bool:
    """A caller of ``controller``'s whose ring is over but whose row says Trying: Waiting."""
    row = conn.execute(
        "UPDATE queue_members SET state = 'Waiting' WHERE uuid = %s AND controller = %s AND state = 'Trying'"
        " RETURNING 1",
        (member, controller),
    ).fetchone()
    return row is not None


def free_offered(conn: psycopg.Connection, controller: str, agent_id: str, member: str) -> str | None:
    """An agent Receiving for a caller of ``controller``'s whose ring is over: Waiting.
    Returns their status (None: no such agent)."""
    row = conn.execute(
        "UPDATE agent_state SET state = 'Waiting', offered_member = NULL, offered_by = NULL,"
        " agent_leg = NULL WHERE agent_id = %s AND offered_by = %s AND offered_member = %s"
        " AND state = 'Receiving' RETURNING status",
        (agent_id, controller, member),
    ).fetchone()
    return None if row is None else str(_first(row))


def _first(row: Any) -> Any:
    return next(iter(row.values()))


def ask_transfer(conn: psycopg.Connection, member: str, where: dict[str, Any]) -> str | None:
    """Note where the caller goes next; returns their tenant (None: not in a queue)."""
    row = conn.execute(
        "UPDATE queue_members SET transfer = %s WHERE uuid = %s RETURNING tenant_id", (Jsonb(where), member)
    ).fetchone()
    return None if row is None else _first(row)


def note_pickup(conn: psycopg.Connection, member: str, note: dict[str, Any]) -> bool | None:
    """Note a pickup on the ringing caller's row, unless a note is there already (another
    pickup taking the call, which would leave its agent reserved for nothing): True noted,
    False refused, None when the caller is not in a queue."""
    row = conn.execute(
        "WITH r AS (SELECT uuid, transfer FROM queue_members WHERE uuid = %s FOR UPDATE),"
        " u AS (UPDATE queue_members q SET transfer = %s FROM r WHERE q.uuid = r.uuid"
        "   AND r.transfer IS NULL RETURNING q.uuid)"
        " SELECT (SELECT count(*) FROM u) AS noted FROM r",
        (member, Jsonb(note)),
    ).fetchone()
    return None if row is None else bool(_first(row))


def ask_move(conn: psycopg.Connection, tenant_id: str, queue: str, member: str, to: str) -> bool:
    """Note that the waiting caller goes to queue ``to``: the dispatcher of the controller
    holding them takes them out of ``queue`` on its next pass (fsapps.acd.decide). False
    when they are not waiting there (ringing an agent, talking, gone, being moved)."""
    cur = conn.execute(
        "UPDATE queue_members SET transfer = %s WHERE uuid = %s AND tenant_id = %s AND queue = %s"
        " AND state = 'Waiting' AND transfer IS NULL",
        (Jsonb({"move": to}), member, tenant_id, queue),
    )
    if cur.rowcount:
        notify(conn)
    return cur.rowcount == 1


def take_transfer(conn: psycopg.Connection, member: str, joined_epoch: float) -> dict[str, Any] | None:
    row = conn.execute(
        "UPDATE queue_members SET transfer = NULL WHERE uuid = %s AND joined_epoch = %s"
        " AND transfer IS NOT NULL RETURNING (SELECT transfer FROM queue_members WHERE uuid = %s)",
        (member, joined_epoch, member),
    ).fetchone()
    return None if row is None else dict(_first(row))


def placed_in(conn: psycopg.Connection, tenant_id: str, member: str) -> str | None:
    """The queue of ``tenant_id``'s where the caller has a place now (Waiting, Trying or
    Answered), if any."""
    row = conn.execute(
        "SELECT queue FROM queue_members WHERE uuid = %s AND tenant_id = %s"
        " AND state IN ('Waiting', 'Trying', 'Answered')",
        (member, tenant_id),
    ).fetchone()
    return None if row is None else str(_first(row))


def peek_transfer(conn: psycopg.Connection, member: str) -> dict[str, Any] | None:
    """The note on the caller's row, left in place (a consult stays noted while it runs)."""
    row = conn.execute("SELECT transfer FROM queue_members WHERE uuid = %s", (member,)).fetchone()
    return None if row is None or _first(row) is None else dict(_first(row))


def consult_step(conn: psycopg.Connection, member: str, leg: str, step: str | None) -> bool:
    """Move the consult on ``leg`` to ``step`` (complete, cancel), or drop its note (None);
    False when the row notes no consult on that leg."""
    if step is None:
        cur = conn.execute(
            "UPDATE queue_members SET transfer = NULL WHERE uuid = %s AND transfer->>'consult' = %s",
            (member, leg),
        )
    else:
        cur = conn.execute(
            "UPDATE queue_members SET transfer = jsonb_set(transfer, '{step}', to_jsonb(%s::text))"
            " WHERE uuid = %s AND transfer->>'consult' = %s",
            (step, member, leg),
        )
    return cur.rowcount == 1


def drop_transfer(conn: psycopg.Connection, member: str, where: dict[str, Any]) -> bool:
    """Take back a note this operation made, if it is still the one on the row."""
    cur = conn.execute(
        "UPDATE queue_members SET transfer = NULL WHERE uuid = %s AND transfer = %s", (member, Jsonb(where))
    )
    return cur.rowcount == 1


def member_state(
    conn: psycopg.Connection, member: str, state: str, *, abandoned_epoch: float = 0, wake: bool = True
) -> None:
    """``wake``: NOTIFY the dispatchers, in the same statement."""
    update = (
        "UPDATE queue_members SET state = %s, abandoned_epoch = %s,"
        " serving_agent = CASE WHEN %s = 'Waiting' THEN NULL ELSE serving_agent END WHERE uuid = %s"
    )
    if wake:
        conn.execute(f"WITH u AS ({update}) SELECT pg_notify(%s, '')", (state, abandoned_epoch, state, member,
                                                                       CHANNEL))  # fmt: skip
    else:
        conn.execute(update, (state, abandoned_epoch, state, member))


def remove_member(conn: psycopg.Connection, member: str, joined_epoch: float | None = None) -> None:
    """``joined_epoch``: only that visit's row (the caller may already be in another queue)."""
    if joined_epoch is None:
        conn.execute("DELETE FROM queue_members WHERE uuid = %s", (member,))
    else:
        conn.execute(
            "DELETE FROM queue_members WHERE uuid = %s AND joined_epoch = %s", (member, joined_epoch)
        )


def discard_abandoned(conn: psycopg.Connection, member: str) -> None:
    """An abandoned place past discard-abandoned-after, gone; unless the caller came back
    meanwhile (a resume made it Waiting again)."""
    conn.execute("DELETE FROM queue_members WHERE uuid = %s AND state = 'Abandoned'", (member,))


def serves(conn: psycopg.Connection, agent_id: str, tenant_id: str) -> bool:
    """The agent serves this tenant (a name read back from a channel is checked so)."""
    row = conn.execute(
        "SELECT 1 FROM agent_tenants WHERE agent_id = %s AND tenant_id = %s", (agent_id, tenant_id)
    ).fetchone()
    return row is not None


def offered_to(conn: psycopg.Connection, member: str) -> list[str]:
    """Agents still marked as offered this member (a controller that died left them)."""
    rows = conn.execute("SELECT agent_id FROM agent_state WHERE offered_member = %s", (member,)).fetchall()
    return [_first(r) for r in rows]


def load_agents(conn: psycopg.Connection, agent_ids: Iterable[str]) -> dict[str, tuple[Agent, str]]:
    """Agents by id with their contact (dial string)."""
    rows: list[Any] = conn.execute(
        "SELECT s.*, a.contact FROM agent_state s JOIN agents a ON a.id = s.agent_id"
        " WHERE s.agent_id = ANY(%s::text[])",
        (text_array(agent_ids),),
    ).fetchall()
    return {r["agent_id"]: _agent(r) for r in rows}


def load_agent_changes(
    conn: psycopg.Connection, agent_ids: Iterable[str], since: int | None
) -> tuple[dict[str, tuple[Agent, str]], int]:
    """load_agents, less the agents whose state and contact no transaction changed at or
    after ``since`` (None: all of them), and the ``since`` for the next call: this read's
    snapshot xmin. Every change this read could not see is by a transaction at or after it
    (those running as it read, or begun later), so reading from it on misses none; a change
    it saw may come again."""
    return send_agent_changes(conn, agent_ids, since)()


def send_agent_changes(
    conn: psycopg.Connection, agent_ids: Iterable[str], since: int | None
) -> Callable[[], tuple[dict[str, tuple[Agent, str]], int]]:
    """load_agent_changes in two halves: the statement goes now, its rows are read when the
    function returned is called. In a pipeline, statements sent one after the other before
    any is read share one round trip."""
    cur = conn.execute(
        "SELECT h.horizon, s.*, a.contact"
        " FROM (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS horizon) h"
        " LEFT JOIN (agent_state s JOIN agents a ON a.id = s.agent_id)"
        "   ON s.agent_id = ANY(%s::text[])"
        "   AND (%s::bigint IS NULL OR s.changed_xid >= %s::text::xid8 OR a.changed_xid >= %s::text::xid8)",
        (text_array(agent_ids), since, since, since),
    )

    def read() -> tuple[dict[str, tuple[Agent, str]], int]:
        rows: list[Any] = cur.fetchall()
        return {r["agent_id"]: _agent(r) for r in rows if r["agent_id"] is not None}, int(rows[0]["horizon"])

    return read


def _agent(r: Any) -> tuple[Agent, str]:
    agent = Agent(
        id=r["agent_id"], status=r["status"], state=r["state"], contact=r["contact"] or "",
        max_no_answer=r["max_no_answer"], wrap_up_time=r["wrap_up_time"],
        reject_delay_time=r["reject_delay_time"], busy_delay_time=r["busy_delay_time"],
        no_answer_delay_time=r["no_answer_delay_time"], last_bridge_start=r["last_bridge_start"],
        last_bridge_end=r["last_bridge_end"], last_offered_call=r["last_offered_call"],
        no_answer_count=r["no_answer_count"], calls_answered=r["calls_answered"],
        talk_time=r["talk_time"], ready_time=r["ready_time"], break_reason=r["break_reason"],
        last_status_change=r["last_status_change"], skills=dict(r["skills"] or {}),
        offered_member=str(r["offered_member"] or ""),
    )  # fmt: skip
    return agent, agent.contact


def serving(conn: psycopg.Connection, agent_ids: Iterable[str]) -> set[tuple[str, str]]:
    """(agent, tenant) for each tenant each of these agents serves (agent_tenants)."""
    rows: list[Any] = conn.execute(
        "SELECT agent_id, tenant_id FROM agent_tenants WHERE agent_id = ANY(%s::text[])",
        (text_array(agent_ids),),
    ).fetchall()
    return {(r["agent_id"], r["tenant_id"]) for r in rows}


def tenant_weights(conn: psycopg.Connection) -> dict[tuple[str, str], int]:
    """(agent, tenant) -> weight, for the agents that serve more than one tenant."""
    rows: list[Any] = conn.execute(
        "SELECT agent_id, tenant_id, weight FROM agent_tenants WHERE agent_id IN"
        " (SELECT agent_id FROM agent_tenants GROUP BY agent_id HAVING count(*) > 1)"
    ).fetchall()
    return {(r["agent_id"], r["tenant_id"]): r["weight"] for r in rows}


def load_members(
    conn: psycopg.Connection, queues: Iterable[tuple[str, str]]
) -> list[tuple[Member, str, str]]:
    """Members of these (tenant, queue)s still in play, with their tenant and queue."""
    return send_members(conn, queues)()


def send_members(
    conn: psycopg.Connection, queues: Iterable[tuple[str, str]]
) -> Callable[[], list[tuple[Member, str, str]]]:
    """load_members in two halves, as send_agent_changes."""
    pairs = list(queues)
    if not pairs:
        return list
    cur = conn.execute(
        "SELECT * FROM queue_members"
        " WHERE (tenant_id, queue) IN (SELECT * FROM unnest(%s::text[], %s::text[]))"
        " AND state IN ('Waiting', 'Trying', 'Abandoned')",
        (text_array(t for t, _ in pairs), text_array(q for _, q in pairs)),
    )

    def read() -> list[tuple[Member, str, str]]:
        out = []
        rows: list[Any] = cur.fetchall()
        for r in rows:
            m = Member(
                uuid=str(r["uuid"]), queue="", joined_epoch=r["joined_epoch"], state=r["state"],
                base_score=r["base_score"], priority=r["priority"], skills=dict(r["skills"] or {}),
                owner_agent=r["owner_agent"], private_agent=r["private_agent"],
                abandoned_epoch=r["abandoned_epoch"], system_epoch=r["system_epoch"],
                last_originated=r["last_originated"],
                last_tier=(r["last_tier_position"], r["last_tier_level"]),
                moving_to=str((r["transfer"] or {}).get("move") or ""),
            )  # fmt: skip
            out.append((m, r["tenant_id"], r["queue"]))
        return out

    return read


# --- controllers' liveness ----------------------------------------------------------------


def heartbeat(conn: psycopg.Connection, controller: str, now: float) -> None:
    """``now`` from the controllers' wall clock, not a call clock: liveness is about
    processes, and a test's emulated clock running 4x would turn a process stalled for
    2.5 s into one silent for DEAD_AFTER."""
    conn.execute(
        "INSERT INTO acd_controllers (name, seen_epoch) VALUES (%s, %s)"
        " ON CONFLICT (name) DO UPDATE SET seen_epoch = EXCLUDED.seen_epoch",
        (controller, now),
    )


# Each controller's dispatcher holds an advisory lock on its listening connection for as
# long as it runs (two-int4 form: classid CONTROLLER_LOCKS, objid hashtext(name), which
# pg_locks shows with objsubid 2). PostgreSQL drops it the moment that connection goes, and
# a killed process's connections go at once: a controller whose lock is gone and whose
# heartbeat is GONE_AFTER seconds old is dead, without waiting out a heartbeat timeout
# sized for a controller that is merely slow. The heartbeat alone still decides when the
# lock cannot be seen (silent for ``silent_for``).
CONTROLLER_LOCKS = 0x66736170
GONE_AFTER = 3.0
_ALIVE = (
    "SELECT c.name FROM acd_controllers c WHERE c.seen_epoch >= %(silent)s AND (c.seen_epoch >= %(gone)s"
    " OR EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2"
    " AND l.classid = %(locks)s::oid AND l.objid = hashtext(c.name)::oid))"
)


def hold_liveness(conn: psycopg.Connection, name: str) -> bool:
    """Take this controller's lifetime lock on ``conn`` (kept until the connection closes)."""
    row: Any = conn.execute(
        "SELECT pg_try_advisory_lock(%s, hashtext(%s)) AS got", (CONTROLLER_LOCKS, name)
    ).fetchone()
    return bool(row["got"] if isinstance(row, dict) else row[0])


def _alive_params(now: float, silent_for: float) -> dict[str, float | int]:
    return {"silent": now - silent_for, "gone": now - GONE_AFTER, "locks": CONTROLLER_LOCKS}


def free_the_dead(
    conn: psycopg.Connection, now: float, silent_for: float, alive_now: float | None = None
) -> tuple[list[str], list[str]]:
    """What dead controllers held (see CONTROLLER_LOCKS): their waiting callers are
    marked Abandoned (a caller the dialplan hands to a live controller resumes their place
    from it), the agents they were ringing are back to Waiting. Answered callers and their
    agents stay as they are: the bridge outlives the controller (fsapps.apps.queue), and the
    visit is completed when the call comes back or ends (answered_orphans). Returns
    (members, agents) freed. ``alive_now``: the heartbeats' clock (see heartbeat), if not
    ``now``."""
    seen = now if alive_now is None else alive_now
    alive = _alive_params(seen, silent_for)
    members: list[Any] = conn.execute(
        "UPDATE queue_members SET state = 'Abandoned', abandoned_epoch = %(now)s, serving_agent = NULL"
        f" WHERE state IN ('Waiting', 'Trying') AND controller NOT IN ({_ALIVE}) RETURNING uuid",
        {**alive, "now": now},
    ).fetchall()
    agents: list[Any] = conn.execute(
        "UPDATE agent_state SET state = 'Waiting', offered_member = NULL, offered_by = NULL,"
        " agent_leg = NULL"
        f" WHERE offered_by IS NOT NULL AND offered_by NOT IN ({_ALIVE}) AND state <> 'In a queue call'"
        " RETURNING agent_id, status",
        alive,
    ).fetchall()
    conn.execute("DELETE FROM acd_controllers WHERE seen_epoch < %s", (seen - 10 * silent_for,))
    if members or agents:
        notify(conn)
    for r in agents:  # no notifier saw them freed: the event streams hear it from the database
        relay.announce(conn, AgentStateChanged(r["agent_id"], AgentState.WAITING, r["status"], now))
    return [str(r["uuid"]) for r in members], [r["agent_id"] for r in agents]


def answered_orphans(
    conn: psycopg.Connection, now: float, silent_for: float, mine: str = "", alive_now: float | None = None
) -> list[dict[str, Any]]:
    """Answered callers whose controller is dead (see CONTROLLER_LOCKS), or is
    ``mine`` (the caller asks which of its own it no longer holds), with the agent talking to
    them: calls that outlived their controller's hold on them."""
    rows: list[Any] = conn.execute(
        "SELECT m.uuid, m.tenant_id, m.queue, m.joined_epoch, m.cid_number, m.controller,"
        " s.agent_id, s.last_bridge_start, s.agent_leg"
        " FROM queue_members m LEFT JOIN agent_state s"
        "   ON s.offered_member = m.uuid AND s.state = 'In a queue call'"
        " WHERE m.state = 'Answered' AND (m.controller = %(mine)s"
        f"   OR m.controller NOT IN ({_ALIVE}))",
        {**_alive_params(now if alive_now is None else alive_now, silent_for), "mine": mine},
    ).fetchall()
    return [dict(r) for r in rows]


def answered_member(conn: psycopg.Connection, member: str) -> dict[str, Any] | None:
    """An Answered caller's row with the agent talking to them (or None for the agent)."""
    row: Any = conn.execute(
        "SELECT m.uuid, m.tenant_id, m.queue, m.joined_epoch, m.cid_number, m.controller,"
        " s.agent_id, s.last_bridge_start, s.agent_leg"
        " FROM queue_members m LEFT JOIN agent_state s"
        "   ON s.offered_member = m.uuid AND s.state = 'In a queue call'"
        " WHERE m.uuid = %s AND m.state = 'Answered'",
        (member,),
    ).fetchone()
    return dict(row) if row is not None else None


def adopt(conn: psycopg.Connection, member: str, old: str, new: str) -> bool:
    """Take over a caller from controller ``old``; False when another controller did first."""
    cur = conn.execute(
        "UPDATE queue_members SET controller = %s WHERE uuid = %s AND controller = %s", (new, member, old)
    )
    return cur.rowcount == 1


def legs_ended(conn: psycopg.Connection, legs: list[str]) -> float | None:
    """When the latest of these legs ended, from their CDRs (None before any is written)."""
    row: Any = conn.execute(
        "SELECT max(extract(epoch FROM ended_at)) AS ended FROM cdrs WHERE leg_uuid = ANY(%s::uuid[])",
        ([leg for leg in legs if leg],),
    ).fetchone()
    return float(row["ended"]) if row is not None and row["ended"] is not None else None


def stale_offers(conn: psycopg.Connection, now: float, older_than: float) -> list[dict[str, Any]]:
    """Agents still Receiving an offer made more than ``older_than`` seconds ago: longer than
    any ring, so either its controller missed the end of the ring or the call is gone."""
    rows: list[Any] = conn.execute(
        "SELECT agent_id, offered_member, agent_leg, offered_by FROM agent_state"
        " WHERE state = 'Receiving' AND last_offered_call < %s",
        (now - older_than,),
    ).fetchall()
    return [dict(r) for r in rows]


# --- what the agents' operations and the agent command read ------------------------------


# An agent who serves ``tenant`` (any agent when it is None): the tenant wall of the agent
# operations (fsapps.acd.operations), as the API limits them to one tenant.
_SERVES = (
    "(%(tenant)s::text IS NULL OR EXISTS"
    " (SELECT 1 FROM agent_tenants t WHERE t.agent_id = a.id AND t.tenant_id = %(tenant)s))"
)


def agent_call(conn: psycopg.Connection, agent_id: str, tenant: str | None = None) -> dict[str, Any] | None:
    """The agent's state, the caller offered or talking to them, their leg and that caller's
    tenant (None: no such agent, or one who does not serve ``tenant``)."""
    row: Any = conn.execute(
        "SELECT s.state, s.offered_member, s.agent_leg, m.tenant_id FROM agent_state s"
        " JOIN agents a ON a.id = s.agent_id LEFT JOIN queue_members m ON m.uuid = s.offered_member"
        f" WHERE s.agent_id = %(agent)s AND {_SERVES}",
        {"agent": agent_id, "tenant": tenant},
    ).fetchone()
    return None if row is None else dict(row)


def agent_contact(conn: psycopg.Connection, agent_id: str, tenant: str | None = None) -> str | None:
    """The agent's phone, a dial target (None: no agent, no phone, or not ``tenant``'s)."""
    row: Any = conn.execute(
        f"SELECT contact FROM agents a WHERE id = %(agent)s AND {_SERVES}",
        {"agent": agent_id, "tenant": tenant},
    ).fetchone()
    return (row["contact"] or None) if row is not None else None


def agent_phone_and_state(conn: psycopg.Connection, agent_id: str, tenant: str) -> dict[str, Any] | None:
    """The agent's phone and ACD state (Waiting when they have none yet), if they serve
    ``tenant``: what a dial-out needs."""
    row: Any = conn.execute(
        "SELECT a.contact, coalesce(s.state, 'Waiting') AS state FROM agents a"
        f" LEFT JOIN agent_state s ON s.agent_id = a.id WHERE a.id = %(agent)s AND {_SERVES}",
        {"agent": agent_id, "tenant": tenant},
    ).fetchone()
    return None if row is None else dict(row)


def ringing_for(conn: psycopg.Connection, member: str, tenant: str | None = None) -> list[dict[str, Any]]:
    """The agents whose phones ring for ``member`` (a caller of ``tenant``'s): their id, leg
    and offering controller."""
    rows: Any = conn.execute(
        "SELECT s.agent_id, s.agent_leg, s.offered_by FROM agent_state s"
        " LEFT JOIN queue_members m ON m.uuid = s.offered_member"
        " WHERE s.offered_member = %(member)s AND s.state = %(state)s"
        " AND (%(tenant)s::text IS NULL OR m.tenant_id = %(tenant)s)",
        {"member": member, "state": AgentState.RECEIVING, "tenant": tenant},
    ).fetchall()
    return [dict(r) for r in rows]


def still_ringing(conn: psycopg.Connection, member: str, legs: list[str]) -> bool:
    """Whether any of these legs still rings for ``member``."""
    row = conn.execute(
        "SELECT 1 FROM agent_state WHERE offered_member = %s AND agent_leg = ANY(%s::uuid[]) AND state = %s",
        (member, legs, AgentState.RECEIVING),
    ).fetchone()
    return row is not None


def member_transfer(conn: psycopg.Connection, member: str) -> tuple[bool, dict[str, Any]]:
    """Whether ``member`` is in a queue, and the transfer note on their row ({}: none)."""
    row = conn.execute("SELECT transfer FROM queue_members WHERE uuid = %s", (member,)).fetchone()
    if row is None:
        return False, {}
    note = _first(row)
    return True, dict(note) if note else {}


def agents_overview(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Every agent: id, status, state, break reason and tenants served (comma-separated)."""
    rows: Any = conn.execute(
        "SELECT a.id, s.status, s.state, s.break_reason,"
        "       string_agg(t.tenant_id, ',' ORDER BY t.tenant_id) AS tenants"
        "  FROM agents a LEFT JOIN agent_state s ON s.agent_id = a.id"
        "  LEFT JOIN agent_tenants t ON t.agent_id = a.id"
        " GROUP BY a.id, s.status, s.state, s.break_reason ORDER BY a.id"
    ).fetchall()
    return [dict(r) for r in rows]
