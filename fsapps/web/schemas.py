"""What the API reads and writes, as marshmallow schemas: apiflask validates input against
them (a 422 with the field and the reason) and writes the OpenAPI document from them."""

from __future__ import annotations

from typing import Any

from apiflask import Schema
from apiflask.fields import UUID, Boolean, DateTime, Decimal, Dict, Float, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range, Regexp
from marshmallow import ValidationError, validates_schema

from fsapps.acd.figures import ACTIVITIES
from fsapps.acd.model import AgentStatus
from fsapps.console_settings import LONGEST, SHORTEST

ROLES = ("tenant_admin", "supervisor", "agent", "qa")
NUMBER = Regexp(r"^\+?[0-9*#]{1,32}$", error="digits, * and #, with an optional leading +")
OUTCOMES = ("answered", "abandoned", "overflowed", "timed_out", "callback")  # queue_calls.outcome
NAME = Regexp(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,62}$", error="letters, digits, . _ @ -, at most 63")


class Login(Schema):
    username = String(required=True, validate=Length(1, 200))
    password = String(required=True, validate=Length(1, 1000), load_only=True)


class Me(Schema):
    user_id = Integer()
    username = String()
    role = String(metadata={"enum": ["operator", *ROLES]})
    tenant = String(allow_none=True)
    agent = String(allow_none=True, metadata={"description": "an agent's own agent id"})
    queues = List(String(), metadata={"description": "a supervisor's groups' queues"})
    agents = List(String(), metadata={"description": "a supervisor's groups' agents"})
    csrf_token = String(
        allow_none=True, metadata={"description": "send it as X-CSRF-Token on changes (cookie sessions only)"}
    )
    language = String(allow_none=True, metadata={
        "description": "in the login's answer: the console's language set for them (null: the browser's)"})


