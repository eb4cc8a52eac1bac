"""What applications reach beyond the call: the tenants' flows, the store,
the record writer, the clock, HTTP.

One ``AppContext`` per process: ``fsapps serve`` installs its own; inside
FreeSWITCH (mod_python3) ``fsapps.embedded`` builds one from the settings
file on first use. Tests install one with their own clock and store.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from fsapps.flows.model import Flow, Node, Operator, Project, Tenant
from fsapps.store.db import Store

log = logging.getLogger("fsapps.apps")


class RecordWriter(Protocol):
    def write(self, *records: Any) -> None: ...


class HttpError(Exception):
    """An HTTP lookup that did not give an answer (timeout, refused, 5xx, not JSON)."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


def http_get_json(url: str, params: dict[str, str], timeout: float) -> Any:
    """GET ``url?params`` and decode its JSON; None for 404. Cooperative under
    gevent's patched sockets (the controller), plain blocking in mod_python3."""
    full = url + ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
    req = urllib.request.Request(full, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read(1 << 20)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise HttpError("status", str(exc.code)) from None
    except TimeoutError:
        raise HttpError("timeout", f"no answer within {timeout:g} s") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        kind = "timeout" if isinstance(reason, TimeoutError) else "unreachable"
        raise HttpError(kind, str(reason)) from None
    try:
        return json.loads(body)
    except ValueError:
        raise HttpError("not_json", body[:60].decode("utf-8", "replace")) from None


@dataclass
class AppContext:
    """``project``: the checked tenants' flows. ``store``: None runs without a
    database (lookups, blacklist and outages then take their fallback)."""

    project: Project
    store: Store | None = None
    records: RecordWriter | None = None
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    http_get: Callable[[str, dict[str, str], float], Any] = http_get_json
    db_timeout: float = 2.0
    # Where a finished application's usage record goes: by default ``write``; the
    # controller writes it after handing the call back, so the caller never waits on it.
    write_later: Callable[..., Any] | None = None
    acd: Any = None  # the controller's ACD dispatcher (fsapps.acd.dispatch), when it has a database

    def __post_init__(self) -> None:
        self.tenants: dict[str, Tenant] = {t.id: t for t in self.project.tenants}

    @property
    def operator(self) -> Operator:
        return self.project.operator

    def node(self, tenant_id: str, flow: str, node: str) -> tuple[Tenant, Flow, Node] | None:
        tenant = self.tenants.get(tenant_id)
        f = tenant.flows.get(flow) if tenant else None
        n = f.nodes.get(node) if f else None
        if tenant is None or f is None or n is None:
            return None
        return tenant, f, n

    def write_soon(self, *records: Any) -> None:
        """Records the caller must not wait for (the controller writes them in the background)."""
        (self.write_later or self.write)(*records)

    def write(self, *records: Any) -> None:
        if self.records is None:
            log.warning("no record writer: %d record(s) not kept", len(records))
            return
        self.records.write(*records)


_current: AppContext | None = None
_lock = threading.Lock()


def install(ctx: AppContext | None) -> None:
    global _current
    with _lock:
        _current = ctx


def current(factory: Callable[[], AppContext] | None = None) -> AppContext:
    """The process's context; ``factory`` builds it on first use (mod_python3)."""
    global _current
    if _current is None:
        with _lock:
            if _current is None:
                if factory is None:
                    raise RuntimeError("no application context installed")
                _current = factory()
    return _current
