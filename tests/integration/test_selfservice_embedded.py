"""The embedded runtime (fsapps.embedded under mod_python3) against the stand-in
``freeswitch`` session, and the same node over outbound ESL: same outcome.
The real mod_python3 runs in tests/acceptance/test_embedded_real.py."""

from __future__ import annotations

import pytest

from fsapps import embedded
from fsapps.apps.catalog import load_checked
from fsapps.apps.context import AppContext, install
from tests.integration.test_selfservice_robustness import acme, answers, call, project  # noqa: F401
from tests.support.freeswitch_standin import Session


@pytest.fixture
def context(acme, tmp_path):  # noqa: F811
    store, writer = acme
    ctx = AppContext(load_checked(project(tmp_path)), store=store, records=writer)
    install(ctx)
    yield ctx
    install(None)


def survey_session(**kw) -> Session:
    return Session({"fsapps_tenant": "acme", "fsapps_flow": "survey", "fsapps_node": "survey"}, **kw)


def usage(store) -> list[tuple[str, str]]:
    with store.tenant("acme") as t:
        rows = t._all("SELECT resource_id, outcome FROM usage_records ORDER BY started_at")
    return [(r["resource_id"], r["outcome"]) for r in rows]


def test_embedded_survey_matches_the_same_survey_over_esl(context, acme, tmp_path):  # noqa: F811
    store, _ = acme
    session = survey_session(keypad=["4", "5"])
    embedded.handler(session, "flow")
    assert session.variables["fsapps_branch"] == "_"
    assert session.played[-1].startswith("say:Thank you")
    embedded_answers = answers(store)
    # The same node, the same caller, through the emulator and the controller.
    with store.operator() as op:
        op.conn.execute("DELETE FROM survey_answers")
    trace = call(acme, project(tmp_path / "esl"), "5000", ("4", "5"))
    assert ("survey.survey", "_") in trace.branches
    assert answers(store) == embedded_answers == [("rate", 4, "survey"), ("recommend", 5, "survey")]
    assert [o for r, o in usage(store) if r == "survey.survey"] == ["_", "_"]


def test_embedded_caller_hanging_up_ends_the_application_and_is_billed(context, acme):  # noqa: F811
    store, _ = acme
    session = survey_session(keypad=["2"], hangup_after_media=1)
    embedded.handler(session, "flow")  # returns quietly: mod_python3 needs nothing more
    assert "fsapps_branch" not in session.variables
    assert answers(store) == [("rate", 2, "survey")]
    assert usage(store) == [("survey.survey", "caller_hung_up")]


def test_embedded_unknown_application_does_nothing(context):
    session = survey_session()
    embedded.handler(session, "no_such_app")
    assert session.played == [] and "fsapps_branch" not in session.variables
