"""The supervisor's floor and the wallboard: queues' figures now and today, and the
read-only tokens a tenant admin issues to wallboards (TVs), which read those figures only."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint

from fsapps.web import schemas
from fsapps.web.app import PREFIX, service

bp = APIBlueprint("floor", __name__, url_prefix=PREFIX + "/tenants/<tenant>", tag="Floor")


@bp.get("/queue-figures")
@bp.output(schemas.QueueFigures(many=True))
@bp.doc(summary="Queues' figures: waiting, longest wait, today's service level against its target,"
                " abandoned, agents by activity (a supervisor: their groups'; a wallboard token:"
                " these alone)",
        responses=[200, 401, 403, 404])  # fmt: skip
def queue_figures(tenant: str) -> Any:
    return service().queue_figures(tenant)


@bp.get("/wallboards")
@bp.output(schemas.WallboardInfo(many=True))
@bp.doc(summary="The tenant's wallboard tokens (names and dates; the tokens are never shown again)",
        responses=[200, 401, 403, 404])  # fmt: skip
def list_wallboards(tenant: str) -> Any:
    return service().wallboard_tokens(tenant)


@bp.post("/wallboards")
@bp.input(schemas.WallboardIn, arg_name="body")
@bp.output(schemas.WallboardOut, status_code=201)
@bp.doc(summary="Issue a wallboard token (shown once): it reads the queue figures and nothing else",
        responses=[201, 401, 403, 404, 422])  # fmt: skip
def issue_wallboard(tenant: str, body: dict[str, Any]) -> Any:
    return service().issue_wallboard_token(tenant, body["name"])


@bp.delete("/wallboards/<int:token_id>")
@bp.output({}, status_code=204)
@bp.doc(summary="Revoke a wallboard token: its screen goes blank at its next refresh",
        responses=[204, 401, 403, 404])  # fmt: skip
def revoke_wallboard(tenant: str, token_id: int) -> Any:
    service().revoke_wallboard_token(tenant, token_id)
    return "", 204
