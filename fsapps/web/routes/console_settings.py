"""A tenant's console settings: the timezone every page shows times in, and the supervisor
floor's stuck-agent limits, which the tenant admin changes."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint

from fsapps.web import schemas
from fsapps.web.app import PREFIX, service
from fsapps.web.console_settings import ConsoleSettings

bp = APIBlueprint(
    "console_settings", __name__, url_prefix=PREFIX + "/tenants/<tenant>", tag="Tenants and users"
)


def settings() -> ConsoleSettings:
    return ConsoleSettings(service())


@bp.get("/console-settings")
@bp.output(schemas.ConsoleSettingsOut)
@bp.doc(summary="The tenant's timezone (the console shows times in it) and the floor's stuck-agent limits"
                " (every role of the tenant, and its wallboard tokens)",
        responses=[200, 401, 403, 404])  # fmt: skip
def get_console_settings(tenant: str) -> Any:
    return settings().read(tenant)


@bp.patch("/console-settings/stuck-limits")
@bp.input(schemas.StuckLimitsIn, arg_name="body")
@bp.output(schemas.ConsoleSettingsOut)
@bp.doc(summary="Change the floor's stuck-agent limits (seconds per activity; those not named are kept)",
        responses=[200, 401, 403, 404, 422])  # fmt: skip
def set_stuck_limits(tenant: str, body: dict[str, Any]) -> Any:
    return settings().set_stuck_limits(tenant, body)
