"""A tenant's flows: their YAML as it is live, and an upload that is checked, then
rendered, installed and reloaded (fsapps.flows.upload) or refused with its problems."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint

from fsapps.flows.upload import UploadRefused
from fsapps.web import schemas
from fsapps.web.app import PREFIX, context, service
from fsapps.web.errors import ApiError

bp = APIBlueprint("flows", __name__, url_prefix=PREFIX + "/tenants/<tenant>", tag="Flows")

STATUS = {"bad_files": 422, "problems": 422, "other_tenants": 409, "install_failed": 422,
          "reload_failed": 502}  # fmt: skip


def _site() -> Any:
    site = context().flows
    if site is None:
        raise ApiError(503, "no_flows_dir", "this server does not take flow uploads (no flows directory)")
    return site


@bp.get("/flows")
@bp.output(schemas.FlowFiles)
@bp.doc(summary="The tenant's YAML as it is live (tenant.yaml, flows/*.yaml)",
        responses=[200, 401, 403, 404, 503])  # fmt: skip
def get_flows(tenant: str) -> Any:
    service().may_in(tenant, "flows.read")
    return {"files": _site().files(tenant)}


@bp.put("/flows")
@bp.input(schemas.FlowFiles, arg_name="body")
@bp.output(schemas.FlowsLive)
@bp.doc(
    summary="Upload all the tenant's YAML: problems come back (422, detail.problems: file, line, column,"
    " message) and nothing changes; clean, it is rendered, installed and reloaded",
    responses=[200, 401, 403, 404, 409, 422, 502, 503],
)
def put_flows(tenant: str, body: dict[str, Any]) -> Any:
    service().may_in(tenant, "flows.write")
    try:
        live = _site().upload(tenant, body["files"])
    except UploadRefused as exc:
        raise ApiError(STATUS[exc.code], exc.code, exc.message, detail={"problems": exc.problems}) from None
    (ours,) = [t for t in live.tenants if t.id == tenant]
    return {"tenant": tenant, "flows": sorted(ours.flows), "queues": sorted(ours.queues)}
