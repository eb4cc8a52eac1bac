"""Quality assurance (S2.6 质检席): scorecards, evaluations of recorded calls and the
reports' averages (fsapps.web.qa). The recordings to score are GET .../recordings'."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint

from fsapps.web import qa_schemas as schemas
from fsapps.web.app import PREFIX, service
from fsapps.web.qa import QualityAssurance

bp = APIBlueprint("qa", __name__, url_prefix=PREFIX + "/tenants/<tenant>/qa", tag="Quality assurance")


def qa() -> QualityAssurance:
    return QualityAssurance(service())


@bp.get("/scorecards")
@bp.input(schemas.ScorecardsQuery, location="query", arg_name="query")
@bp.output(schemas.ScorecardOut(many=True))
@bp.doc(summary="The scorecards, each as its current version", responses=[200, 401, 403, 404, 422])
def list_scorecards(tenant: str, query: dict[str, Any]) -> Any:
    return qa().scorecards(tenant, query["retired"])


@bp.post("/scorecards")
@bp.input(schemas.ScorecardIn, arg_name="body")
@bp.output(schemas.ScorecardOut, status_code=201)
@bp.doc(summary="A new scorecard (version 1)", responses=[201, 401, 403, 404, 422])
def create_scorecard(tenant: str, body: dict[str, Any]) -> Any:
    return qa().create_scorecard(tenant, body["name"], body["criteria"])


@bp.put("/scorecards/<int:scorecard>")
@bp.input(schemas.ScorecardIn, arg_name="body")
@bp.output(schemas.ScorecardOut)
@bp.doc(summary="Change a scorecard: a new version; evaluations already made keep theirs",
        responses=[200, 401, 403, 404, 409, 422])  # fmt: skip
def change_scorecard(tenant: str, scorecard: int, body: dict[str, Any]) -> Any:
    return qa().change_scorecard(tenant, scorecard, body["name"], body["criteria"])


@bp.delete("/scorecards/<int:scorecard>")
@bp.output({}, status_code=204)
@bp.doc(summary="Retire a scorecard: no new evaluations against it; the old ones stay",
        responses=[204, 401, 403, 404, 409])  # fmt: skip
def retire_scorecard(tenant: str, scorecard: int) -> Any:
    qa().retire_scorecard(tenant, scorecard)
    return "", 204


@bp.post("/evaluations")
@bp.input(schemas.EvaluationIn, arg_name="body")
@bp.output(schemas.EvaluationOut, status_code=201)
@bp.doc(summary="Score a recorded call against a scorecard (the score is computed here)",
        responses=[201, 401, 403, 404, 409, 422])  # fmt: skip
def evaluate(tenant: str, body: dict[str, Any]) -> Any:
    return qa().evaluate(tenant, str(body["recording"]), body["scorecard"], body["answers"], body["note"])


@bp.get("/evaluations")
@bp.input(schemas.EvaluationsQuery, location="query", arg_name="query")
@bp.output(schemas.EvaluationOut(many=True))
@bp.doc(summary="Evaluations, newest call first (an agent: their own; a supervisor: their groups' queues')",
        responses=[200, 401, 403, 404, 422])  # fmt: skip
def list_evaluations(tenant: str, query: dict[str, Any]) -> Any:
    return qa().evaluations(tenant, query)


@bp.get("/evaluations/<int:evaluation>")
@bp.output(schemas.EvaluationOut)
@bp.doc(summary="One evaluation, with the criteria it was scored against and the notes",
        responses=[200, 401, 403, 404])  # fmt: skip
def get_evaluation(tenant: str, evaluation: int) -> Any:
    return qa().evaluation(tenant, evaluation)


@bp.get("/averages")
@bp.input(schemas.AveragesQuery, location="query", arg_name="query")
@bp.output(schemas.AverageOut(many=True))
@bp.doc(summary="Per agent or per queue: evaluations, mean, lowest and highest score of calls in a range",
        responses=[200, 401, 403, 404, 422])  # fmt: skip
def averages(tenant: str, query: dict[str, Any]) -> Any:
    return qa().averages(tenant, query["by"], query["start"], query["end"])
