"""Who a wallboard is: a TV on the floor, holding a read-only token a tenant admin issued
(``fsw_...``, kept as a SHA-256 digest in wallboard_tokens). It belongs to no user; its
principal has the wallboard role, which fsapps.web.policy lets read the queue figures (and
the console settings: the tenant's timezone) and nothing else. A route that does not ask
the policy (who am I, log out) is refused here too, so a route added later is closed to
wallboards until it is named in ``READS``."""

from __future__ import annotations

from fsapps.store import api as repo
from fsapps.store.db import Store
from fsapps.web import errors
from fsapps.web.policy import Principal, Role

# the endpoints a wallboard token may reach: the figures, and the tenant's timezone to show
# the time of each update in
READS = frozenset({"floor.queue_figures", "console_settings.get_console_settings"})


def is_wallboard_token(token: str) -> bool:
    return token.startswith(repo.WALLBOARD_PREFIX)


def principal(store: Store, token: str, endpoint: str | None) -> Principal:
    """The wallboard's principal for this request; raises 401 (unknown or revoked), 403
    (the tenant suspended, or an endpoint that is not a wallboard's)."""
    with store.operator() as op:
        row = repo.find_wallboard(op, token)
    if row is None:
        raise errors.ApiError(401, "invalid_token", "the token is unknown, revoked or expired",
                              headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
    if row["tenant_status"] != "active":
        why = f"tenant {row['tenant_id']!r} is {row['tenant_status']}"
        raise errors.ApiError(403, "tenant_suspended", why)
    if endpoint not in READS:
        why = "a wallboard token reads the queue figures (and the tenant's timezone) and nothing else"
        raise errors.ApiError(403, "wallboard_only", why)
    return Principal(0, f"wallboard {row['name']}", Role.WALLBOARD, row["tenant_id"])
