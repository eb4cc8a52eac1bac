"""What the tickets' part of the API reads and writes (fsapps.web.ticketing)."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import UUID, Boolean, DateTime, Dict, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range

from fsapps import tickets as rules

STATE = OneOf(rules.STATES)
PRIORITY = OneOf(rules.PRIORITIES)
SUBJECT = Length(1, 200)
BODY = Length(0, 20_000)


class TicketSettings(Schema):
    due_minutes = Dict(keys=String(validate=PRIORITY), values=Integer(validate=Range(1, 366 * 24 * 60)),
                       load_default=dict, metadata={
                           "description": "minutes from creation to due, per priority (a missing one:"
                           " the default, urgent 240, high 1440, normal 4320, low 10080)"})  # fmt: skip
    web_form = Boolean(load_default=False, metadata={"description": "the public web form takes tickets"})
    web_queue = String(load_default=None, allow_none=True, metadata={
        "description": "the queue the web form's tickets are assigned to"})  # fmt: skip


class TicketsQuery(Schema):
    state = String(load_default=None, validate=STATE)
    agent = String(load_default=None, validate=Length(1, 64), metadata={"description": "assigned to"})
    queue = String(load_default=None, validate=Length(1, 64), metadata={"description": "assigned to"})
    customer = Integer(load_default=None)
    overdue = Boolean(load_default=False, metadata={"description": "only the overdue ones"})
    limit = Integer(load_default=50, validate=Range(1, 500))
    offset = Integer(load_default=0, validate=Range(0, 1_000_000))


class TicketIn(Schema):
    subject = String(required=True, validate=SUBJECT)
    body = String(load_default="", validate=BODY)
    source = String(
        load_default="agent",
        validate=OneOf(("call", "voicemail", "callback", "agent")),
        metadata={"description": "call, voicemail and callback name their call_uuid"},
    )
    call_uuid = UUID(load_default=None)
    customer_id = Integer(load_default=None, allow_none=True)
    priority = String(load_default="normal", validate=PRIORITY)
    assignee_agent = String(load_default=None, allow_none=True, validate=Length(1, 64), metadata={
        "description": "an agent opening a ticket with no assignee is its assignee"})  # fmt: skip
    assignee_queue = String(load_default=None, allow_none=True, validate=Length(1, 64))
    required_skill = String(load_default=None, allow_none=True, validate=Length(1, 64), metadata={
        "description": "with no assignee_agent: assigned to the tenant's agent holding this skill"
        " who has the fewest open tickets (ties: longest since their last ticket, then the id)"})  # fmt: skip


class TicketPatch(Schema):
    subject = String(validate=SUBJECT)
    state = String(validate=STATE)
    priority = String(validate=PRIORITY)
    assignee_agent = String(allow_none=True, validate=Length(1, 64))
    assignee_queue = String(allow_none=True, validate=Length(1, 64))
    customer_id = Integer(allow_none=True)
    required_skill = String(allow_none=True, validate=Length(1, 64))


class TicketEvent(Schema):
    at = DateTime()
    actor = String(metadata={"description": "the username, web (the public form) or system"})
    kind = String(metadata={"enum": ["created", "state", "priority", "assignee", "subject", "note",
                                     "escalated"]})  # fmt: skip
    detail = Dict()
    internal = Boolean(metadata={"description": "an agent's note: never on the public status page"})


class TicketOut(Schema):
    number = Integer(metadata={"description": "per tenant, keyed in by phone"})
    subject = String()
    body = String()
    customer_id = Integer(allow_none=True)
    customer_name = String(allow_none=True)
    source = String(metadata={"enum": list(rules.SOURCES)})
    call_uuid = UUID(allow_none=True)
    contact = String()
    priority = String(metadata={"enum": list(rules.PRIORITIES)})
    state = String(metadata={"enum": list(rules.STATES)})
    assignee_agent = String(allow_none=True)
    assignee_queue = String(allow_none=True)
    due_at = DateTime()
    overdue = Boolean(metadata={"description": "not solved or closed, and past its due time"})
    escalated_at = DateTime(allow_none=True, metadata={"description": "when it was found overdue"})
    required_skill = String(allow_none=True, metadata={"description": "the skill its agent was chosen by"})
    assigned_at = DateTime(allow_none=True, metadata={"description": "when its agent was last set"})
    voicemail = UUID(allow_none=True, metadata={
        "description": "the voicemail it came from: GET .../voicemails/{id}/audio plays it"})  # fmt: skip
    created_by = String()
    created_at = DateTime()
    updated_at = DateTime()


class TicketDetail(TicketOut):
    history = List(Nested(TicketEvent))


class TicketCreated(TicketOut):
    status_link = String(metadata={"description": "the customer's read-only status page (shown once)"})


class TicketNoteIn(Schema):
    body = String(required=True, validate=Length(1, 10_000))


class WebTicketIn(Schema):
    subject = String(required=True, validate=SUBJECT)
    body = String(load_default="", validate=Length(0, 5_000))
    contact = String(required=True, validate=Length(1, 200), metadata={
        "description": "how to reach the writer: an e-mail address or a phone number"})  # fmt: skip


class WebTicketOut(Schema):
    number = Integer()
    status_link = String(metadata={"description": "the read-only status page; keep it, it is shown once"})


class StateChange(Schema):
    at = DateTime()
    state = String()


class PublicStatus(Schema):
    number = Integer()
    subject = String()
    state = String(metadata={"enum": list(rules.STATES)})
    created_at = DateTime()
    updated_at = DateTime()
    changes = List(Nested(StateChange))


class VoicemailOut(Schema):
    id = UUID()
    box = String()
    call_uuid = UUID(allow_none=True)
    caller_number = String()
    caller_name = String()
    seconds = Integer()
    left_at = DateTime()
    ticket = Integer(allow_none=True, metadata={"description": "the ticket it opened (its number)"})
