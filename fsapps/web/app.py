"""The HTTP API's WSGI application: apiflask (Flask, marshmallow and apispec), served by
fsapps.httpserve's bounded gevent server beside xml_curl and /metrics.

Why apiflask: one small layer over Flask that writes the OpenAPI document from the same
schemas that validate the input, and answers every HTTP error (404, 405, a failed
validation, a 500) through one error processor, so each is JSON with a stable ``code``.

Authentication, for every route but login and the OpenAPI document:

* scripts send ``Authorization: Bearer <token>`` (tokens are kept as SHA-256 digests);
* browsers hold the ``fsapps_session`` cookie (HttpOnly, SameSite=Strict), and send the
  session's CSRF token as ``X-CSRF-Token`` with every POST, PUT, PATCH and DELETE.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from apiflask import APIFlask, HTTPError
from flask import current_app, g, request
from psycopg_pool import PoolTimeout

from fsapps.flows.upload import FlowsSite
from fsapps.store import api as repo
from fsapps.store.db import Store, StoreError
from fsapps.web import bodies, errors, openapi, wallboard
from fsapps.web.calls import Calls
from fsapps.web.crm import Customers
from fsapps.web.live import LiveEvents, StreamSlots
from fsapps.web.policy import Principal
from fsapps.web.service import QueuesOf, Refused, Service, principal_for
from fsapps.web.throttle import Limits, LoginThrottle

log = logging.getLogger("fsapps.api")

PREFIX = "/api/v1"
SPEC_PATH = f"{PREFIX}/openapi.json"
COOKIE = "fsapps_session"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# endpoints that need no principal: logging in, and a customer's ticket web form and status link
PUBLIC = frozenset({"openapi.spec", "session.login", "tickets_public.web_form", "tickets_public.status"})
STATUS_OF = {"forbidden": 403, "not_found": 404, "conflict": 409, "invalid": 422, "switch": 502,
             "unavailable": 503}  # fmt: skip


@dataclass
class ApiContext:
    """What the routes use: the store, the tenants' queues as the flows define them, a clock."""

    store: Store
    queues: QueuesOf
    clock: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic
    session_hours: float = 12.0
    secure_cookie: bool = False
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    # The public ticket form: 5 tickets per address, 60 per tenant, in 10 minutes.
    form_throttle: LoginThrottle = field(
        default_factory=lambda: LoginThrottle(Limits(per_user=60, per_address=5, window=600.0))
    )
    switch: Callable[[str], str] | None = None  # an Event Socket api command, its reply (None: no switch)
    gateways: Callable[[], list[str]] = list  # operator.yaml's gateways, for numbers to dial
    flows: FlowsSite | None = None  # where uploaded flows go live (None: no uploads here)
    recordings: Path | None = None  # the switch's recordings_dir, as this host sees it (None: not here)
    voicemails: Path | None = None  # mod_voicemail's <storage_dir>/voicemail/default, as seen here
    live: LiveEvents | None = None  # what the event streams follow (None: no streams here)
    streams: StreamSlots = field(default_factory=lambda: StreamSlots(20))
    heartbeat: float = 15.0  # seconds between an idle stream's comments (proxies close silent ones)
    webhook_private: bool = False  # CRM webhooks may point at private addresses (webhooks.allow_private)

    def service(self, principal: Principal) -> Service:
        return Service(self.store, principal, queues=self.queues, clock=self.clock)

    def calls(self, principal: Principal) -> Calls:
        return Calls(self.service(principal), self.switch, self.gateways)


def context() -> ApiContext:
    ctx: ApiContext = current_app.extensions["fsapps"]
    return ctx


def service() -> Service:
    return context().service(g.principal)


def calls() -> Calls:
    return context().calls(g.principal)


def customers() -> Customers:
    return Customers(service())