class StuckLimitsIn(Schema):
    # one field per activity with a limit (fsapps.console_settings.STUCK_DEFAULTS); at least one
    ringing = Integer(validate=Range(SHORTEST, LONGEST))
    talking = Integer(validate=Range(SHORTEST, LONGEST))
    wrap_up = Integer(validate=Range(SHORTEST, LONGEST))
    idle = Integer(validate=Range(SHORTEST, LONGEST), metadata={"description": "after a call, not ready"})
    on_break = Integer(validate=Range(SHORTEST, LONGEST))

    @validates_schema
    def _some(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ValidationError("name at least one activity's limit")


class ConsoleSettingsOut(Schema):
    timezone = String(metadata={"description": "the tenant's IANA zone: the console shows times in it"})
    stuck_limits = Dict(keys=String(), values=Integer(),
                        metadata={"description": "seconds per activity before the floor raises an alert"})


DAYS = Regexp(r"^(mon|tue|wed|thu|fri|sat|sun)(-(mon|tue|wed|thu|fri|sat|sun))?"
              r"(,(mon|tue|wed|thu|fri|sat|sun)(-(mon|tue|wed|thu|fri|sat|sun))?)*$",
              error="days as mon-fri, sat, sun or mon,wed")  # fmt: skip
HOURS = Regexp(r"^([01]\d|2[0-4]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$", error="hours as 08:00-18:00")


class ClosedIn(Schema):
    from_ = String(required=True, data_key="from", validate=Regexp(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$"),
                   metadata={"description": "YYYY-MM-DD HH:MM, the tenant's time"})  # fmt: skip
    to = String(required=True, validate=Regexp(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$"))


class CalendarIn(Schema):
    weekly = Dict(
        keys=String(validate=DAYS), values=List(String(validate=HOURS), validate=Length(1, 10)),
        required=True, validate=Length(1, 50),
        metadata={"description": "days -> opening periods, e.g. mon-fri: [08:00-18:00]"},
    )  # fmt: skip
    holidays = List(String(validate=Regexp(r"^\d{4}-\d{2}-\d{2}$")), load_default=list,
                    validate=Length(0, 400))  # fmt: skip
    closed = List(Nested(ClosedIn), load_default=list, validate=Length(0, 400),
                  metadata={"description": "one-off closures, from and to in the tenant's time"})  # fmt: skip


class CalendarsOut(Schema):
    calendars = Dict(keys=String(), values=Dict(),
                     metadata={"description": "tenant.yaml's, as they are live"})  # fmt: skip


class PromptIn(Schema):
    text = String(validate=Length(1, 2000), metadata={"description": "spoken by the TTS engine"})
    wav = String(validate=Length(1, 1_000_000),
                 metadata={"description": "a recording, base64: RIFF/WAVE, 16-bit PCM, mono, 8 or 16 kHz,"
                                          " at most 700000 bytes"})  # fmt: skip

    @validates_schema
    def _one(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("text" in data) == ("wav" in data):
            raise ValidationError("give the text to speak, or a recording (wav), not both")


class PromptsOut(Schema):
    prompts = Dict(keys=String(), values=Dict(),
                   metadata={"description": "tenant.yaml's: {file} recorded or {text} spoken"})  # fmt: skip


class TenantIn(Schema):
    id = String(required=True, validate=Regexp(r"^[a-z0-9][a-z0-9_-]{0,62}$"))
    name = String(validate=Length(1, 200))
    domain = String(required=True, validate=Length(1, 253))
    timezone = String(load_default="UTC")
    language = String(load_default="en")
    numbers = List(String(validate=NUMBER), load_default=list)


class TenantOut(Schema):
    id = String()
    name = String()
    domain = String()
    timezone = String()
    language = String()
    status = String()


USER_LANGUAGE: dict[str, Any] = {"validate": OneOf(("en", "zh-CN")), "allow_none": True,
                 "metadata": {"description": "the console's language; null: their browser's"}}  # fmt: skip


class UserIn(Schema):
    username = String(required=True, validate=NAME)
    password = String(required=True, validate=Length(8, 1000), load_only=True)
    role = String(required=True, validate=OneOf(ROLES))
    language = String(load_default=None, **USER_LANGUAGE)


class UserOut(Schema):
    id = Integer()
    username = String()
    role = String()
    disabled = Boolean()
    language = String(allow_none=True)


class UserChange(Schema):
    role = String(validate=OneOf(ROLES))
    disabled = Boolean(metadata={"description": "a disabled user's sessions and tokens stop working"})
    language = String(**USER_LANGUAGE)


class TokenIn(Schema):
    name = String(required=True, validate=Length(1, 100))
    expires_at = DateTime(load_default=None, allow_none=True, metadata={"description": "default: never"})


class TokenInfo(Schema):
    id = Integer()
    name = String()
    created_at = DateTime()
    expires_at = DateTime(allow_none=True)
    revoked_at = DateTime(allow_none=True)


class TokenOut(Schema):
    token = String(metadata={"description": "shown once; only its digest is kept"})


class Group(Schema):
    name = String(dump_only=True)
    supervisors = List(Integer(), load_default=list, metadata={"description": "user ids"})
    agents = List(String(), load_default=list)
    queues = List(String(), load_default=list)


class AgentOut(Schema):
    id = String()
    name = String()
    contact = String(allow_none=True)
    user_id = Integer(allow_none=True)
    weight = Integer()
    status = String(metadata={"enum": [s.value for s in AgentStatus]})
    state = String()
    break_reason = String()
    skills = Dict(keys=String(), values=Integer())
    tiers = List(Nested(lambda: AgentTier()), metadata={"description": "the queues it serves (tenant.yaml)"})
    activity = String(metadata={"enum": list(ACTIVITIES),
                                "description": "what the agent does now: status and state together"})
    activity_seconds = Float(metadata={"description": "how long they have been doing it, as of this answer"})
    direct_call = Nested(lambda: DirectCallOut(), allow_none=True,
                         metadata={"description": "a call no queue made that the agent is on (a transfer"
                                                  " straight to them, a dial-out); null: none"})  # fmt: skip
    max_no_answer = Integer(allow_none=True)
    wrap_up_time = Integer(allow_none=True)
    reject_delay_time = Integer(allow_none=True)
    busy_delay_time = Integer(allow_none=True)
    no_answer_delay_time = Integer(allow_none=True)


class DirectCallOut(Schema):
    number = String(metadata={"description": "the other party's"})
    direction = String(metadata={"enum": ["inbound", "outbound"], "description": "seen from the agent"})


class AgentTier(Schema):
    queue = String()
    level = Integer()
    position = Integer()


class StatusIn(Schema):
    status = String(required=True, validate=OneOf([s.value for s in AgentStatus]))
    reason = String(load_default="", validate=Length(0, 100), metadata={"description": "the break's reason"})


class SkillsIn(Schema):
    skills = Dict(
        keys=String(validate=NAME), values=Integer(validate=Range(1, 10)), required=True,
        metadata={"description": "skill -> proficiency 1-10"},
    )  # fmt: skip


class PhoneIn(Schema):
    user = String(required=True, validate=Regexp(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$"),
                  metadata={"description": "the SIP username (an extension)"})  # fmt: skip


class PhoneOut(Schema):
    agent = String()
    user = String()
    domain = String()
    contact = String(metadata={"description": "the agent's contact now: user/<user>@<domain>"})
    password = String(metadata={"description": "shown once: only its a1-hash is kept"})


class Tier(Schema):
    agent = String()
    level = Integer()
    position = Integer()


class Caller(Schema):
    uuid = String()
    number = String(allow_none=True)
    name = String(allow_none=True)
    state = String()
    priority = Integer()
    position = Integer(allow_none=True, metadata={"description": "1: served next; null once answered"})
    wait_seconds = Float()
    agent = String(allow_none=True)


class QueueOut(Schema):
    name = String()
    strategy = String()
    settings = Dict(metadata={"description": "as in tenant.yaml"})
    tiers = List(Nested(Tier))
    callers = List(Nested(Caller))
    waiting = Integer()


class MoveIn(Schema):
    queue = String(required=True, validate=NAME, metadata={"description": "another queue of the tenant's"})


class PriorityIn(Schema):
    priority = Integer(required=True, validate=Range(-1000, 1000))


class BlacklistIn(Schema):
    match = String(load_default="exact", validate=OneOf(["exact", "prefix"]))
    reason = String(load_default="", validate=Length(0, 200))
    expires_at = DateTime(load_default=None, allow_none=True)


class BlacklistOut(Schema):
    number = String()
    match = String()
    reason = String()
    expires_at = DateTime(allow_none=True)


class MatchQuery(Schema):
    match = String(load_default="exact", validate=OneOf(["exact", "prefix"]))


class OutageIn(Schema):
    area_kind = String(required=True, validate=OneOf(["prefix", "area"]))
    area = String(required=True, validate=Length(1, 100))
    message = String(required=True, validate=Length(1, 1000))
    starts_at = DateTime(load_default=None, allow_none=True, metadata={"description": "default: now"})
    ends_at = DateTime(required=True)


class OutageOut(Schema):
    id = Integer()
    area_kind = String()
    area = String()
    message = String()
    starts_at = DateTime()
    ends_at = DateTime()


class OutagesQuery(Schema):
    include_ended = Boolean(load_default=False)


class CallbackOut(Schema):
    event_id = UUID()
    number = String()
    queue = String(allow_none=True)
    queue_entered_at = DateTime(allow_none=True)
    requested_at = DateTime()
    call_uuid = UUID(allow_none=True)
    status = String()
    claimed_by = String(allow_none=True)
    claimed_at = DateTime(allow_none=True)


class CallbacksQuery(Schema):
    status = String(load_default="pending", validate=OneOf(["pending", "dialing", "done", "failed"]))


class DoneIn(Schema):
    status = String(load_default="done", validate=OneOf(["done", "failed"]))


class LimitQuery(Schema):
    limit = Integer(load_default=100, validate=Range(1, 1000))


class SurveyOut(Schema):
    call_uuid = UUID(allow_none=True)
    agent_id = String(allow_none=True)
    queue = String(allow_none=True)
    flow = String()
    question = String()
    score = Integer(allow_none=True)
    answered_at = DateTime()


class CdrOut(Schema):
    call_uuid = UUID()
    leg_uuid = UUID()
    leg = String()
    direction = String()
    caller = String(allow_none=True)
    destination = String(allow_none=True)
    queue = String(allow_none=True)
    agent_id = String(allow_none=True)
    started_at = DateTime()
    answered_at = DateTime(allow_none=True)
    ended_at = DateTime()
    wait_seconds = Integer()
    billsec = Integer()
    duration = Integer()
    hangup_cause = String()
    recording = String(allow_none=True)


class UsageQuery(Schema):
    start = DateTime(required=True, data_key="from")
    end = DateTime(required=True, data_key="to")


class UsageOut(Schema):
    event_id = String()
    resource = String()
    resource_id = String(allow_none=True)
    kind = String()
    started_at = DateTime()
    ended_at = DateTime()
    workload = Decimal(as_string=True)
    unit = String()
    outcome = String()
    call_uuid = String(allow_none=True)


class StatementLine(Schema):
    description = String()
    component = String()
    quantity = Decimal(as_string=True)
    unit = String()
    unit_price = Decimal(as_string=True)
    weight = Decimal(as_string=True)
    amount = Decimal(as_string=True)
    records = Integer()


class StatementOut(Schema):
    tenant_id = String()
    month = String()
    currency = String()
    total = Decimal(as_string=True)
    records = Integer()
    lines = List(Nested(StatementLine))


class Created(Schema):
    id = Integer()


class LiveCall(Schema):
    uuid = String(metadata={"description": "the caller's channel"})
    queue = String()
    number = String(allow_none=True)
    name = String(allow_none=True)
    state = String(metadata={"enum": ["Waiting", "Trying", "Answered"]})
    priority = Integer()
    wait_seconds = Float(metadata={"description": "since they joined the queue"})
    agent = String(allow_none=True, metadata={"description": "the agent talking to them"})
    agent_leg = String(allow_none=True, metadata={"description": "that agent's phone leg"})
    ringing = List(String(), metadata={"description": "agents whose phones ring with the call"})
    consulting = Boolean(metadata={"description": "the agent consults someone; the caller holds"})
    held = Boolean(allow_none=True, metadata={
        "description": "the agent holds the caller (hold, until unhold); null: the switch was not asked"})


class CallTargetIn(Schema):
    agent = String(validate=NAME, metadata={"description": "an agent of the tenant (their phone)"})
    queue = String(validate=NAME, metadata={"description": "transfer only: one of the tenant's queues"})
    extension = String(validate=Regexp(r"^[A-Za-z0-9_.-]{1,64}$"),
                       metadata={"description": "a user of the tenant's directory"})  # fmt: skip
    number = String(validate=NUMBER, metadata={"description": "dialled through a gateway"})
    gateway = String(validate=NAME, metadata={"description": "one of operator.yaml's (default: the first)"})


class PickupIn(Schema):
    from_agent = String(validate=NAME, metadata={"description": "the agent whose phone rings with the call"})
    caller = UUID(metadata={"description": "or: the ringing caller's channel"})


class RecordingsQuery(Schema):
    call = UUID(load_default=None, metadata={"description": "the call's UUID"})
    agent = String(load_default=None, validate=NAME)
    number = String(load_default=None, validate=NUMBER, metadata={"description": "the caller's number"})
    start = DateTime(load_default=None, data_key="from", metadata={"description": "joined the queue from"})
    end = DateTime(load_default=None, data_key="to", metadata={"description": "joined the queue before"})
    limit = Integer(load_default=100, validate=Range(1, 1000))
    queue = String(load_default=None, validate=Length(1, 63))
    outcome = String(load_default=None, validate=OneOf(OUTCOMES))
    survey_min = Integer(load_default=None, validate=Range(1, 5),
                         metadata={"description": "the caller's mean survey score at least"})
    survey_max = Integer(load_default=None, validate=Range(1, 5),
                         metadata={"description": "the caller's mean survey score at most"})


class RecordingOut(Schema):
    id = UUID()
    call_uuid = UUID(allow_none=True)
    queue = String()
    agent_id = String(allow_none=True)
    caller = String(allow_none=True)
    joined_at = DateTime()
    ended_at = DateTime()
    talk_seconds = Decimal(as_string=True, metadata={"description": "what the recording holds"})
    outcome = String(metadata={"enum": list(OUTCOMES)})
    survey_score = Decimal(as_string=True, allow_none=True,
                           metadata={"description": "the mean of the caller's survey answers (1-5), if any"})


class FlowFiles(Schema):
    files = Dict(
        keys=String(validate=Regexp(r"^(tenant\.yaml|flows/[A-Za-z0-9][A-Za-z0-9_-]{0,62}\.yaml)$")),
        values=String(validate=Length(0, 256 * 1024)), required=True,
        metadata={"description": "tenant.yaml and flows/<flow>.yaml -> their YAML (all of them)"},
    )  # fmt: skip


class FlowsLive(Schema):
    tenant = String()
    flows = List(String(), metadata={"description": "the tenant's flows now live"})
    queues = List(String())


class DialIn(Schema):
    number = String(required=True, validate=NUMBER)
    gateway = String(validate=NAME, metadata={"description": "one of operator.yaml's (default: the first)"})


class LegOut(Schema):
    leg = String(metadata={"description": "the new leg's channel UUID"})


class EventsQuery(Schema):
    last_event_id = String(
        load_default=None,
        validate=Length(1, 100),
        metadata={"description": "resume after this id (for clients that cannot send Last-Event-ID)"},
    )


class QueueFigures(Schema):
    name = String()
    waiting = Integer(metadata={"description": "callers waiting for an agent (ringing one included)"})
    longest_wait_seconds = Float(metadata={"description": "the longest of their waits so far"})
    answered = Integer(metadata={"description": "today (the tenant's timezone)"})
    answered_within = Integer(metadata={"description": "answered today within service_level_seconds"})
    abandoned = Integer(metadata={"description": "callers who hung up waiting, today"})
    offered = Integer(
        metadata={"description": "visits ended today answered, abandoned, timed out or overflowed"}
    )
    service_level = Float(allow_none=True, metadata={
        "description": "percent of offered answered within service_level_seconds; null: none offered today"})
    service_level_seconds = Integer(metadata={"description": "the queue's service-level-seconds"})
    service_level_target = Integer(metadata={"description": "the queue's service-level-target, percent"})
    agents = Dict(keys=String(), values=Integer(),
                  metadata={"description": "its agents (tiers) by activity: " + ", ".join(ACTIVITIES)})
    day_started_at = DateTime(metadata={"description": "when today began in the tenant's timezone"})


class WallboardIn(Schema):
    name = String(required=True, validate=Length(1, 100), metadata={"description": "which screen"})


class WallboardInfo(Schema):
    id = Integer()
    name = String()
    created_at = DateTime()
    revoked_at = DateTime(allow_none=True)


class WallboardOut(Schema):
    id = Integer()
    token = String(metadata={"description": "shown once; only its digest is kept. Open"
                                            " /console/wallboard?tenant=<tenant>#<token>"})


# --- agents created and changed, queues' tiers edited (fsapps.web.staff) ---------------------


class ContactIn(Schema):
    extension = String(validate=Regexp(r"^[A-Za-z0-9_.-]{1,64}$"),
                       metadata={"description": "a user of the tenant's directory"})  # fmt: skip
    number = String(validate=NUMBER, metadata={"description": "a number, through a gateway"})
    gateway = String(validate=NAME, metadata={"description": "one of operator.yaml's (default: the first)"})


class AgentSettingsIn(Schema):
    max_no_answer = Integer(validate=Range(0, 100), metadata={"description": "0: never put On Break"})
    wrap_up_time = Integer(validate=Range(0, 3600), metadata={"description": "seconds after a call"})
    reject_delay_time = Integer(validate=Range(0, 3600))
    busy_delay_time = Integer(validate=Range(0, 3600))
    no_answer_delay_time = Integer(validate=Range(0, 3600))


class AgentIn(AgentSettingsIn):
    id = String(required=True, validate=NAME, metadata={"description": "unique across the operator's"})
    name = String(validate=Length(1, 100), metadata={"description": "default: the id"})
    contact = Nested(ContactIn, allow_none=True,
                     metadata={"description": "an extension or a number (or PUT .../phone)"})  # fmt: skip


class AgentChangeIn(AgentSettingsIn):
    name = String(validate=Length(1, 100))
    contact = Nested(ContactIn, allow_none=True, metadata={"description": "null: none"})


class TierIn(Schema):
    agent = String(required=True, validate=NAME)
    level = Integer(load_default=1, validate=Range(max=10_000), metadata={"description": "1 is served first"})
    position = Integer(
        load_default=None, allow_none=True, validate=Range(max=10_000),
        metadata={"description": "within the level (default: its place in the list)"},
    )  # fmt: skip


class TiersIn(Schema):
    tiers = List(Nested(TierIn), required=True, validate=Length(0, 200))


class TiersOut(Schema):
    queue = String()
    tiers = List(Nested(Tier))


# --- the CRM: customers ------------------------------------------------------------------------

TYPED_NUMBER = Length(1, 64)  # as people write it; kept in the caller-ID form (fsapps.customers)
FIELD_NAME = Regexp(r"^[a-z][a-z0-9_]{0,62}$", error="lower-case letters, digits and _, a letter first")
TAG = String(validate=Length(1, 64))


class CustomerFieldIn(Schema):
    type = String(required=True, validate=OneOf(("text", "number", "boolean", "date")))
    label = String(load_default="", validate=Length(0, 200))


class CustomerFieldOut(Schema):
    name = String()
    type = String()
    label = String()


class CustomersQuery(Schema):
    number = String(load_default=None, validate=TYPED_NUMBER, metadata={"description": "one of theirs"})
    name = String(load_default=None, validate=Length(1, 200),
                  metadata={"description": "a part of the name or the company, any case"})  # fmt: skip
    tag = String(load_default=None, validate=Length(1, 64))
    limit = Integer(load_default=50, validate=Range(1, 500))
    offset = Integer(load_default=0, validate=Range(0, 1_000_000))


class CustomerIn(Schema):
    name = String(required=True, validate=Length(1, 200))
    numbers = List(String(validate=TYPED_NUMBER), validate=Length(0, 20), metadata={
        "description": "as written (\"+1 (555) 010-0123\"); kept as the caller ID shows it (+15550100123)"})
    company = String(validate=Length(0, 200))
    tags = List(TAG, validate=Length(0, 50))
    custom_fields = Dict(keys=String(validate=Length(1, 63)), metadata={
        "description": "the tenant's custom fields (GET .../customer-fields) -> a value of the field's type"})
    owner_agent = String(allow_none=True, validate=NAME, metadata={
        "description": "the account owner: an agent serving the tenant, rung first when they call"})


class CustomerPatch(CustomerIn):
    name = String(validate=Length(1, 200))


class CustomerOut(Schema):
    id = Integer()
    name = String()
    numbers = List(String())
    company = String()
    tags = List(String())
    custom_fields = Dict()
    owner_agent = String(allow_none=True)
    created_at = DateTime()
    updated_at = DateTime()


class NoteIn(Schema):
    body = String(required=True, validate=Length(1, 10_000))
    call = UUID(load_default=None, metadata={"description": "the call it was written on"})


class TimelineQuery(Schema):
    limit = Integer(load_default=100, validate=Range(1, 1000))
    offset = Integer(load_default=0, validate=Range(0, 1_000_000))


class TimelineEntry(Schema):
    kind = String(metadata={"enum": ["call", "callback", "survey", "note", "wrap_up", "ticket", "voicemail"]})
    at = DateTime()
    call_uuid = UUID(allow_none=True)
    queue = String(allow_none=True)
    agent_id = String(allow_none=True)
    recording = UUID(allow_none=True,
                     metadata={"description": "GET .../recordings/{recording}/audio plays it"})
    detail = Dict(metadata={"description": "call: direction, number, outcome, times; callback: number,"
                                           " status; survey: question, score; note: id, author, body;"
                                           " wrap_up: disposition, label, notes, author; voicemail: id"
                                           " (GET .../customers/{customer}/voicemails/{id}/audio plays it),"
                                           " box, number, name, seconds"})
