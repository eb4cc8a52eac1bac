"""The CRM: a tenant's customers, their custom fields' definitions, the screen pop's
look-up by the caller's number, notes and a customer's timeline (fsapps.web.crm)."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint

from fsapps.web import schemas
from fsapps.web.app import PREFIX, customers

bp = APIBlueprint("customers", __name__, url_prefix=PREFIX + "/tenants/<tenant>", tag="Customers")


@bp.get("/customer-fields")
@bp.output(schemas.CustomerFieldOut(many=True))
@bp.doc(summary="The custom fields a customer may have", responses=[200, 401, 403, 404])
def list_fields(tenant: str) -> Any:
    return customers().fields(tenant)


@bp.put("/customer-fields/<name>")
@bp.input(schemas.CustomerFieldIn, arg_name="body")
@bp.output({}, status_code=204)
@bp.doc(summary="Define or change a custom field", responses=[204, 401, 403, 404, 422])
def put_field(tenant: str, name: str, body: dict[str, Any]) -> Any:
    _check_field_name(name)
    customers().put_field(tenant, name, body["type"], body["label"])
    return "", 204


@bp.delete("/customer-fields/<name>")
@bp.output({}, status_code=204)
@bp.doc(summary="Remove a custom field (and its values)", responses=[204, 401, 403, 404])
def delete_field(tenant: str, name: str) -> Any:
    customers().remove_field(tenant, name)
    return "", 204


@bp.get("/customers")
@bp.input(schemas.CustomersQuery, location="query", arg_name="query")
@bp.output(schemas.CustomerOut(many=True))
@bp.doc(summary="Customers by a number, a part of the name or company, a tag; by name, paged",
        responses=[200, 401, 403, 404, 422])  # fmt: skip
def list_customers(tenant: str, query: dict[str, Any]) -> Any:
    return customers().search(tenant, query)


@bp.post("/customers")
@bp.input(schemas.CustomerIn, arg_name="body")
@bp.output(schemas.CustomerOut, status_code=201)
@bp.doc(summary="A new customer", responses=[201, 401, 403, 404, 409, 422])
def create_customer(tenant: str, body: dict[str, Any]) -> Any:
    return customers().create(tenant, body)


@bp.get("/customers/by-number/<number>")
@bp.output(schemas.CustomerOut)
@bp.doc(summary="The screen pop: the customer one of whose numbers this is",
        responses=[200, 401, 403, 404, 422])  # fmt: skip
def customer_by_number(tenant: str, number: str) -> Any:
    return customers().by_number(tenant, number)


@bp.get("/customers/<int:customer>")
@bp.output(schemas.CustomerOut)
@bp.doc(summary="One customer", responses=[200, 401, 403, 404])
def get_customer(tenant: str, customer: int) -> Any:
    return customers().get(tenant, customer)


@bp.patch("/customers/<int:customer>")
@bp.input(schemas.CustomerPatch, arg_name="body")
@bp.output(schemas.CustomerOut)
@bp.doc(summary="Change a customer (fields: the ones given; null clears one)",
        responses=[200, 401, 403, 404, 409, 422])  # fmt: skip
def patch_customer(tenant: str, customer: int, body: dict[str, Any]) -> Any:
    return customers().patch(tenant, customer, body)


@bp.delete("/customers/<int:customer>")
@bp.output({}, status_code=204)
@bp.doc(summary="Delete a customer, their numbers and notes", responses=[204, 401, 403, 404])
def delete_customer(tenant: str, customer: int) -> Any:
    customers().delete(tenant, customer)
    return "", 204


@bp.post("/customers/<int:customer>/notes")
@bp.input(schemas.NoteIn, arg_name="body")
@bp.output(schemas.Created, status_code=201)
@bp.doc(summary="Add a note to the customer's timeline", responses=[201, 401, 403, 404, 422])
def add_note(tenant: str, customer: int, body: dict[str, Any]) -> Any:
    call = str(body["call"]) if body["call"] else None
    return {"id": customers().add_note(tenant, customer, body["body"], call)}


@bp.get("/customers/<int:customer>/timeline")
@bp.input(schemas.TimelineQuery, location="query", arg_name="query")
@bp.output(schemas.TimelineEntry(many=True))
@bp.doc(summary="Their calls (with recordings), callbacks, survey answers and notes, newest first",
        responses=[200, 401, 403, 404, 422])  # fmt: skip
def timeline(tenant: str, customer: int, query: dict[str, Any]) -> Any:
    return customers().timeline(tenant, customer, query["limit"], query["offset"])


def _check_field_name(name: str) -> None:
    from marshmallow import ValidationError

    from fsapps.web.errors import ApiError

    try:
        schemas.FIELD_NAME(name)
    except ValidationError as exc:
        raise ApiError(422, "invalid_input", f"name: {exc.messages[0]}") from None
