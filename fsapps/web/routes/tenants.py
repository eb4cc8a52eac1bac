"""Tenants (the operator's), their users and API tokens, and supervisors' groups."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint

from fsapps.store.records import Tenant
from fsapps.web import schemas
from fsapps.web.app import PREFIX, service

bp = APIBlueprint("tenants", __name__, url_prefix=PREFIX, tag="Tenants and users")


@bp.get("/tenants")
@bp.output(schemas.TenantOut(many=True))
@bp.doc(summary="All tenants (operator)", responses=[200, 401, 403])
def list_tenants() -> Any:
    return service().tenants()


@bp.post("/tenants")
@bp.input(schemas.TenantIn, arg_name="body")
@bp.output(schemas.TenantOut, status_code=201)
@bp.doc(summary="Add a tenant (operator)", responses=[201, 401, 403, 409, 422])
def add_tenant(body: dict[str, Any]) -> Any:
    tenant = Tenant(body["id"], body.get("name") or body["id"], body["domain"], body["timezone"],
                    body["language"])  # fmt: skip
    return service().add_tenant(tenant, body["numbers"])


@bp.get("/tenants/<tenant>")
@bp.output(schemas.TenantOut)
@bp.doc(summary="One tenant (operator; a tenant admin: their own)", responses=[200, 401, 403, 404])
def get_tenant(tenant: str) -> Any:
    return service().tenant(tenant)


@bp.get("/tenants/<tenant>/users")
@bp.output(schemas.UserOut(many=True))
@bp.doc(summary="The tenant's users", responses=[200, 401, 403, 404])
def list_users(tenant: str) -> Any:
    return service().users(tenant)


@bp.post("/tenants/<tenant>/users")
@bp.input(schemas.UserIn, arg_name="body")
@bp.output(schemas.UserOut, status_code=201)
@bp.doc(summary="Add a user with a role", responses=[201, 401, 403, 404, 409, 422])
def add_user(tenant: str, body: dict[str, Any]) -> Any:
    return service().add_user(tenant, body["username"], body["password"], body["role"], body.get("language"))


@bp.patch("/tenants/<tenant>/users/<int:user_id>")
@bp.input(schemas.UserChange, arg_name="body")
@bp.output(schemas.UserOut)
@bp.doc(summary="Change a user's role or console language, or disable them",
        responses=[200, 401, 403, 404, 422])  # fmt: skip
def change_user(tenant: str, user_id: int, body: dict[str, Any]) -> Any:
    return service().change_user(tenant, user_id, body)


@bp.post("/tenants/<tenant>/users/<int:user_id>/tokens")
@bp.input(schemas.TokenIn, arg_name="body")
@bp.output(schemas.TokenOut, status_code=201)
@bp.doc(summary="Issue an API token for a user (shown once)", responses=[201, 401, 403, 404, 422])
def issue_token(tenant: str, user_id: int, body: dict[str, Any]) -> Any:
    return {"token": service().issue_token(tenant, user_id, body["name"], body["expires_at"])}


@bp.get("/tenants/<tenant>/users/<int:user_id>/tokens")
@bp.output(schemas.TokenInfo(many=True))
@bp.doc(summary="A user's API tokens (names and dates; the tokens are never shown again)",
        responses=[200, 401, 403, 404])  # fmt: skip
def list_tokens(tenant: str, user_id: int) -> Any:
    return service().tokens(tenant, user_id)


@bp.delete("/tenants/<tenant>/users/<int:user_id>/tokens/<int:token_id>")
@bp.output({}, status_code=204)
@bp.doc(summary="Revoke an API token: it stops working at once", responses=[204, 401, 403, 404])
def revoke_token(tenant: str, user_id: int, token_id: int) -> Any:
    service().revoke_token(tenant, user_id, token_id)
    return "", 204


@bp.get("/tenants/<tenant>/groups")
@bp.output(schemas.Group(many=True))
@bp.doc(
    summary="Supervisors' groups: who looks after which queues and agents", responses=[200, 401, 403, 404]
)
def list_groups(tenant: str) -> Any:
    return service().groups(tenant)


@bp.put("/tenants/<tenant>/groups/<group>")
@bp.input(schemas.Group, arg_name="body")
@bp.output({}, status_code=204)
@bp.doc(summary="Set a group's supervisors, agents and queues", responses=[204, 401, 403, 404, 422])
def put_group(tenant: str, group: str, body: dict[str, Any]) -> Any:
    service().put_group(tenant, group, body["supervisors"], body["agents"], body["queues"])
    return "", 204
