"""Recordings of queue calls: found by the call, the agent, the caller's number and the
date; streamed with HTTP range requests (werkzeug's conditional send_file: 206 and
Content-Range for a Range, 416 for one past the end). The file is the one the store
names for the recording's id, under the tenant's recordings folder; the client never
names a path."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from apiflask import APIBlueprint
from apiflask.schemas import FileSchema
from flask import send_file

from fsapps.web import schemas
from fsapps.web.app import PREFIX, context, service

AUDIO: dict[str, Any] = {"type": "string", "format": "binary"}
STREAM: dict[int | str, dict[str, Any]] = {
    200: {"description": "the whole recording"},
    206: {"description": "the part the Range asked for", "content": {"audio/wav": {"schema": AUDIO}}},
    401: {"description": "Unauthorized"},
    403: {"description": "Forbidden"},
    404: {"description": "Not found"},
    416: {"description": "Range Not Satisfiable"},
    503: {"description": "this server cannot read the recordings"},
}
bp = APIBlueprint("recordings", __name__, url_prefix=PREFIX + "/tenants/<tenant>", tag="Recordings")


@bp.get("/recordings")
@bp.input(schemas.RecordingsQuery, location="query", arg_name="query")
@bp.output(schemas.RecordingOut(many=True))
@bp.doc(summary="Recorded calls, newest first (a supervisor: their groups' queues')",
        responses=[200, 401, 403, 404, 422])  # fmt: skip
def list_recordings(tenant: str, query: dict[str, Any]) -> Any:
    filters = {**query, "call": str(query["call"]) if query["call"] else None}
    return service().recordings(tenant, filters)


@bp.get("/recordings/<uuid:recording>")
@bp.output(schemas.RecordingOut)
@bp.doc(summary="One recorded call", responses=[200, 401, 403, 404])
def get_recording(tenant: str, recording: UUID) -> Any:
    return service().recording(tenant, str(recording))


@bp.get("/recordings/<uuid:recording>/audio")
@bp.output(FileSchema(), content_type="audio/wav", description="the whole recording")
@bp.doc(summary="Stream the recording (Range: bytes=... gives 206 and Content-Range)", responses=STREAM)
def get_audio(tenant: str, recording: UUID) -> Any:
    path = service().recording_file(tenant, str(recording), context().recordings)
    return send_file(path, mimetype="audio/wav", conditional=True, max_age=0, etag=True)
