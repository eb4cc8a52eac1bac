"""What happened: survey answers, CDRs, usage records and monthly statements."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint

from fsapps.web import schemas
from fsapps.web.app import PREFIX, service

bp = APIBlueprint("records", __name__, url_prefix=PREFIX + "/tenants/<tenant>", tag="Records")


@bp.get("/surveys")
@bp.input(schemas.LimitQuery, location="query", arg_name="query")
@bp.output(schemas.SurveyOut(many=True))
@bp.doc(summary="Survey answers, newest first", responses=[200, 401, 403, 404])
def list_surveys(tenant: str, query: dict[str, Any]) -> Any:
    return service().surveys(tenant, query["limit"])


@bp.get("/cdrs")
@bp.input(schemas.LimitQuery, location="query", arg_name="query")
@bp.output(schemas.CdrOut(many=True))
@bp.doc(summary="Call detail records, one per leg, newest first (an agent: the calls they were on)",
        responses=[200, 401, 403, 404])  # fmt: skip
def list_cdrs(tenant: str, query: dict[str, Any]) -> Any:
    return service().cdrs(tenant, query["limit"])


@bp.get("/usage")
@bp.input(schemas.UsageQuery, location="query", arg_name="query")
@bp.output(schemas.UsageOut(many=True))
@bp.doc(summary="Usage records that started in [from, to)", responses=[200, 401, 403, 404, 422])
def list_usage(tenant: str, query: dict[str, Any]) -> Any:
    return service().usage(tenant, query["start"], query["end"])


@bp.get("/statements/<month>")
@bp.output(schemas.StatementOut)
@bp.doc(
    summary="The month's statement (YYYY-MM, in the tenant's timezone)", responses=[200, 401, 403, 404, 422]
)
def get_statement(tenant: str, month: str) -> Any:
    return service().statement(tenant, month)


everyone = APIBlueprint("billing", __name__, url_prefix=PREFIX, tag="Records")


@everyone.get("/statements/<month>")
@everyone.output(schemas.StatementOut(many=True))
@everyone.doc(summary="Every tenant's statement for the month (operator)", responses=[200, 401, 403, 409])
def all_statements(month: str) -> Any:
    return service().statements(month)
