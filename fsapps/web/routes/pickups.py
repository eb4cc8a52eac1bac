"""What an agent's desk offers to pick up: the calls of their queues ringing at a
colleague's phone (fsapps.web.pickups); the pickup is fsapps.web.routes.calls'."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint, Schema
from apiflask.fields import Float, List, String

from fsapps.web.app import PREFIX, service
from fsapps.web.pickups import ringing_elsewhere

bp = APIBlueprint("pickups", __name__, url_prefix=PREFIX + "/tenants/<tenant>", tag="Calls")


class RingingCall(Schema):
    uuid = String(metadata={"description": "the caller's channel (the pickup's `caller`)"})
    queue = String()
    number = String(allow_none=True)
    name = String(allow_none=True)
    wait_seconds = Float(metadata={"description": "since they joined the queue"})
    ringing = List(String(), metadata={"description": "the agents whose phones ring with the call"})


@bp.get("/agents/<agent>/pickups")
@bp.output(RingingCall(many=True))
@bp.doc(summary="Calls the agent may pick up: their queues' calls ringing at other agents' phones",
        responses=[200, 401, 403, 404])  # fmt: skip
def pickups(tenant: str, agent: str) -> Any:
    return ringing_elsewhere(service(), tenant, agent)