def make_app(ctx: ApiContext) -> APIFlask:
    app = APIFlask(
        "fsapps", title="fsapps", version="1", spec_path=SPEC_PATH, docs_path=None, enable_openapi=True
    )
    app.config.update(
        MAX_CONTENT_LENGTH=1 << 20,
        HTTP_ERROR_SCHEMA=errors.ERROR_SCHEMA,
        VALIDATION_ERROR_SCHEMA=errors.ERROR_SCHEMA,
        AUTO_SERVERS=False,
        DESCRIPTION="The call center's HTTP API. Every request acts in one tenant (the path's"
        " `{tenant}`), as one user, within what their role allows.",
        SECURITY_SCHEMES={
            "bearer": {"type": "http", "scheme": "bearer", "description": "an API token"},
            "session": {
                "type": "apiKey",
                "in": "cookie",
                "name": COOKIE,
                "description": f"a browser's login; send {CSRF_HEADER} on changes",
            },
        },
        JSON_SORT_KEYS=False,
    )
    app.extensions["fsapps"] = ctx
    app.error_processor(errors.body)

    @app.spec_processor
    def _security(spec: Any) -> Any:
        spec["security"] = [{"bearer": []}, {"session": []}]
        spec["paths"][f"{PREFIX}/session"]["post"]["security"] = []  # logging in needs no login
        public = {("POST", f"{PREFIX}/session")}
        for path, item in spec["paths"].items():  # the ticket form and status link need none either
            if path.startswith(f"{PREFIX}/public/"):
                for method in item:
                    item[method]["security"] = []
                    public.add((method.upper(), path))
        rules = [rule.rule for rule in app.url_map.iter_rules()]
        return openapi.complete(spec, rules, public=public)

    @app.errorhandler(Refused)
    def _refused(exc: Refused) -> Any:
        return errors.body(errors.ApiError(STATUS_OF[exc.kind], exc.code, exc.message))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        if isinstance(exc, HTTPError):  # apiflask's own (validation): its processor answers
            return app.error_callback(exc)
        if isinstance(exc, (PoolTimeout, StoreError, psycopg.OperationalError)):
            log.warning("api: database unavailable: %s", exc)
            return errors.body(errors.ApiError(503, "database_unavailable", "the database is not answering"))
        log.exception("api: %s %s failed", request.method, request.path)
        return errors.body(errors.ApiError(500, "internal_error", "something went wrong on our side"))

    @app.before_request
    def _authenticate() -> None:
        if request.endpoint is None or request.endpoint in PUBLIC:
            return  # routing answers 404/405 on its own
        g.principal, g.csrf = authenticate(ctx)

    @app.before_request
    def _body() -> None:
        if request.endpoint is not None:
            bodies.check(request, app.config["MAX_CONTENT_LENGTH"])
            bodies.check_text(request)

    @app.after_request
    def _headers(resp: Any) -> Any:
        # Answers carry tokens, CSRF tokens and callers' numbers: no cache keeps them, and a
        # browser takes JSON as JSON only.
        resp.headers["Cache-Control"] = "no-store"
        resp.headers["X-Content-Type-Options"] = "nosniff"
        return resp

    from fsapps.web.routes import register

    register(app)
    return app


def still_signed_in(ctx: ApiContext, header: str, session_id: str) -> bool:
    """Whether the credentials a long request (an event stream) came with still hold: a
    revoked token, an ended session, a disabled user or a suspended tenant end it. A
    database that does not answer ends nothing."""
    try:
        with ctx.store.operator() as op:
            if header:
                row = repo.find_bearer(op, header.partition(" ")[2].strip())
            else:
                row = repo.find_session(op, session_id)
    except (PoolTimeout, StoreError, psycopg.Error) as exc:
        log.warning("api: credentials not checked again: %s", exc)
        return True
    return row is not None and row["tenant_status"] in (None, "active")


def authenticate(ctx: ApiContext) -> tuple[Principal, str | None]:
    """The request's principal and, for a cookie session, its CSRF token; raises 401/403."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    csrf = None
    if header:
        if scheme.lower() != "bearer" or not token.strip():
            raise errors.ApiError(401, "unauthenticated", "Authorization: expected Bearer <token>",
                                  headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
        if wallboard.is_wallboard_token(token.strip()):  # a TV's read-only token: no user behind it
            return wallboard.principal(ctx.store, token.strip(), request.endpoint), None
        with ctx.store.operator() as op:
            row = repo.find_bearer(op, token.strip())
        if row is None:
            raise errors.ApiError(401, "invalid_token", "the token is unknown, revoked or expired",
                                  headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
    else:
        session_id = request.cookies.get(COOKIE)
        if not session_id:
            raise errors.ApiError(401, "unauthenticated", "log in, or send Authorization: Bearer <token>",
                                  headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
        with ctx.store.operator() as op:
            row = repo.find_session(op, session_id)
        if row is None:
            raise errors.ApiError(401, "session_expired", "the session has ended: log in again")
        csrf = row["csrf_token"]
        if request.method in UNSAFE:
            sent = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent.encode(), csrf.encode()):
                raise errors.ApiError(403, "csrf_failed", f"send the session's CSRF token as {CSRF_HEADER}")
    if row["tenant_status"] not in (None, "active"):
        why = f"tenant {row['tenant_id']!r} is {row['tenant_status']}"
        raise errors.ApiError(403, "tenant_suspended", why)
    return principal_for(ctx.store, row), csrf
