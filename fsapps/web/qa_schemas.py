"""What quality assurance's endpoints read and write (fsapps.web.routes.qa): scorecards,
evaluations and the reports' averages. The shapes are checked here; what depends on the
scorecard (an answer per criterion, within its scale) is fsapps.qa's."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import UUID, Boolean, DateTime, Decimal, Integer, List, Nested, Raw, String
from apiflask.validators import Length, OneOf, Range

from fsapps import qa
from fsapps.web.schemas import NAME


class CriterionIn(Schema):
    """The shapes only: fsapps.qa.criteria checks the ranges and says which criterion is
    wrong (invalid_criteria), which a person can act on better than a field's path."""

    label = String(required=True, validate=Length(1, qa.MAX_LABEL))
    weight = Integer(load_default=1, strict=True, metadata={"minimum": 1, "maximum": qa.MAX_WEIGHT})
    type = String(load_default="yes_no", metadata={"enum": list(qa.TYPES),
                  "description": "yes_no: met or not; scale: 0 to max points"})  # fmt: skip
    max = Integer(load_default=None, strict=True, metadata={"minimum": 1, "maximum": qa.MAX_SCALE,
                  "description": "a scale's top (a scale: required; yes_no: none)"})  # fmt: skip
    critical = Boolean(load_default=False, metadata={
        "description": "earning nothing here makes the whole evaluation score 0"})


class CriterionOut(Schema):
    label = String()
    weight = Integer()
    type = String(metadata={"enum": list(qa.TYPES)})
    max = Integer()
    critical = Boolean()


class ScorecardIn(Schema):
    name = String(required=True, validate=Length(1, 200))
    criteria = List(Nested(CriterionIn), required=True, validate=Length(1, qa.MAX_CRITERIA))


class ScorecardOut(Schema):
    id = Integer()
    name = String()
    version = Integer(metadata={"description": "each change is a new version; evaluations keep theirs"})
    criteria = List(Nested(CriterionOut))
    changed_by = String()
    changed_at = DateTime()
    created_at = DateTime()
    retired_at = DateTime(allow_none=True)


class ScorecardsQuery(Schema):
    retired = Boolean(load_default=False, metadata={"description": "retired scorecards too"})


class AnswerIn(Schema):
    value = Raw(load_default=None, metadata={
        "description": "yes_no: true or false; scale: 0 to its max; null: not applicable"})
    note = String(load_default="", validate=Length(0, qa.MAX_NOTE))


class EvaluationIn(Schema):
    recording = UUID(required=True, metadata={"description": "the recording's id (GET .../recordings)"})
    scorecard = Integer(required=True, metadata={"description": "scored against its current version"})
    answers = List(Nested(AnswerIn), required=True, validate=Length(1, qa.MAX_CRITERIA),
                   metadata={"description": "one per criterion, in the scorecard's order"})  # fmt: skip
    note = String(load_default="", validate=Length(0, qa.MAX_NOTE), metadata={"description": "overall"})


class AnswerOut(Schema):
    value = Raw(allow_none=True)
    note = String()


class EvaluationOut(Schema):
    id = Integer()
    recording_id = UUID()
    call_uuid = UUID(allow_none=True)
    queue = String()
    agent_id = String(allow_none=True, metadata={"description": "who answered the call: whose score it is"})
    call_at = DateTime(metadata={"description": "when the caller joined the queue"})
    evaluator = String()
    scorecard_id = Integer()
    scorecard = String(metadata={"description": "the scorecard's name in the version scored against"})
    scorecard_version = Integer()
    criteria = List(Nested(CriterionOut), metadata={"description": "as they were in that version"})
    answers = List(Nested(AnswerOut))
    note = String()
    score = Decimal(as_string=True, metadata={"description": "0-100, weighted; 0 on a critical failure"})
    critical_failed = Boolean()
    created_at = DateTime()


class EvaluationsQuery(Schema):
    agent = String(load_default=None, validate=NAME)
    queue = String(load_default=None, validate=Length(1, 63))
    recording = UUID(load_default=None)
    start = DateTime(load_default=None, data_key="from", metadata={"description": "calls from"})
    end = DateTime(load_default=None, data_key="to", metadata={"description": "calls before"})
    limit = Integer(load_default=100, validate=Range(1, 1000))
    offset = Integer(load_default=0, validate=Range(0))


class AveragesQuery(Schema):
    by = String(load_default="agent", validate=OneOf(("agent", "queue")))
    start = DateTime(load_default=None, data_key="from", metadata={"description": "calls from"})
    end = DateTime(load_default=None, data_key="to", metadata={"description": "calls before"})


class AverageOut(Schema):
    key = String(allow_none=True, metadata={"description": "the agent or the queue"})
    evaluations = Integer()
    average = Decimal(as_string=True)
    lowest = Decimal(as_string=True)
    highest = Decimal(as_string=True)
    critical_failed = Integer()
