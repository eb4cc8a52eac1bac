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


def serve_api(ctx: ApiContext) -> BoundedWSGIServer:
    server = wsgi_server("127.0.0.1", 0, make_app(ctx), read_timeout=10, max_connections=50)
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
            out = Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
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
