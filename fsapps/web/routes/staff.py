"""Staffing: agents created, changed and taken off the tenant; the agents on a queue's
tiers (tenant.yaml's, put live as a flow upload). Thin adapters over fsapps.web.staff."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint

from fsapps.flows.upload import UploadRefused
from fsapps.web import schemas
from fsapps.web.app import PREFIX, context, service
from fsapps.web.errors import ApiError
from fsapps.web.routes.flows import STATUS as UPLOAD_STATUS
from fsapps.web.staff import Staff

agents = APIBlueprint("staff_agents", __name__, url_prefix=PREFIX + "/tenants/<tenant>", tag="Agents")
tiers = APIBlueprint("staff_tiers", __name__, url_prefix=PREFIX + "/tenants/<tenant>", tag="Queues")


def staff() -> Staff:
    ctx = context()
    return Staff(service(), ctx.gateways, ctx.flows)


@agents.post("/agents")
@agents.input(schemas.AgentIn, arg_name="body")
@agents.output(schemas.AgentOut, status_code=201)
@agents.doc(summary="Add an agent serving this tenant (Logged Out); an id taken anywhere is 409",
            responses=[201, 401, 403, 404, 409, 422])  # fmt: skip
def create_agent(tenant: str, body: dict[str, Any]) -> Any:
    return staff().create(tenant, body)


@agents.patch("/agents/<agent>")
@agents.input(schemas.AgentChangeIn, arg_name="body")
@agents.output(schemas.AgentOut)
@agents.doc(summary="Change the agent's name, contact or settings (a shared agent: the operator)",
            responses=[200, 401, 403, 404, 409, 422])  # fmt: skip
def change_agent(tenant: str, agent: str, body: dict[str, Any]) -> Any:
    return staff().change(tenant, agent, body)


@agents.delete("/agents/<agent>")
@agents.output({}, status_code=204)
@agents.doc(summary="Take the agent off this tenant (deleted unless they serve another); not while on a"
            " queue's tiers or a call (409)", responses=[204, 401, 403, 404, 409, 502, 503])  # fmt: skip
def delete_agent(tenant: str, agent: str) -> Any:
    staff().remove(tenant, agent)
    return "", 204


@tiers.get("/queues/<queue>/tiers")
@tiers.output(schemas.TiersOut)
@tiers.doc(
    summary="The agents on the queue's tiers, as the live flows have them", responses=[200, 401, 403, 404]
)
def get_tiers(tenant: str, queue: str) -> Any:
    return staff().tiers(tenant, queue)


@tiers.put("/queues/<queue>/tiers")
@tiers.input(schemas.TiersIn, arg_name="body")
@tiers.output(schemas.TiersOut)
@tiers.doc(
    summary="Replace the queue's tiers in tenant.yaml (the rest of the file kept as written), checked and"
    " put live as a flow upload: problems come back (422, detail.problems: file, line, column, message)"
    " and nothing changes",
    responses=[200, 401, 403, 404, 409, 422, 502, 503],
)
def put_tiers(tenant: str, queue: str, body: dict[str, Any]) -> Any:
    try:
        return staff().set_tiers(tenant, queue, body["tiers"])
    except UploadRefused as exc:
        raise ApiError(
            UPLOAD_STATUS[exc.code], exc.code, exc.message, detail={"problems": exc.problems}
        ) from None
