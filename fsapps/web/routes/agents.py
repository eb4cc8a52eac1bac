"""Agents: their status (with a break's reason) and skills (with proficiency)."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint

from fsapps.web import schemas
from fsapps.web.app import PREFIX, context, service

bp = APIBlueprint("agents", __name__, url_prefix=PREFIX + "/tenants/<tenant>", tag="Agents")


@bp.get("/agents")
@bp.output(schemas.AgentOut(many=True))
@bp.doc(summary="The tenant's agents (a supervisor: their groups')", responses=[200, 401, 403, 404])
def list_agents(tenant: str) -> Any:
    return service().agents(tenant)


@bp.get("/agents/<agent>")
@bp.output(schemas.AgentOut)
@bp.doc(summary="One agent", responses=[200, 401, 403, 404])
def get_agent(tenant: str, agent: str) -> Any:
    return service().agent(tenant, agent)


@bp.put("/agents/<agent>/status")
@bp.input(schemas.StatusIn, arg_name="body")
@bp.output(schemas.AgentOut)
@bp.doc(summary="Set the agent's status (an agent: their own; not Available while a required"
        " disposition is missing: 409 wrap_up_required)", responses=[200, 401, 403, 404, 409, 422])
def set_status(tenant: str, agent: str, body: dict[str, Any]) -> Any:
    return service().set_status(tenant, agent, body["status"], body["reason"])


@bp.put("/agents/<agent>/skills")
@bp.input(schemas.SkillsIn, arg_name="body")
@bp.output(schemas.AgentOut)
@bp.doc(summary="Set the agent's skills and proficiency", responses=[200, 401, 403, 404, 422])
def set_skills(tenant: str, agent: str, body: dict[str, Any]) -> Any:
    return service().set_skills(tenant, agent, body["skills"])


@bp.put("/agents/<agent>/phone")
@bp.input(schemas.PhoneIn, arg_name="body")
@bp.output(schemas.PhoneOut)
@bp.doc(summary="Provision the agent's SIP phone: a user of the tenant's directory with a new password",
        responses=[200, 401, 403, 404, 409, 422, 502, 503])  # fmt: skip
def provision_phone(tenant: str, agent: str, body: dict[str, Any]) -> Any:
    return service().provision_phone(tenant, agent, body["user"], context().flows)
