"""Voicemails: one message, and its audio (played in place from the ticket it opened),
streamed with HTTP range requests as recordings are (fsapps.web.routes.recordings)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from apiflask import APIBlueprint
from apiflask.schemas import FileSchema
from flask import send_file

from fsapps.web import ticket_schemas as schemas
from fsapps.web.app import PREFIX, context, service
from fsapps.web.routes.recordings import STREAM
from fsapps.web.voicemails import Voicemails

bp = APIBlueprint("voicemails", __name__, url_prefix=PREFIX + "/tenants/<tenant>", tag="Tickets")


@bp.get("/voicemails/<uuid:voicemail>")
@bp.output(schemas.VoicemailOut)
@bp.doc(summary="A voicemail: who left it, when, how long, and the ticket it opened",
        responses=[200, 401, 403, 404])  # fmt: skip
def get_voicemail(tenant: str, voicemail: UUID) -> Any:
    return Voicemails(service()).get(tenant, str(voicemail))


@bp.get("/voicemails/<uuid:voicemail>/audio")
@bp.output(FileSchema(), content_type="audio/wav", description="the whole message")
@bp.doc(summary="Play the voicemail (Range: bytes=... gives 206 and Content-Range)", responses=STREAM)
def get_voicemail_audio(tenant: str, voicemail: UUID) -> Any:
    path = Voicemails(service()).file(tenant, str(voicemail), context().voicemails)
    return send_file(path, mimetype="audio/wav", conditional=True, max_age=0, etag=True)
