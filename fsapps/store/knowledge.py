"""The knowledge base's SQL: articles and call scripts, and their full-text search. Every
function takes a ``TenantScope``: row-level security keeps it to the tenant's rows."""

from __future__ import annotations

from typing import Any

from fsapps import knowledge
from fsapps.store.db import TenantScope

ARTICLE = "a.id, a.kind, a.title, a.body, a.tags, a.queues, a.updated_by, a.created_at, a.updated_at"
# The tsvector of an article: title and tags weigh more than the body (ts_rank's A and B).
SEARCH = (
    "setweight(to_tsvector('simple', %s), 'A') || setweight(to_tsvector('simple', %s), 'A')"
    " || setweight(to_tsvector('simple', %s), 'B')"
)


def article(t: TenantScope, article_id: int, lock: bool = False) -> dict[str, Any] | None:
    return t._one(f"SELECT {ARTICLE} FROM kb_articles a WHERE a.id = %s" + (" FOR UPDATE" if lock else ""),
                  (article_id,))  # fmt: skip


def create(t: TenantScope, a: dict[str, Any], author: str) -> int:
    row = t._one(
        "INSERT INTO kb_articles (tenant_id, kind, title, body, tags, queues, search, updated_by)"
        f" VALUES (%s, %s, %s, %s, %s, %s, {SEARCH}, %s) RETURNING id",
        (t.tenant_id, a["kind"], a["title"], a["body"], a["tags"], a["queues"],
         *knowledge.search_text(a["title"], a["tags"], a["body"]), author),
    )  # fmt: skip
    assert row is not None
    return int(row["id"])


def update(t: TenantScope, article_id: int, a: dict[str, Any], author: str) -> None:
    """Writes the whole article (the service has merged the patch into it)."""
    t.conn.execute(
        f"UPDATE kb_articles SET kind = %s, title = %s, body = %s, tags = %s, queues = %s, search = {SEARCH},"
        " updated_by = %s, updated_at = now() WHERE id = %s",
        (a["kind"], a["title"], a["body"], a["tags"], a["queues"],
         *knowledge.search_text(a["title"], a["tags"], a["body"]), author, article_id),
    )  # fmt: skip


def delete(t: TenantScope, article_id: int) -> bool:
    return t.conn.execute("DELETE FROM kb_articles WHERE id = %s", (article_id,)).rowcount == 1


def search(t: TenantScope, *, query: str | None, kind: str | None, queue: str | None, tag: str | None,
           limit: int, offset: int) -> list[dict[str, Any]]:  # fmt: skip
    """Articles matching every word of ``query`` (None: all), best first, then newest; of
    ``kind``, for ``queue`` (its own and every queue's), with ``tag``. A query with no word
    in it (only punctuation) finds nothing."""
    filters = (
        " AND (%(kind)s::text IS NULL OR a.kind = %(kind)s)"
        " AND (%(queue)s::text IS NULL OR a.queues = '{}' OR a.queues @> ARRAY[%(queue)s::text])"
        " AND (%(tag)s::text IS NULL OR a.tags @> ARRAY[%(tag)s::text])"
    )
    params: dict[str, Any] = {"kind": kind, "queue": queue, "tag": tag, "limit": limit, "offset": offset}
    if query is None:
        sql = (f"SELECT {ARTICLE}, NULL::real AS rank FROM kb_articles a WHERE true{filters}"
               " ORDER BY a.updated_at DESC, a.id DESC LIMIT %(limit)s OFFSET %(offset)s")  # fmt: skip
        return _rows(t, sql, params)
    terms = knowledge.query_terms(query)
    if not terms:
        return []
    tsquery, words = knowledge.tsquery_sql(terms)
    # The query's own parameters are positional inside it: name them for the dict.
    for i, w in enumerate(words):
        tsquery = tsquery.replace("%s", f"%(w{i})s", 1)
        params[f"w{i}"] = w
    sql = (
        f"SELECT {ARTICLE}, ts_rank(a.search, q.q) AS rank FROM kb_articles a, (SELECT {tsquery} AS q) q"
        f" WHERE a.search @@ q.q{filters}"
        " ORDER BY rank DESC, a.updated_at DESC, a.id DESC LIMIT %(limit)s OFFSET %(offset)s"
    )
    return _rows(t, sql, params)


def script_for(t: TenantScope, queue: str) -> dict[str, Any] | None:
    """The call script the desk shows for a call of ``queue``: the queue's own (the newest,
    if several), else the newest for every queue."""
    return t._one(
        f"SELECT {ARTICLE} FROM kb_articles a WHERE a.kind = 'script'"
        " AND (a.queues @> ARRAY[%s::text] OR a.queues = '{}')"
        " ORDER BY a.queues = '{}', a.updated_at DESC, a.id DESC LIMIT 1",
        (queue,),
    )


def _rows(t: TenantScope, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = t.conn.execute(sql, params).fetchall()  # type: ignore[assignment]
    return rows
