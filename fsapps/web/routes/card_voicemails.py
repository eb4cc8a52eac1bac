"""The voicemails on a customer's card, played in place (fsapps.web.voicemail_files)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from apiflask import APIBlueprint
from apiflask.schemas import FileSchema
from flask import send_file

from fsapps.web.app import PREFIX, context, service
from fsapps.web.routes.recordings import STREAM
from fsapps.web.voicemail_files import voicemail_file

bp = APIBlueprint("card_voicemails", __name__, url_prefix=PREFIX + "/tenants/<tenant>", tag="Desk")


@bp.get("/customers/<int:customer>/voicemails/<uuid:voicemail>/audio")
@bp.output(FileSchema(), content_type="audio/wav", description="the whole message")
@bp.doc(summary="Play a voicemail on the customer's timeline (Range: bytes=... gives 206)",
        responses=STREAM)  # fmt: skip
def customer_voicemail(tenant: str, customer: int, voicemail: UUID) -> Any:
    path = voicemail_file(service(), tenant, customer, str(voicemail), context().voicemails)
    return send_file(path, mimetype="audio/wav", conditional=True, max_age=0, etag=True)
