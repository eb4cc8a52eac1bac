"""Logging in and out (browsers), and who am I (everyone)."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import g, make_response, request

from fsapps.store import api as repo
from fsapps.store.db import verify_password
from fsapps.web import errors, schemas
from fsapps.web.app import COOKIE, PREFIX, context
from fsapps.web.policy import Principal
from fsapps.web.service import principal_for, session_expiry

bp = APIBlueprint("session", __name__, url_prefix=PREFIX, tag="Session")

# Checked when the username is unknown, so that a wrong username costs the same time as a
# wrong password (no telling which usernames exist from the answer's delay).
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$2uUBjFJsv8r4uPZbcq/9dBvkzb6TKOYw/Vx3l4JkLr8"
)


def _me(p: Principal, csrf: str | None) -> dict[str, Any]:
    return {
        "user_id": p.user_id, "username": p.username, "role": str(p.role), "tenant": p.tenant_id,
        "agent": p.agent_id, "queues": sorted(p.queues), "agents": sorted(p.agents), "csrf_token": csrf,
    }  # fmt: skip


@bp.post("/session")
@bp.input(schemas.Login, arg_name="body")
@bp.output(schemas.Me)
@bp.doc(summary="Log in: sets the session cookie", security=[], responses=[200, 401, 422, 429])
def login(body: dict[str, Any]) -> Any:
    ctx = context()
    username, address = body["username"], request.remote_addr or "-"
    now = ctx.monotonic()
    wait = ctx.throttle.retry_after(username, address, now)
    if wait is not None:
        raise errors.ApiError(429, "too_many_attempts", "too many failed logins: try again later",
                              headers={"Retry-After": str(int(wait) + 1)})  # fmt: skip
    with ctx.store.operator() as op:
        found = op.find_user(username)
    user, password_hash = found if found else (None, _DUMMY_HASH)
    ok = verify_password(password_hash, body["password"])
    if user is None or user.disabled or not ok:
        ctx.throttle.failed(username, address, now)
        raise errors.ApiError(401, "wrong_credentials", "wrong username or password")
    ctx.throttle.succeeded(username)
    with ctx.store.operator() as op:
        status = op.tenant(user.tenant_id).status if user.tenant_id else "active"
        if status != "active":
            raise errors.ApiError(403, "tenant_suspended", f"tenant {user.tenant_id!r} is {status}")
        session_id, csrf = repo.open_session(op, user.id, session_expiry(ctx.clock(), ctx.session_hours))
    principal = principal_for(ctx.store, {"user_id": user.id, "username": user.username, "role": user.role,
                                          "tenant_id": user.tenant_id})  # fmt: skip
    resp = make_response(schemas.Me().dump({**_me(principal, csrf), "language": user.language}))
    resp.set_cookie(COOKIE, session_id, max_age=int(ctx.session_hours * 3600), path=PREFIX, httponly=True,
                    samesite="Strict", secure=ctx.secure_cookie)  # fmt: skip
    return resp


@bp.get("/session")
@bp.output(schemas.Me)
@bp.doc(summary="Who is asking: user, role, tenant, and the CSRF token of a cookie session")
def me() -> Any:
    return _me(g.principal, g.csrf)


@bp.delete("/session")
@bp.output({}, status_code=204)
@bp.doc(summary="Log out: the session ends (a bearer token stays valid)")
def logout() -> Any:
    session_id = request.cookies.get(COOKIE)
    if session_id:
        with context().store.operator() as op:
            repo.close_session(op, session_id)
    resp = make_response("", 204)
    resp.delete_cookie(COOKIE, path=PREFIX, httponly=True, samesite="Strict")
    return resp
