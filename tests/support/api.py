"""The HTTP API as tests reach it: the real app on fsapps.httpserve's gevent server on a
loopback TCP port, over the real store; a small client that keeps the session cookie."""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

from fsapps.httpserve import BoundedWSGIServer, wsgi_server
from fsapps.web.app import ApiContext, make_app
from fsapps.web.site import make_site


def serve_api(ctx: ApiContext, *, console: bool = False) -> BoundedWSGIServer:
    """The API on a loopback port; with ``console``, as ``fsapps serve`` serves it: the
    console's pages at /console/ beside it."""
    app = make_site(ctx) if console else make_app(ctx)
    server = wsgi_server("127.0.0.1", 0, app, read_timeout=10, max_connections=50)
    server.start()
    return server


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Client:
    """One person's HTTP client: a bearer token, or the cookies a login set."""

    port: int
    token: str | None = None
    cookies: dict[str, str] = field(default_factory=dict)
    csrf: str | None = None

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
                raw: bytes | None = None) -> Reply:  # fmt: skip
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        h = dict(headers or {})
        if self.token:
            h.setdefault("Authorization", f"Bearer {self.token}")
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.csrf and method not in ("GET", "HEAD"):
            h.setdefault("X-CSRF-Token", self.csrf)
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        try:
            conn.request(method, path, body=data, headers=h)
            resp = conn.getresponse()
            headers = {k.lower(): v for k, v in resp.getheaders()}
            # An event stream's body never ends: its status and headers are the answer (the
            # connection is closed below, which ends the stream on the server's side).
            streaming = headers.get("content-type", "").startswith("text/event-stream")
            out = Reply(resp.status, headers, b"" if streaming else resp.read())
            for value in resp.headers.get_all("Set-Cookie") or []:
                jar: SimpleCookie = SimpleCookie()
                jar.load(value)
                for name, morsel in jar.items():
                    if morsel["max-age"] == "0" or not morsel.value:
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
            return out
        finally:
            conn.close()

    def get(self, path: str, **kw: Any) -> Reply:
        return self.request("GET", path, **kw)

    def login(self, username: str, password: str) -> Reply:
        r = self.request("POST", "/api/v1/session", {"username": username, "password": password})
        if r.status == 200:
            self.csrf = r.json["csrf_token"]
        return r


def static_queues(queues: dict[str, dict[str, dict[str, Any]]]) -> Callable[[str], dict[str, dict[str, Any]]]:
    """tenant -> queue name -> its tenant.yaml mapping, as the controller's flows give them."""
    return lambda tenant: queues.get(tenant, {})


# --- a small call center in two tenants, for the API's tests --------------------------------

PASSWORD = "a-long-password"
TENANTS = ("acme", "globex")
QUEUES = {t: {"support": {"strategy": "longest-idle-agent", "tiers": [f"{t}1"]},
              "sales": {"strategy": "ring-all", "tiers": [f"{t}2"]}} for t in TENANTS}  # fmt: skip
ROLES = ("operator", "tenant_admin", "supervisor", "agent", "qa")


@dataclass
class CallCenter:
    """Per tenant: a user of each role (the agent linked to agent <tenant>1), agents <tenant>1
    and <tenant>2, queues support and sales, the supervisor's group "front" (support and
    <tenant>1), a caller waiting in each queue; and the operator ``ops``."""

    tokens: dict[tuple[str, str], str] = field(default_factory=dict)  # (tenant or "", role) -> token
    users: dict[tuple[str, str], int] = field(default_factory=dict)  # (tenant, role) -> user id
    callers: dict[tuple[str, str], str] = field(default_factory=dict)  # (tenant, queue) -> member uuid

    def token(self, role: str, tenant: str) -> str:
        return self.tokens[("", role) if role == "operator" else (tenant, role)]


def populate(store: Any) -> CallCenter:
    import time
    import uuid

    from fsapps.store import acd
    from fsapps.store import api as repo
    from fsapps.store.records import Tenant

    cc = CallCenter()
    with store.operator() as op:
        ops = op.add_operator_admin("ops", PASSWORD)
        cc.tokens[("", "operator")] = repo.issue_operator_token(op, ops.id, "tests")
        for t in TENANTS:
            op.add_tenant(Tenant(t, t.title(), f"{t}.example"))
    for t in TENANTS:
        with store.tenant(t) as scope:
            for role in ROLES[1:]:
                user = scope.add_user(f"{role}_{t}", PASSWORD, role)
                cc.users[(t, role)] = user.id
                cc.tokens[(t, role)] = scope.issue_token(user.id, "tests")
        with store.operator() as op:
            for n in (1, 2):
                op.add_agent(f"{t}{n}", f"Agent {n} of {t}", {t: 1})
                acd.ensure_agent(op.conn, f"{t}{n}")
            op.conn.execute("UPDATE agents SET user_id = %s WHERE id = %s", (cc.users[(t, "agent")], f"{t}1"))
            for q in ("support", "sales"):
                member = str(uuid.uuid4())
                op.conn.execute(
                    "INSERT INTO queue_members (uuid, tenant_id, queue, joined_epoch, cid_number)"
                    " VALUES (%s, %s, %s, %s, %s)",
                    (member, t, q, time.time() - 30, "+15550123"),
                )
                cc.callers[(t, q)] = member
        with store.tenant(t) as scope:
            repo.put_group(scope, "front", [cc.users[(t, "supervisor")]], [f"{t}1"], ["support"])
    return cc
