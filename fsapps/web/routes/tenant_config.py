"""A tenant's business hours (tenant.yaml's calendars) and prompts (a recording or text for
the TTS), each changed on its own and put live as a flow upload (fsapps.web.tenant_config)."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from apiflask import APIBlueprint

from fsapps.flows.upload import UploadRefused
from fsapps.web import schemas
from fsapps.web.app import PREFIX, context, service
from fsapps.web.errors import ApiError
from fsapps.web.routes.flows import STATUS as UPLOAD_STATUS
from fsapps.web.tenant_config import TenantConfig

bp = APIBlueprint("tenant_config", __name__, url_prefix=PREFIX + "/tenants/<tenant>", tag="Flows")

NAME = re.compile(r"[a-z0-9]+(_[a-z0-9]+)*", re.ASCII)  # tenant.yaml's calendar names (its schema's)
PUT_LIVE = [200, 401, 403, 404, 409, 422, 502, 503]


def config() -> TenantConfig:
    return TenantConfig(service(), context().flows)


def _live(fn: Any) -> Any:
    try:
        return fn()
    except UploadRefused as exc:
        raise ApiError(
            UPLOAD_STATUS[exc.code], exc.code, exc.message, detail={"problems": exc.problems}
        ) from None


@bp.get("/calendars")
@bp.output(schemas.CalendarsOut)
@bp.doc(summary="The tenant's business hours: tenant.yaml's calendars as they are live",
        responses=[200, 401, 403, 404, 503])  # fmt: skip
def get_calendars(tenant: str) -> Any:
    return config().calendars(tenant)


@bp.put("/calendars/<name>")
@bp.input(schemas.CalendarIn, arg_name="body")
@bp.output(schemas.CalendarsOut)
@bp.doc(summary="Set (or add) a calendar in tenant.yaml (the rest of the file kept as written), checked and"
                " put live as a flow upload: problems come back (422, detail.problems: file, line, column,"
                " message) and nothing changes", responses=PUT_LIVE)  # fmt: skip
def put_calendar(tenant: str, name: str, body: dict[str, Any]) -> Any:
    _name(name)
    closed = [{"from": c["from_"], "to": c["to"]} for c in body["closed"]]
    return _live(lambda: config().set_calendar(tenant, name, {**body, "closed": closed}))


@bp.get("/prompts")
@bp.output(schemas.PromptsOut)
@bp.doc(summary="The tenant's prompts: tenant.yaml's, each a recording (file) or text for the TTS",
        responses=[200, 401, 403, 404, 503])  # fmt: skip
def get_prompts(tenant: str) -> Any:
    return config().prompts(tenant)


@bp.put("/prompts/<name>")
@bp.input(schemas.PromptIn, arg_name="body")
@bp.output(schemas.PromptsOut)
@bp.doc(summary="Set (or add) a prompt: text for the TTS, or a recording (base64 WAV, checked: RIFF/WAVE,"
                " 16-bit PCM, mono, 8 or 16 kHz; stored with the tenant's prompts); put live as a flow"
                " upload, problems at file:line (422) and nothing changed", responses=PUT_LIVE)  # fmt: skip
def put_prompt(tenant: str, name: str, body: dict[str, Any]) -> Any:
    _name(name)
    if "text" in body:
        return _live(lambda: config().set_prompt_text(tenant, name, body["text"]))
    try:
        data = base64.b64decode(body["wav"], validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(422, "bad_wav", "wav: not base64") from None
    return _live(lambda: config().set_prompt_recording(tenant, name, data))


def _name(name: str) -> None:
    if len(name) > 63 or not NAME.fullmatch(name):
        raise ApiError(422, "invalid_name", "a name of lower-case letters and digits, words joined by _")
