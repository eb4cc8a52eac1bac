"""The agent's desk: the screen pops of the agent's calls (after a reload too), and the
recorded calls on a customer's card, played in place (fsapps.web.desk)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from apiflask import APIBlueprint
from apiflask.schemas import FileSchema
from flask import send_file

from fsapps.web.app import PREFIX, context, service
from fsapps.web.desk import Desk
from fsapps.web.desk_schemas import ScreenPops
from fsapps.web.routes.recordings import STREAM

bp = APIBlueprint("desk", __name__, url_prefix=PREFIX + "/tenants/<tenant>", tag="Desk")


def desk() -> Desk:
    ctx = context()
    return Desk(service(), ctx.live, ctx.switch)


@bp.get("/agents/<agent>/screen-pops")
@bp.output(ScreenPops)
@bp.doc(summary="The agent's calls as their desk pops them: ringing, talking, handed to them",
        responses=[200, 401, 403, 404])  # fmt: skip
def screen_pops(tenant: str, agent: str) -> Any:
    return desk().screen_pops(tenant, agent)


@bp.get("/customers/<int:customer>/recordings/<uuid:recording>/audio")
@bp.output(FileSchema(), content_type="audio/wav", description="the whole recording")
@bp.doc(summary="Play a recorded call on the customer's timeline (Range: bytes=... gives 206)",
        responses=STREAM)  # fmt: skip
def customer_recording(tenant: str, customer: int, recording: UUID) -> Any:
    path = desk().recording_file(tenant, customer, str(recording), context().recordings)
    return send_file(path, mimetype="audio/wav", conditional=True, max_age=0, etag=True)
