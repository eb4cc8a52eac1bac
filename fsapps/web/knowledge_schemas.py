"""What the knowledge base's and the wrap-up's endpoints read and write (marshmallow
schemas, as fsapps.web.schemas: apiflask validates input and writes the OpenAPI from them)."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import UUID, Boolean, DateTime, Float, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range, Regexp

QUEUE = String(validate=Length(1, 64))
TAG = String(validate=Length(1, 64))
CODE = Regexp(r"^[a-z0-9][a-z0-9_-]{0,62}$", error="lower-case letters, digits, _ and -, at most 63")


class ArticleIn(Schema):
    kind = String(validate=OneOf(("article", "script")), metadata={
        "description": "article (the knowledge base) or script (what to say on a call of its queues)"})
    title = String(required=True, validate=Length(1, 300))
    body = String(validate=Length(0, 100_000), metadata={
        "description": "plain text, or a small Markdown subset (# headings, - and 1. lists, **bold**, `code`)"
                       " that the console shows as text"})
    tags = List(TAG, validate=Length(0, 50))
    queues = List(QUEUE, validate=Length(0, 100), metadata={"description": "none: every queue"})


class ArticlePatch(ArticleIn):
    title = String(validate=Length(1, 300))


class ArticleOut(Schema):
    id = Integer()
    kind = String()
    title = String()
    body = String()
    tags = List(String())
    queues = List(String())
    updated_by = String()
    created_at = DateTime()
    updated_at = DateTime()
    rank = Float(allow_none=True, metadata={"description": "how well it matches q (ts_rank); null without q"})


class ArticlesQuery(Schema):
    q = String(load_default=None, validate=Length(1, 200), metadata={
        "description": "words, Chinese or not; every one must be found (title, tags or body)"})
    kind = String(load_default=None, validate=OneOf(("article", "script")))
    queue = String(load_default=None, validate=Length(1, 64),
                   metadata={"description": "the queue's own and every queue's"})  # fmt: skip
    tag = String(load_default=None, validate=Length(1, 64))
    limit = Integer(load_default=20, validate=Range(1, 200))
    offset = Integer(load_default=0, validate=Range(0, 1_000_000))


class CodesQuery(Schema):
    queue = String(load_default=None, validate=Length(1, 64),
                   metadata={"description": "the codes for this queue's calls"})  # fmt: skip


class CodeIn(Schema):
    label = String(required=True, validate=Length(1, 100))
    queues = List(QUEUE, load_default=list, validate=Length(0, 100),
                  metadata={"description": "none: every queue"})  # fmt: skip
    position = Integer(load_default=0, validate=Range(0, 10_000))


class CodeOut(Schema):
    code = String()
    label = String()
    queues = List(String())
    position = Integer()
    default = Boolean(metadata={"description": "one of the defaults (the tenant has defined no codes)"})


class WrapUpSettings(Schema):
    required = Boolean(required=True, metadata={
        "description": "an agent's last answered queue call needs their disposition before they go ready"})


class WrapUpIn(Schema):
    disposition = String(required=True, validate=CODE)
    notes = String(load_default="", validate=Length(0, 10_000))


class WrapUpOut(Schema):
    call_uuid = UUID()
    agent_id = String()
    queue = String(allow_none=True)
    disposition = String()
    label = String()
    notes = String()
    written_by = String()
    written_at = DateTime()


class WrapUpWritten(WrapUpOut):
    """PUT's answer: the wrap-up as written. A class of its own: APIFlask names a route's
    output after its class, and WrapUpOut's name was already taken by the Nested fields'
    registration, so the same class went into the document twice (WrapUpOut1, with
    apispec's warning that references may not resolve)."""


class WrapUpRow(WrapUpOut):
    number = String(allow_none=True, metadata={"description": "the caller's number"})


class WrapUpsQuery(Schema):
    agent = String(load_default=None, validate=Length(1, 64))
    queue = String(load_default=None, validate=Length(1, 64))
    disposition = String(load_default=None, validate=CODE)
    limit = Integer(load_default=100, validate=Range(1, 1000))
    offset = Integer(load_default=0, validate=Range(0, 1_000_000))


class LastCall(Schema):
    call_uuid = UUID()
    queue = String(allow_none=True)
    number = String(allow_none=True)
    ended_at = DateTime(allow_none=True, metadata={"description": "null: the agent is on it"})
    wrap_up = Nested(WrapUpOut, allow_none=True)
    required = Boolean()
    codes = List(Nested(CodeOut))


class CallVisit(Schema):
    queue = String()
    agent_id = String(allow_none=True)
    caller = String(allow_none=True)
    joined_at = DateTime()
    ended_at = DateTime()
    wait_seconds = Float()
    talk_seconds = Float()
    outcome = String()
    recording = UUID(allow_none=True)


class CallLeg(Schema):
    leg = String()
    direction = String()
    caller = String(allow_none=True)
    destination = String(allow_none=True)
    agent_id = String(allow_none=True)
    queue = String(allow_none=True)
    started_at = DateTime()
    answered_at = DateTime(allow_none=True)
    ended_at = DateTime()
    billsec = Integer()
    hangup_cause = String()


class CallOut(Schema):
    uuid = UUID()
    visits = List(Nested(CallVisit))
    legs = List(Nested(CallLeg))
    wrap_ups = List(Nested(WrapUpOut))
