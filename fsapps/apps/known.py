"""Which tenants a record may name: those of the checked flows and of the database.

A call's ``fsapps_tenant`` is whatever whoever handed the call over said. A
record naming a tenant nobody created must not be written: PostgreSQL
refuses it (usage_records.tenant_id references tenants), and with it the
rest of its batch. The checked flows answer most calls; a tenant only in the
database (one with its own applications, like the demo's) is looked up once
and remembered. A name found nowhere is remembered for ``retry_after``
seconds, and at most ``max_unknown`` such names are held, so a stream of
made-up names costs at most that many lookups per period.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import gevent

from fsapps.store.db import Store, UnknownTenant

log = logging.getLogger("fsapps.apps")

MAX_TENANT_ID = 200  # longer is no tenant id anyone created; not worth a lookup


class KnownTenants:
    def __init__(
        self,
        checked: Callable[[], Mapping[str, Any]],
        store: Store | None,
        *,
        retry_after: float = 30.0,
        max_unknown: int = 1024,
        db_timeout: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.checked = checked
        self.store = store
        self.retry_after = retry_after
        self.max_unknown = max_unknown
        self.db_timeout = db_timeout
        self.clock = clock
        self.lookups = 0
        self._in_database: set[str] = set()
        self._unknown: dict[str, float] = {}  # tenant id -> when it may be looked up again

    def load(self) -> None:
        """Read every tenant id at start, so a database outage later costs no known tenant."""
        if self.store is None:
            return
        try:
            with gevent.Timeout(self.db_timeout), self.store.operator() as op:
                self._in_database.update(t.id for t in op.tenants())
        except (Exception, gevent.Timeout) as exc:  # the database may be down at start: looked up later
            log.warning("tenants not read from the database at start (%s)", exc)

    def __contains__(self, tenant_id: object) -> bool:
        if not isinstance(tenant_id, str) or not tenant_id:
            return False
        if tenant_id in self.checked() or tenant_id in self._in_database:
            return True
        if self.store is None or len(tenant_id) > MAX_TENANT_ID:
            return False
        now = self.clock()
        if self._unknown.get(tenant_id, now) > now:
            return False
        self._unknown.pop(tenant_id, None)
        if len(self._unknown) >= self.max_unknown:
            self._unknown = {t: until for t, until in self._unknown.items() if until > now}
            if len(self._unknown) >= self.max_unknown:
                return False  # a flood of made-up names: no lookup until some expire
        try:
            self.lookups += 1
            with gevent.Timeout(self.db_timeout), self.store.operator() as op:
                op.tenant(tenant_id)
        except UnknownTenant:
            self._unknown[tenant_id] = now + self.retry_after
            return False
        except (Exception, gevent.Timeout) as exc:
            # Unknown for now, not remembered: the next record asks again.
            log.warning("tenant %r not looked up (%s)", tenant_id[:64], exc)
            return False
        self._in_database.add(tenant_id)
        return True
