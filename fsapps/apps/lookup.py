"""``lookup``: the caller's record, by caller ID or collected digits, from a
tenant table (``lookup.<table>``) or an HTTP endpoint.

Fields land in channel variables (``<prefix><field>``), exported so they
travel to the agent's leg for the screen pop. Branches: ``found``,
``not_found``; a source that fails after its retries returns None, so the
dialplan takes the node's ``fallback``.
"""

from __future__ import annotations

import logging
import time

import psycopg
from psycopg_pool import PoolTimeout

from fsapps.apps.context import HttpError
from fsapps.apps.node import NodeCall
from fsapps.apps.registry import node_application
from fsapps.metrics import LOOKUP_ERRORS, LOOKUP_SECONDS
from fsapps.store.selfservice import lookup_row

log = logging.getLogger("fsapps.apps")


class LookupFailed(Exception):
    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


def _from_table(call: NodeCall, table: str, column: str, key: str, timeout: float) -> dict | None:
    store = call.ctx.store
    if store is None:
        raise LookupFailed("no_database", "no database configured")
    try:
        with store.tenant(call.tenant.id, timeout=timeout) as scope:
            # The caller is waiting: a slow query gives up rather than holds the line.
            scope.conn.execute(
                "SELECT set_config('statement_timeout', %s, true)", (f"{int(timeout * 1000)}",)
            )
            return lookup_row(scope, table, column, key)
    except psycopg.errors.QueryCanceled:
        raise LookupFailed("timeout", f"query over {timeout:g} s") from None
    except PoolTimeout as exc:
        raise LookupFailed("unreachable", str(exc)) from None
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise LookupFailed("database", first) from None


def _from_url(call: NodeCall, url: str, key: str, timeout: float) -> dict | None:
    try:
        got = call.ctx.http_get(url, {"key": key, "tenant": call.tenant.id}, timeout)
    except HttpError as exc:
        raise LookupFailed(exc.kind, str(exc)) from None
    if got is None or got == {}:
        return None
    if not isinstance(got, dict):
        raise LookupFailed("not_object", f"expected a JSON object, got {type(got).__name__}")
    return got


@node_application("lookup")
def lookup(call: NodeCall) -> str | None:
    source = call.data("source") or {}
    key_name = call.data("key", "caller_id")
    key = call.caller if key_name == "caller_id" else call.var(key_name)
    timeout = float(call.data("timeout", 2))
    attempts = 1 + int(call.data("retries", 1))
    kind = "table" if "table" in source else "http"
    started = time.monotonic()
    row: dict | None = None
    error: LookupFailed | None = None
    if not key:
        return "not_found"
    for attempt in range(attempts):
        try:
            if kind == "table":
                row = _from_table(call, source["table"], source.get("column", key_name), key, timeout)
            else:
                row = _from_url(call, source["url"], key, timeout)
            error = None
            break
        except LookupFailed as exc:
            error = exc
            log.warning(
                "lookup %s.%s attempt %d/%d failed: %s",
                call.flow.name,
                call.node.id,
                attempt + 1,
                attempts,
                exc,
            )
    LOOKUP_SECONDS.labels(call.tenant.id, kind).observe(time.monotonic() - started)
    if error is not None:
        LOOKUP_ERRORS.labels(call.tenant.id, kind, error.kind).inc()
        return None
    if row is None:
        return "not_found"
    prefix = call.data("prefix", "")
    names = []
    for name in call.data("fields") or []:
        value = row.get(name)
        # Stored as written, in inert form (fsapps.escape): never code for the switch.
        call.session.setVariable(f"{prefix}{name}", "" if value is None else str(value))
        names.append(f"{prefix}{name}")
    # What the export app does, without expanding the values: names in export_vars
    # are copied to the agent's leg when the call is bridged (screen pop).
    exported = [v for v in call.var("export_vars").split(",") if v]
    call.session.setVariable("export_vars", ",".join(dict.fromkeys([*exported, *names])))
    return "found"
