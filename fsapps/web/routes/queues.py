"""Queues: their settings and tiers, and live state (callers waiting, their place and wait)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from apiflask import APIBlueprint

from fsapps.web import schemas
from fsapps.web.app import PREFIX, calls, service

bp = APIBlueprint("queues", __name__, url_prefix=PREFIX + "/tenants/<tenant>", tag="Queues")


@bp.get("/queues")
@bp.output(schemas.QueueOut(many=True))
@bp.doc(summary="The tenant's queues with live state (a supervisor: their groups')",
        responses=[200, 401, 403, 404])  # fmt: skip
def list_queues(tenant: str) -> Any:
    return service().queues(tenant)


@bp.get("/queues/<queue>")
@bp.output(schemas.QueueOut)
@bp.doc(
    summary="One queue: settings, tiers, callers in the order they are served", responses=[200, 401, 403, 404]
)
def get_queue(tenant: str, queue: str) -> Any:
    return service().queue(tenant, queue)


@bp.post("/queues/<queue>/callers/<uuid:member>/move")
@bp.input(schemas.MoveIn, arg_name="body")
@bp.output({}, status_code=204)
@bp.doc(summary="Move a waiting caller to another queue (a new wait there)",
        responses=[204, 401, 403, 404, 409, 422])  # fmt: skip
def move_caller(tenant: str, queue: str, member: UUID, body: dict[str, Any]) -> Any:
    calls().move(tenant, queue, str(member), body["queue"])
    return "", 204


@bp.put("/queues/<queue>/callers/<uuid:member>/priority")
@bp.input(schemas.PriorityIn, arg_name="body")
@bp.output({}, status_code=204)
@bp.doc(summary="Move a waiting caller up (higher priority) or down", responses=[204, 401, 403, 404, 422])
def set_priority(tenant: str, queue: str, member: UUID, body: dict[str, Any]) -> Any:
    service().set_priority(tenant, queue, str(member), body["priority"])
    return "", 204
