"""The knowledge base for the HTTP API: a tenant's articles and call scripts (optionally
per queue), searched in Chinese and English (fsapps.knowledge), and the script the desk
shows for a call of a queue. Each operation asks fsapps.web.policy through the Service,
then runs in the tenant's wall."""

from __future__ import annotations

from typing import Any

from fsapps.store import knowledge as store
from fsapps.store.db import TenantScope
from fsapps.web.service import Refused, Service

EDITABLE = ("kind", "title", "body", "tags", "queues")


class Knowledge:
    def __init__(self, service: Service) -> None:
        self.service = service

    def search(self, tenant_id: str, query: dict[str, Any]) -> list[dict[str, Any]]:
        with self.service._tenant(tenant_id, "kb.read") as t:
            return store.search(t, query=query["q"], kind=query["kind"], queue=query["queue"],
                                tag=query["tag"], limit=query["limit"], offset=query["offset"])  # fmt: skip

    def get(self, tenant_id: str, article_id: int) -> dict[str, Any]:
        with self.service._tenant(tenant_id, "kb.read") as t:
            return self._article(t, article_id)

    def create(self, tenant_id: str, body: dict[str, Any]) -> dict[str, Any]:
        a = {"kind": "article", "body": "", "tags": [], "queues": [], **body}
        with self.service._tenant(tenant_id, "kb.write") as t:
            self._check(t, a)
            article_id = store.create(t, a, self.service.principal.username)
            return self._article(t, article_id)

    def patch(self, tenant_id: str, article_id: int, changes: dict[str, Any]) -> dict[str, Any]:
        with self.service._tenant(tenant_id, "kb.write") as t:
            before = self._article(t, article_id, lock=True)
            a = {k: before[k] for k in EDITABLE} | changes
            self._check(t, a)
            store.update(t, article_id, a, self.service.principal.username)
            return self._article(t, article_id)

    def delete(self, tenant_id: str, article_id: int) -> None:
        with self.service._tenant(tenant_id, "kb.write") as t:
            if not store.delete(t, article_id):
                raise Refused("not_found", "no_such_article", f"no article {article_id}")

    def script(self, tenant_id: str, queue: str) -> dict[str, Any]:
        with self.service._tenant(tenant_id, "kb.read") as t:
            if queue not in self.service.queues_of(tenant_id):
                raise Refused("not_found", "no_such_queue", f"no queue {queue!r}")
            row = store.script_for(t, queue)
        if row is None:
            raise Refused("not_found", "no_script", f"no call script for queue {queue!r}")
        return row

    def _article(self, t: TenantScope, article_id: int, lock: bool = False) -> dict[str, Any]:
        row = store.article(t, article_id, lock)
        if row is None:
            raise Refused("not_found", "no_such_article", f"no article {article_id}")
        return row

    def _check(self, t: TenantScope, a: dict[str, Any]) -> None:
        a["tags"] = sorted(set(a["tags"]))
        a["queues"] = sorted(set(a["queues"]))
        unknown = [q for q in a["queues"] if q not in self.service.queues_of(t.tenant_id)]
        if unknown:
            raise Refused("invalid", "no_such_queue", "queues: no queue " + ", ".join(map(repr, unknown)))
