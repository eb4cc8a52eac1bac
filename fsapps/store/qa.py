"""Quality assurance's SQL: scorecards and their versions, evaluations of recorded queue
calls, and the averages reports read. Every function takes a ``TenantScope``: row-level
security keeps it to the tenant's rows whatever the query says."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from fsapps.store.db import TenantScope

# A scorecard with its current (newest) version.
SCORECARD = """
SELECT s.id, v.name, v.version, v.id AS version_id, v.criteria, v.created_by AS changed_by,
       v.created_at AS changed_at, s.created_at, s.retired_at
  FROM qa_scorecards s
  JOIN LATERAL (SELECT * FROM qa_scorecard_versions v WHERE v.scorecard_id = s.id
                ORDER BY v.version DESC LIMIT 1) v ON true
"""


def scorecards(t: TenantScope, include_retired: bool = False) -> list[dict[str, Any]]:
    return t._all(
        SCORECARD + " WHERE %s OR s.retired_at IS NULL ORDER BY lower(v.name), s.id", (include_retired,)
    )


def scorecard(t: TenantScope, scorecard_id: int, lock: bool = False) -> dict[str, Any] | None:
    if lock:  # one new version at a time: two editors cannot both write version n+1
        t.conn.execute("SELECT 1 FROM qa_scorecards WHERE id = %s FOR UPDATE", (scorecard_id,))
    return t._one(SCORECARD + " WHERE s.id = %s", (scorecard_id,))


def create_scorecard(t: TenantScope, name: str, criteria: list[dict[str, Any]], author: str) -> int:
    row = t._one("INSERT INTO qa_scorecards (tenant_id) VALUES (%s) RETURNING id", (t.tenant_id,))
    assert row is not None
    add_version(t, int(row["id"]), 1, name, criteria, author)
    return int(row["id"])


def add_version(t: TenantScope, scorecard_id: int, version: int, name: str, criteria: list[dict[str, Any]],
                author: str) -> int:  # fmt: skip
    row = t._one(
        "INSERT INTO qa_scorecard_versions (tenant_id, scorecard_id, version, name, criteria, created_by)"
        " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
        (t.tenant_id, scorecard_id, version, name, Jsonb(criteria), author),
    )
    assert row is not None
    return int(row["id"])


def retire_scorecard(t: TenantScope, scorecard_id: int, at: datetime) -> bool:
    cur = t.conn.execute(
        "UPDATE qa_scorecards SET retired_at = %s WHERE id = %s AND retired_at IS NULL", (at, scorecard_id)
    )
    return cur.rowcount == 1


def version(t: TenantScope, version_id: int) -> dict[str, Any] | None:
    return t._one(
        "SELECT id AS version_id, scorecard_id, version, name, criteria FROM qa_scorecard_versions"
        " WHERE id = %s",
        (version_id,),
    )


# --- evaluations ------------------------------------------------------------------------------

EVALUATION = """
SELECT e.id, e.recording_id, e.call_uuid, e.queue, e.agent_id, e.call_at, e.evaluator, e.note, e.score,
       e.critical_failed, e.created_at, e.answers, v.scorecard_id, v.version AS scorecard_version,
       v.name AS scorecard, v.criteria
  FROM qa_evaluations e JOIN qa_scorecard_versions v ON v.id = e.scorecard_version_id
"""


def add_evaluation(t: TenantScope, e: dict[str, Any]) -> int:
    row = t.conn.execute(
        "INSERT INTO qa_evaluations (tenant_id, recording_id, scorecard_version_id, call_uuid, queue,"
        " agent_id, call_at, evaluator, answers, note, score, critical_failed)"
        " VALUES (%(tenant)s, %(recording)s, %(version)s, %(call_uuid)s, %(queue)s, %(agent_id)s,"
        " %(call_at)s, %(evaluator)s, %(answers)s, %(note)s, %(score)s, %(critical_failed)s) RETURNING id",
        {**e, "tenant": t.tenant_id, "answers": Jsonb(e["answers"])},
    ).fetchone()
    assert row is not None
    return int(row["id"])  # type: ignore[call-overload]


def evaluation(t: TenantScope, evaluation_id: int) -> dict[str, Any] | None:
    return t._one(EVALUATION + " WHERE e.id = %s", (evaluation_id,))


def evaluations(t: TenantScope, *, agent: str | None, queue: str | None, recording: str | None,
                start: datetime | None, end: datetime | None, limit: int, offset: int,
                queues: frozenset[str] | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Evaluations, newest call first, by the agent, the queue, the recording and the
    call's date ([start, end)); ``queues``: only these queues'."""
    rows: list[dict[str, Any]] = t.conn.execute(  # type: ignore[assignment]
        EVALUATION + " WHERE (%(agent)s::text IS NULL OR e.agent_id = %(agent)s)"
        " AND (%(queue)s::text IS NULL OR e.queue = %(queue)s)"
        " AND (%(recording)s::uuid IS NULL OR e.recording_id = %(recording)s::uuid)"
        " AND (%(start)s::timestamptz IS NULL OR e.call_at >= %(start)s)"
        " AND (%(end)s::timestamptz IS NULL OR e.call_at < %(end)s)"
        " AND (%(queues)s::text[] IS NULL OR e.queue = ANY(%(queues)s::text[]))"
        " ORDER BY e.call_at DESC, e.id DESC LIMIT %(limit)s OFFSET %(offset)s",
        {"agent": agent, "queue": queue, "recording": recording, "start": start, "end": end, "limit": limit,
         "offset": offset, "queues": None if queues is None else sorted(queues)},
    ).fetchall()  # fmt: skip
    return rows


def averages(t: TenantScope, by: str, start: datetime | None, end: datetime | None,
             queues: frozenset[str] | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Per agent or per queue (``by``): how many evaluations, their mean, lowest and highest
    score and how many failed a critical criterion, of calls in [start, end)."""
    column = {"agent": "e.agent_id", "queue": "e.queue"}[by]  # never from the request
    rows: list[dict[str, Any]] = t.conn.execute(  # type: ignore[assignment]
        f"SELECT {column} AS key, count(*) AS evaluations, round(avg(e.score), 2) AS average,"
        " min(e.score) AS lowest, max(e.score) AS highest,"
        " count(*) FILTER (WHERE e.critical_failed) AS critical_failed"
        " FROM qa_evaluations e"
        " WHERE (%(start)s::timestamptz IS NULL OR e.call_at >= %(start)s)"
        " AND (%(end)s::timestamptz IS NULL OR e.call_at < %(end)s)"
        " AND (%(queues)s::text[] IS NULL OR e.queue = ANY(%(queues)s::text[]))"
        f" GROUP BY {column} ORDER BY {column} NULLS LAST",
        {"start": start, "end": end, "queues": None if queues is None else sorted(queues)},
    ).fetchall()
    return rows
