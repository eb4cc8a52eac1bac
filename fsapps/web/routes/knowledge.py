"""The knowledge base and call scripts (fsapps.web.knowledge), and wrap-up: disposition
codes, the agent's disposition and notes on a call, and the call's record
(fsapps.web.wrapups)."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint

from fsapps.web import knowledge_schemas as schemas
from fsapps.web.app import PREFIX, service
from fsapps.web.knowledge import Knowledge
from fsapps.web.wrapups import WrapUps

bp = APIBlueprint("knowledge", __name__, url_prefix=PREFIX + "/tenants/<tenant>", tag="Knowledge")
wrapup = APIBlueprint("wrapup", __name__, url_prefix=PREFIX + "/tenants/<tenant>", tag="Wrap-up")


def kb() -> Knowledge:
    return Knowledge(service())


def wrap_ups() -> WrapUps:
    return WrapUps(service())


# --- the knowledge base ----------------------------------------------------------------------


@bp.get("/kb/articles")
@bp.input(schemas.ArticlesQuery, location="query", arg_name="query")
@bp.output(schemas.ArticleOut(many=True))
@bp.doc(summary="Search articles and call scripts (Chinese or English words), best match first",
        responses=[200, 401, 403, 404, 422])  # fmt: skip
def search_articles(tenant: str, query: dict[str, Any]) -> Any:
    return kb().search(tenant, query)


@bp.post("/kb/articles")
@bp.input(schemas.ArticleIn, arg_name="body")
@bp.output(schemas.ArticleOut, status_code=201)
@bp.doc(summary="A new article or call script", responses=[201, 401, 403, 404, 422])
def create_article(tenant: str, body: dict[str, Any]) -> Any:
    return kb().create(tenant, body)


@bp.get("/kb/articles/<int:article>")
@bp.output(schemas.ArticleOut)
@bp.doc(summary="One article", responses=[200, 401, 403, 404])
def get_article(tenant: str, article: int) -> Any:
    return kb().get(tenant, article)


@bp.patch("/kb/articles/<int:article>")
@bp.input(schemas.ArticlePatch, arg_name="body")
@bp.output(schemas.ArticleOut)
@bp.doc(summary="Change an article (the fields given)", responses=[200, 401, 403, 404, 422])
def patch_article(tenant: str, article: int, body: dict[str, Any]) -> Any:
    return kb().patch(tenant, article, body)


@bp.delete("/kb/articles/<int:article>")
@bp.output({}, status_code=204)
@bp.doc(summary="Delete an article", responses=[204, 401, 403, 404])
def delete_article(tenant: str, article: int) -> Any:
    kb().delete(tenant, article)
    return "", 204


@bp.get("/queues/<queue>/script")
@bp.output(schemas.ArticleOut)
@bp.doc(summary="The call script for the queue's calls (its own, else the one for every queue)",
        responses=[200, 401, 403, 404])  # fmt: skip
def queue_script(tenant: str, queue: str) -> Any:
    return kb().script(tenant, queue)


# --- wrap-up ------------------------------------------------------------------------------------


@wrapup.get("/wrap-up-codes")
@wrapup.input(schemas.CodesQuery, location="query", arg_name="query")
@wrapup.output(schemas.CodeOut(many=True))
@wrapup.doc(summary="The disposition codes (for a queue's calls); the defaults if the tenant has none",
            responses=[200, 401, 403, 404, 422])  # fmt: skip
def list_codes(tenant: str, query: dict[str, Any]) -> Any:
    return wrap_ups().codes(tenant, query["queue"])


@wrapup.put("/wrap-up-codes/<code>")
@wrapup.input(schemas.CodeIn, arg_name="body")
@wrapup.output({}, status_code=204)
@wrapup.doc(summary="Define or change a disposition code", responses=[204, 401, 403, 404, 422])
def put_code(tenant: str, code: str, body: dict[str, Any]) -> Any:
    _check_code(code)
    wrap_ups().put_code(tenant, code, body)
    return "", 204


@wrapup.delete("/wrap-up-codes/<code>")
@wrapup.output({}, status_code=204)
@wrapup.doc(summary="Remove a disposition code (wrap-ups written with it keep its label)",
            responses=[204, 401, 403, 404])  # fmt: skip
def delete_code(tenant: str, code: str) -> Any:
    wrap_ups().remove_code(tenant, code)
    return "", 204


@wrapup.get("/wrap-up-settings")
@wrapup.output(schemas.WrapUpSettings)
@wrapup.doc(summary="Whether a disposition is required before going ready", responses=[200, 401, 403, 404])
def get_settings(tenant: str) -> Any:
    return wrap_ups().settings(tenant)


@wrapup.put("/wrap-up-settings")
@wrapup.input(schemas.WrapUpSettings, arg_name="body")
@wrapup.output(schemas.WrapUpSettings)
@wrapup.doc(summary="Require a disposition before going ready, or not", responses=[200, 401, 403, 404, 422])
def put_settings(tenant: str, body: dict[str, Any]) -> Any:
    return wrap_ups().set_settings(tenant, body["required"])


@wrapup.get("/agents/<agent>/wrap-up")
@wrapup.output(schemas.LastCall)
@wrapup.doc(summary="The agent's call on now or last answered, with their wrap-up and the codes for it",
            responses=[200, 401, 403, 404])  # fmt: skip
def last_call(tenant: str, agent: str) -> Any:
    return wrap_ups().last(tenant, agent)


@wrapup.put("/agents/<agent>/wrap-ups/<uuid:call>")
@wrapup.input(schemas.WrapUpIn, arg_name="body")
@wrapup.output(schemas.WrapUpWritten)
@wrapup.doc(summary="The agent's disposition and notes on a call they handled (again: replaced)",
            responses=[200, 401, 403, 404, 422])  # fmt: skip
def put_wrap_up(tenant: str, agent: str, call: Any, body: dict[str, Any]) -> Any:
    return wrap_ups().write(tenant, agent, str(call), body)


@wrapup.get("/wrap-ups")
@wrapup.input(schemas.WrapUpsQuery, location="query", arg_name="query")
@wrapup.output(schemas.WrapUpRow(many=True))
@wrapup.doc(summary="Wrap-ups, newest first (an agent: their own; a supervisor: their groups')",
            responses=[200, 401, 403, 404, 422])  # fmt: skip
def list_wrap_ups(tenant: str, query: dict[str, Any]) -> Any:
    return wrap_ups().list(tenant, query)


@wrapup.get("/calls/<uuid:call>")
@wrapup.output(schemas.CallOut)
@wrapup.doc(summary="A call: its queue visits, CDR legs and wrap-ups (dispositions and notes)",
            responses=[200, 401, 403, 404])  # fmt: skip
def get_call(tenant: str, call: Any) -> Any:
    return wrap_ups().call(tenant, str(call))


def _check_code(code: str) -> None:
    from marshmallow import ValidationError

    from fsapps.web.errors import ApiError

    try:
        schemas.CODE(code)
    except ValidationError as exc:
        raise ApiError(422, "invalid_input", f"code: {exc.messages[0]}") from None
