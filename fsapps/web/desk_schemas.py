"""The desk's and the CRM webhook's schemas (as fsapps.web.schemas: validated input, and
the OpenAPI document)."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, DateTime, Dict, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Regexp

WEBHOOK_EVENTS = ("offered", "answered", "ended")


class Handover(Schema):
    by = String(metadata={"description": "the agent who handed the call on"})
    how = String(metadata={"enum": ["transfer", "consult"]})
    at = DateTime()


class ScreenPop(Schema):
    member = String(metadata={"description": "the caller's channel"})
    queue = String()
    number = String(metadata={"description": "the caller ID"})
    name = String()
    state = String(metadata={"enum": ["ringing", "talking", "handed_over"]})
    variables = Dict(metadata={"description": "what the offer carried: the lookup's screen-pop fields among"
                                              " them ({} once out of the server's recent events)"})
    customer = Integer(allow_none=True, metadata={"description": "the customer with the caller's number"})
    handover = Nested(Handover, allow_none=True, metadata={"description": "handed to this agent by another"})


class ScreenPops(Schema):
    timezone = String(metadata={"description": "the tenant's: the desk shows times in it"})
    pops = List(Nested(ScreenPop))


class WebhookIn(Schema):
    url = String(required=True, validate=[Length(1, 2000), Regexp(r"^https?://[^\s]+$",
                 error="an http:// or https:// URL")])  # fmt: skip
    secret = String(required=True, load_only=True, validate=Length(16, 200),
                    metadata={"description": "signs each body: X-Fsapps-Signature: sha256=<HMAC hex>"})
    enabled = Boolean(load_default=True)


class WebhookOut(Schema):
    url = String()
    enabled = Boolean()
    events = List(String(validate=OneOf(WEBHOOK_EVENTS)))
    updated_at = DateTime()
    last_at = DateTime(allow_none=True)
    last_event = String(allow_none=True)
    last_status = String(allow_none=True, metadata={"description": "the last delivery: an HTTP status,"
                                                                   " or why it failed"})
