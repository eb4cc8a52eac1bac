"""The tenant admin's deletions and the prompt player: delete a user, delete a prompt, and
a recorded prompt's WAV for an ``<audio>`` element (fsapps.web.tenant_admin)."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from apiflask.schemas import FileSchema
from flask import send_file

from fsapps.web import schemas
from fsapps.web.app import PREFIX, context, service
from fsapps.web.routes.recordings import STREAM
from fsapps.web.routes.tenant_config import PUT_LIVE, _live, _name
from fsapps.web.tenant_admin import TenantAdmin

bp = APIBlueprint("tenant_admin", __name__, url_prefix=PREFIX + "/tenants/<tenant>", tag="Tenants")


def admin() -> TenantAdmin:
    return TenantAdmin(service(), context().flows)


@bp.delete("/users/<int:user_id>")
@bp.output({}, status_code=204)
@bp.doc(summary="Delete a user: their sessions and tokens end, their agent stays without a login. Not"
                " one's own account (422 own_account), nor the tenant's last enabled tenant admin"
                " (409 last_tenant_admin)", responses=[204, 401, 403, 404, 409, 422])  # fmt: skip
def delete_user(tenant: str, user_id: int) -> Any:
    admin().delete_user(tenant, user_id)
    return "", 204


@bp.delete("/prompts/<name>")
@bp.output(schemas.PromptsOut)
@bp.doc(summary="Delete a prompt from tenant.yaml, put live as a flow upload: one a flow still plays"
                " comes back as problems at file:line (422) and nothing changes; its recording goes"
                " with it", responses=PUT_LIVE)  # fmt: skip
def delete_prompt(tenant: str, name: str) -> Any:
    _name(name)
    return _live(lambda: admin().delete_prompt(tenant, name))


@bp.get("/prompts/<name>/audio")
@bp.output(FileSchema(), content_type="audio/wav", description="the prompt's recording")
@bp.doc(summary="A recorded prompt's WAV, to play in place (Range: bytes=... gives 206); a spoken"
                " prompt has none (404 spoken_prompt)", responses=STREAM)  # fmt: skip
def prompt_audio(tenant: str, name: str) -> Any:
    _name(name)
    path = admin().prompt_audio(tenant, name)
    return send_file(path, mimetype="audio/wav", conditional=True, max_age=0, etag=True)
