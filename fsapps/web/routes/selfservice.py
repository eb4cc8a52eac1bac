"""What the self-service flows read (blacklist, outage notices) and what they leave for
people (callbacks to return)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from apiflask import APIBlueprint

from fsapps.web import schemas
from fsapps.web.app import PREFIX, service

bp = APIBlueprint("selfservice", __name__, url_prefix=PREFIX + "/tenants/<tenant>", tag="Self-service")


@bp.get("/blacklist")
@bp.output(schemas.BlacklistOut(many=True))
@bp.doc(summary="Numbers the flows turn away", responses=[200, 401, 403, 404])
def list_blacklist(tenant: str) -> Any:
    return service().blacklist(tenant)


@bp.put("/blacklist/<number>")
@bp.input(schemas.BlacklistIn, arg_name="body")
@bp.output({}, status_code=204)
@bp.doc(summary="Add or change an entry (a number, or a prefix)", responses=[204, 401, 403, 404, 422])
def put_blacklist(tenant: str, number: str, body: dict[str, Any]) -> Any:
    _check_number(number)
    service().add_blacklist(tenant, number, body["match"], body["reason"], body["expires_at"])
    return "", 204


@bp.delete("/blacklist/<number>")
@bp.input(schemas.MatchQuery, location="query", arg_name="query")
@bp.output({}, status_code=204)
@bp.doc(summary="Remove an entry", responses=[204, 401, 403, 404])
def delete_blacklist(tenant: str, number: str, query: dict[str, Any]) -> Any:
    service().remove_blacklist(tenant, number, query["match"])
    return "", 204


def _check_number(number: str) -> None:
    from marshmallow import ValidationError

    from fsapps.web.errors import ApiError

    try:
        schemas.NUMBER(number)
    except ValidationError as exc:
        raise ApiError(422, "invalid_number", f"number: {exc.messages[0]}") from None


@bp.get("/outages")
@bp.input(schemas.OutagesQuery, location="query", arg_name="query")
@bp.output(schemas.OutageOut(many=True))
@bp.doc(summary="Outage notices callers hear (current ones, or all)", responses=[200, 401, 403, 404])
def list_outages(tenant: str, query: dict[str, Any]) -> Any:
    return service().outages(tenant, query["include_ended"])


@bp.post("/outages")
@bp.input(schemas.OutageIn, arg_name="body")
@bp.output(schemas.Created, status_code=201)
@bp.doc(summary="Post an outage notice for a caller prefix or an area", responses=[201, 401, 403, 404, 422])
def post_outage(tenant: str, body: dict[str, Any]) -> Any:
    oid = service().post_outage(tenant, body["area_kind"], body["area"], body["message"], body["starts_at"],
                                body["ends_at"])  # fmt: skip
    return {"id": oid}


@bp.delete("/outages/<int:outage_id>")
@bp.output({}, status_code=204)
@bp.doc(summary="End an outage notice now (kept for the record)", responses=[204, 401, 403, 404])
def end_outage(tenant: str, outage_id: int) -> Any:
    service().end_outage(tenant, outage_id)
    return "", 204


@bp.get("/callbacks")
@bp.input(schemas.CallbacksQuery, location="query", arg_name="query")
@bp.output(schemas.CallbackOut(many=True))
@bp.doc(summary="Callers to call back, oldest place first", responses=[200, 401, 403, 404])
def list_callbacks(tenant: str, query: dict[str, Any]) -> Any:
    return service().callbacks(tenant, query["status"])


@bp.post("/callbacks/<uuid:event_id>/claim")
@bp.output({}, status_code=204)
@bp.doc(summary="An agent takes a callback on (it is theirs to dial)", responses=[204, 401, 403, 404, 409])
def claim_callback(tenant: str, event_id: UUID) -> Any:
    service().claim_callback(tenant, str(event_id))
    return "", 204


@bp.post("/callbacks/<uuid:event_id>/done")
@bp.input(schemas.DoneIn, arg_name="body")
@bp.output({}, status_code=204)
@bp.doc(summary="Mark a callback done (or failed)", responses=[204, 401, 403, 404, 409, 422])
def finish_callback(tenant: str, event_id: UUID, body: dict[str, Any]) -> Any:
    service().finish_callback(tenant, str(event_id), body["status"])
    return "", 204
