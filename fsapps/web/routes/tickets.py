"""Tickets (work orders): the tenant's SLA and web-form settings, tickets, their notes and
history (fsapps.web.ticketing); and the two public doors, the web form and the status
link, which need no login (a customer has none) and show no internal notes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from apiflask import APIBlueprint
from flask import request

from fsapps.web import errors, ticketing
from fsapps.web import ticket_schemas as schemas
from fsapps.web.app import PREFIX, context, service
from fsapps.web.schemas import Created

bp = APIBlueprint("tickets", __name__, url_prefix=PREFIX + "/tenants/<tenant>", tag="Tickets")
public = APIBlueprint("tickets_public", __name__, url_prefix=PREFIX + "/public/tenants/<tenant>",
                      tag="Tickets")  # fmt: skip


def tickets() -> ticketing.Tickets:
    return ticketing.Tickets(service())


@bp.get("/ticket-settings")
@bp.output(schemas.TicketSettings)
@bp.doc(summary="SLA due times per priority, and the public web form", responses=[200, 401, 403, 404])
def get_settings(tenant: str) -> Any:
    return tickets().settings(tenant)


@bp.put("/ticket-settings")
@bp.input(schemas.TicketSettings, arg_name="body")
@bp.output(schemas.TicketSettings)
@bp.doc(summary="Set the SLA due times and the web form", responses=[200, 401, 403, 404, 422])
def put_settings(tenant: str, body: dict[str, Any]) -> Any:
    return tickets().put_settings(tenant, body)


@bp.get("/tickets")
@bp.input(schemas.TicketsQuery, location="query", arg_name="query")
@bp.output(schemas.TicketOut(many=True))
@bp.doc(summary="Tickets by state, assignee, customer, overdue; newest first (an agent: theirs and"
        " their queues')", responses=[200, 401, 403, 404, 422])  # fmt: skip
def list_tickets(tenant: str, query: dict[str, Any]) -> Any:
    return tickets().search(tenant, query)


@bp.post("/tickets")
@bp.input(schemas.TicketIn, arg_name="body")
@bp.output(schemas.TicketCreated, status_code=201)
@bp.doc(summary="Open a ticket (from a call, a voicemail, a callback)", responses=[201, 401, 403, 404, 422])
def create_ticket(tenant: str, body: dict[str, Any]) -> Any:
    return tickets().create(tenant, body)


@bp.get("/tickets/<int:ticket>")
@bp.output(schemas.TicketDetail)
@bp.doc(summary="One ticket, with its history and notes", responses=[200, 401, 403, 404])
def get_ticket(tenant: str, ticket: int) -> Any:
    return tickets().get(tenant, ticket)


@bp.patch("/tickets/<int:ticket>")
@bp.input(schemas.TicketPatch, arg_name="body")
@bp.output(schemas.TicketDetail)
@bp.doc(summary="Change a ticket's state, priority, assignee, subject or customer",
        responses=[200, 401, 403, 404, 422])  # fmt: skip
def patch_ticket(tenant: str, ticket: int, body: dict[str, Any]) -> Any:
    return tickets().patch(tenant, ticket, body)


@bp.post("/tickets/<int:ticket>/notes")
@bp.input(schemas.TicketNoteIn, arg_name="body")
@bp.output(Created, status_code=201)
@bp.doc(summary="An internal note (never shown on the status page)", responses=[201, 401, 403, 404, 422])
def add_note(tenant: str, ticket: int, body: dict[str, Any]) -> Any:
    return {"id": tickets().add_note(tenant, ticket, body["body"])}


@public.post("/tickets")
@public.input(schemas.WebTicketIn, arg_name="body")
@public.output(schemas.WebTicketOut, status_code=201)
@public.doc(summary="The public web form: a ticket, its number and status link (no login; rate limited)",
            security=[], responses=[201, 404, 422, 429])  # fmt: skip
def web_form(tenant: str, body: dict[str, Any]) -> Any:
    ctx = context()
    address, now = request.remote_addr or "-", ctx.monotonic()
    # The login throttle's sliding windows, counting every submission: per address, and per
    # tenant (so many addresses cannot flood one tenant's queue either).
    wait = ctx.form_throttle.retry_after(tenant, address, now)
    if wait is not None:
        raise errors.ApiError(429, "too_many_tickets", "too many tickets from here: try again later",
                              headers={"Retry-After": str(int(wait) + 1)})  # fmt: skip
    ctx.form_throttle.failed(tenant, address, now)
    return ticketing.web_form(ctx.store, tenant, body, datetime.fromtimestamp(ctx.clock(), UTC))


@public.get("/ticket-status/<token>")
@public.output(schemas.PublicStatus)
@public.doc(summary="The status link: a ticket's state, read-only, no notes (no login)", security=[],
            responses=[200, 404])  # fmt: skip
def status(tenant: str, token: str) -> Any:
    if len(token) > 100:
        raise errors.ApiError(404, "no_such_ticket", "no such ticket")
    return ticketing.public_status(context().store, tenant, token)
