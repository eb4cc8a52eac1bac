"""Quality assurance through the HTTP API against the real PostgreSQL: the tenant admin's
versioned scorecards, evaluations of recorded calls scored on the server, who reads them
(an agent their own only; a supervisor their groups' queues'; never another tenant), the
reports' averages, and the recordings QA works through, filtered by queue, outcome and
the caller's survey score."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from fsapps.web.app import ApiContext
from tests.support.api import QUEUES, Client, populate, serve_api, static_queues

T = "/api/v1/tenants/acme"
QA = T + "/qa"
DAY = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
CARD = {"name": "Phone etiquette", "criteria": [
    {"label": "Greeted with the company's name", "weight": 1},
    {"label": "Empathy", "weight": 2, "type": "scale", "max": 4},
    {"label": "Verified the caller's identity", "weight": 3, "critical": True},
]}  # fmt: skip


def recorded(store, tenant: str, queue: str, agent: str | None, joined: datetime, *,
             outcome: str = "answered", survey: list[int] = ()) -> str:  # fmt: skip
    """A recorded queue call (and the caller's survey answers); its recording's id."""
    event, call = str(uuid.uuid4()), str(uuid.uuid4())
    with store.operator() as op:
        op.conn.execute(
            "INSERT INTO queue_calls (event_id, tenant_id, call_uuid, queue, agent_id, caller, joined_at,"
            " ended_at, wait_seconds, talk_seconds, outcome, recording)"
            " VALUES (%s, %s, %s, %s, %s, '+15550001', %s, %s, 5, 60, %s, '/nowhere.wav')",
            (event, tenant, call, queue, agent, joined, joined + timedelta(minutes=1), outcome),
        )
        for n, score in enumerate(survey):
            op.conn.execute(
                "INSERT INTO survey_answers (event_id, tenant_id, call_uuid, agent_id, queue, flow, question,"
                " score, answered_at) VALUES (%s, %s, %s, %s, %s, 'main', %s, %s, %s)",
                (str(uuid.uuid4()), tenant, call, agent, queue, f"q{n}", score, joined),
            )  # fmt: skip
    return event


@pytest.fixture
def api(store):
    cc = populate(store)
    server = serve_api(ApiContext(store, static_queues(QUEUES)))

    def as_(role: str, tenant: str = "acme") -> Client:
        return Client(server.server_port, token=cc.token(role, tenant))

    yield as_
    server.stop()


def evaluate(client: Client, recording: str, card: dict, answers: list[dict], note: str = ""):
    body = {"recording": recording, "scorecard": card["id"], "answers": answers, "note": note}
    return client.request("POST", QA + "/evaluations", body)


def _ok(r, status: int = 200):
    assert r.status == status, (r.status, r.json)
    return r.json


def test_a_changed_scorecard_is_a_new_version_and_old_evaluations_keep_theirs(api, store) -> None:
    admin, qa = api("tenant_admin"), api("qa")
    card = _ok(admin.request("POST", QA + "/scorecards", CARD), 201)
    assert (card["version"], card["changed_by"], len(card["criteria"])) == (1, "tenant_admin_acme", 3)
    assert card["criteria"][0] == {"label": "Greeted with the company's name", "weight": 1, "type": "yes_no",
                                   "max": 1, "critical": False}  # fmt: skip
    rec = recorded(store, "acme", "support", "acme1", DAY)
    first = _ok(qa.request("POST", QA + "/evaluations", {
        "recording": rec, "scorecard": card["id"], "note": "Good call",
        "answers": [{"value": True}, {"value": 3, "note": "a little rushed"}, {"value": True}]}), 201)
    assert (first["score"], first["scorecard_version"], first["evaluator"]) == ("91.67", 1, "qa_acme")

    # The admin drops the greeting and makes empathy count more: version 2.
    changed = {"name": "Phone etiquette 2", "criteria": [
        {"label": "Empathy", "weight": 6, "type": "scale", "max": 4},
        {"label": "Verified the caller's identity", "weight": 3, "critical": True}]}
    v2 = _ok(admin.request("PUT", f"{QA}/scorecards/{card['id']}", changed))
    assert (v2["id"], v2["version"], v2["name"]) == (card["id"], 2, "Phone etiquette 2")
    assert _ok(admin.request("PUT", f"{QA}/scorecards/{card['id']}", changed))["version"] == 2  # no change
    assert [c["version"] for c in _ok(qa.get(QA + "/scorecards"))] == [2]

    # The first evaluation still reads as it was scored: version 1's criteria and score.
    again = _ok(qa.get(f"{QA}/evaluations/{first['id']}"))
    assert (again["score"], again["scorecard_version"], again["scorecard"]) == ("91.67", 1, "Phone etiquette")
    assert [c["label"] for c in again["criteria"]] == [c["label"] for c in CARD["criteria"]]
    assert again["answers"][1] == {"value": 3, "note": "a little rushed"}
    second = _ok(qa.request("POST", QA + "/evaluations", {
        "recording": rec, "scorecard": card["id"], "answers": [{"value": 3}, {"value": True}]}), 201)
    assert (second["score"], second["scorecard_version"]) == ("83.33", 2)  # (6*3/4 + 3) / 9

    # Retired: offered for no new evaluation; the evaluations made stay.
    assert admin.request("DELETE", f"{QA}/scorecards/{card['id']}").status == 204
    assert _ok(qa.get(QA + "/scorecards")) == []
    assert [c["id"] for c in _ok(qa.get(QA + "/scorecards?retired=true"))] == [card["id"]]
    late = qa.request("POST", QA + "/evaluations", {"recording": rec, "scorecard": card["id"],
                                                    "answers": [{"value": 3}, {"value": True}]})
    assert (late.status, late.json["code"]) == (409, "scorecard_retired")
    assert admin.request("PUT", f"{QA}/scorecards/{card['id']}", CARD).json["code"] == "scorecard_retired"
    assert len(_ok(qa.get(f"{QA}/evaluations?recording={rec}"))) == 2


def test_bad_scorecards_and_answers_are_refused_saying_why_and_store_nothing(api, store) -> None:
    admin, qa = api("tenant_admin"), api("qa")
    bad = admin.request("POST", QA + "/scorecards", {"name": "x", "criteria": [{"label": "a",
                                                                                "type": "scale"}]})
    assert (bad.status, bad.json["code"]) == (422, "invalid_criteria")
    assert "criterion 1 (a): a scale goes from 0 to a max of 1-10" in bad.json["message"]
    weightless = admin.request("POST", QA + "/scorecards", {"name": "x", "criteria": [{"label": "a",
                                                                                       "weight": 0}]})
    assert (weightless.status, weightless.json["code"]) == (422, "invalid_criteria")
    assert "criterion 1 (a): a weight is a whole number 1-100" in weightless.json["message"]
    shape = admin.request("POST", QA + "/scorecards", {"name": "x", "criteria": [{"label": "a",
                                                                                  "weight": "heavy"}]})
    assert (shape.status, shape.json["code"]) == (422, "invalid_input")
    assert qa.request("POST", QA + "/scorecards", CARD).status == 403  # QA scores; the admin writes forms
    card = _ok(admin.request("POST", QA + "/scorecards", CARD), 201)
    rec = recorded(store, "acme", "support", "acme1", DAY)
    cases = [
        ([{"value": True}, {"value": 5}, {"value": True}], "criterion 2 (Empathy): 0 to 4"),
        ([{"value": True}], "the scorecard has 3 criteria"),
        ([{"value": None}] * 3, "nothing to score"),
        ([{"value": "yes"}, {"value": 1}, {"value": True}], "criterion 1 (Greeted with the company's name)"),
    ]
    for answers, why in cases:
        r = evaluate(qa, rec, card, answers)
        assert (r.status, r.json["code"]) == (422, "invalid_answers"), r.json
        assert why in r.json["message"]
    nowhere = evaluate(qa, str(uuid.uuid4()), card, [{"value": True}] * 3)
    assert (nowhere.status, nowhere.json["code"]) == (404, "no_such_recording")
    no_card = qa.request("POST", QA + "/evaluations", {"recording": rec, "scorecard": card["id"] + 99,
                                                       "answers": [{"value": True}] * 3})  # fmt: skip
    assert (no_card.status, no_card.json["code"]) == (404, "no_such_scorecard")
    assert _ok(qa.get(QA + "/evaluations")) == []
    with store.operator() as op:
        assert op._one("SELECT count(*) AS n FROM qa_evaluations")["n"] == 0


def test_an_agent_reads_their_own_scores_only_and_a_supervisor_their_groups(api, store) -> None:
    admin, qa = api("tenant_admin"), api("qa")
    card = _ok(admin.request("POST", QA + "/scorecards", CARD), 201)
    theirs = recorded(store, "acme", "support", "acme1", DAY)
    colleague = recorded(store, "acme", "sales", "acme2", DAY)
    ids = {}
    for rec, note in ((theirs, "Well handled"), (colleague, "Spoke over the caller")):
        e = _ok(qa.request("POST", QA + "/evaluations", {
            "recording": rec, "scorecard": card["id"], "note": note,
            "answers": [{"value": True}, {"value": 4},
                        {"value": rec == theirs, "note": "asked the PIN"}]}), 201)
        ids[rec] = e["id"]
    assert _ok(qa.get(f"{QA}/evaluations/{ids[colleague]}"))["score"] == "0.00"  # the critical criterion

    agent = api("agent")  # acme1
    mine = _ok(agent.get(QA + "/evaluations"))
    assert [(e["id"], e["note"], e["score"]) for e in mine] == [(ids[theirs], "Well handled", "100.00")]
    assert mine[0]["answers"][2]["note"] == "asked the PIN"
    assert _ok(agent.get(f"{QA}/evaluations/{ids[theirs]}"))["evaluator"] == "qa_acme"
    assert agent.get(f"{QA}/evaluations/{ids[colleague]}").status == 403
    assert agent.get(QA + "/evaluations?agent=acme2").status == 403
    assert [e["id"] for e in _ok(agent.get(QA + "/evaluations?agent=acme1"))] == [ids[theirs]]
    assert agent.request("POST", QA + "/evaluations", {"recording": theirs, "scorecard": card["id"],
                                                       "answers": [{"value": True}] * 3}).status == 403
    assert agent.get(QA + "/averages").status == 403

    sup = api("supervisor")  # group "front": queue support
    assert [e["id"] for e in _ok(sup.get(QA + "/evaluations"))] == [ids[theirs]]
    assert sup.get(f"{QA}/evaluations/{ids[colleague]}").status == 403
    out_of_group = sup.request("POST", QA + "/evaluations", {"recording": colleague, "scorecard": card["id"],
                                                             "answers": [{"value": True}, {"value": 1},
                                                                         {"value": True}]})  # fmt: skip
    assert out_of_group.status == 403
    in_group = evaluate(sup, theirs, card, [{"value": True}, {"value": 2}, {"value": True}])
    assert _ok(in_group, 201)["score"] == "83.33"

    # Another tenant: no such tenant over the API, and no rows inside its wall.
    other = api("qa", "globex")
    assert other.get(f"{QA}/evaluations/{ids[theirs]}").json["code"] == "no_such_tenant"
    assert other.get("/api/v1/tenants/globex/qa/evaluations").json == []
    assert other.get(f"/api/v1/tenants/globex/qa/evaluations/{ids[theirs]}").status == 404
    assert other.get("/api/v1/tenants/globex/qa/scorecards").json == []
    g = other.request("POST", "/api/v1/tenants/globex/qa/evaluations", {"recording": theirs,
                                                                        "scorecard": card["id"],
                                                                        "answers": [{"value": True}] * 3})
    assert (g.status, g.json["code"]) == (404, "no_such_recording")
    with store.tenant("globex") as t:
        for table in ("qa_scorecards", "qa_scorecard_versions", "qa_evaluations"):
            assert t._one(f"SELECT count(*) AS n FROM {table}")["n"] == 0, table


def test_reports_read_averages_per_agent_and_per_queue_over_a_range(api, store) -> None:
    admin, qa = api("tenant_admin"), api("qa")
    card = _ok(admin.request("POST", QA + "/scorecards", {"name": "Simple", "criteria": [
        {"label": "Resolved", "weight": 1, "type": "scale", "max": 4}]}), 201)

    def score(queue: str, agent: str, day: int, points: int) -> None:
        rec = recorded(store, "acme", queue, agent, DAY + timedelta(days=day))
        _ok(qa.request("POST", QA + "/evaluations", {"recording": rec, "scorecard": card["id"],
                                                     "answers": [{"value": points}]}), 201)  # fmt: skip

    score("support", "acme1", 0, 4)  # 100
    score("support", "acme1", 1, 2)  # 50
    score("sales", "acme2", 1, 1)  # 25
    score("support", "acme2", 2, 3)  # 75: outside the range below
    range_ = "&from=2026-11-20T00:00:00Z&to=2026-11-22T00:00:00Z"
    by_agent = _ok(qa.get(QA + "/averages?by=agent" + range_))
    assert [(r["key"], r["evaluations"], r["average"], r["lowest"], r["highest"]) for r in by_agent] == [
        ("acme1", 2, "75.00", "50.00", "100.00"), ("acme2", 1, "25.00", "25.00", "25.00")]
    by_queue = _ok(qa.get(QA + "/averages?by=queue"))
    assert [(r["key"], r["evaluations"], r["average"]) for r in by_queue] == [
        ("sales", 1, "25.00"), ("support", 3, "75.00")]
    # A supervisor's report covers their groups' queues only.
    assert [(r["key"], r["average"]) for r in _ok(api("supervisor").get(QA + "/averages?by=queue"))] == [
        ("support", "75.00")]
    day1 = "&from=2026-11-21T00:00:00Z&to=2026-11-22T00:00:00Z"
    one_day = _ok(qa.get(QA + "/averages?by=agent" + day1))
    assert [(r["key"], r["average"]) for r in one_day] == [("acme1", "50.00"), ("acme2", "25.00")]
    backwards = qa.get(QA + "/averages?from=2026-11-22T00:00:00Z&to=2026-11-20T00:00:00Z")
    assert (backwards.status, backwards.json["code"]) == (422, "ends_before_start")
    assert qa.get(QA + "/averages?by=caller").status == 422


def test_qa_finds_recordings_by_queue_outcome_and_survey_score(api, store) -> None:
    qa = api("qa")
    happy = recorded(store, "acme", "support", "acme1", DAY, survey=[5, 4])
    unhappy = recorded(store, "acme", "sales", "acme2", DAY + timedelta(hours=1), survey=[1, 2])
    quiet = recorded(store, "acme", "support", "acme1", DAY + timedelta(hours=2))
    dropped = recorded(store, "acme", "support", None, DAY + timedelta(hours=3), outcome="abandoned")

    def ids(query: str) -> list[str]:
        return [r["id"] for r in _ok(qa.get(T + "/recordings" + query))]

    assert ids("") == [dropped, quiet, unhappy, happy]
    assert ids("?queue=support") == [dropped, quiet, happy]
    assert ids("?outcome=abandoned") == [dropped]
    assert ids("?outcome=answered&queue=support") == [quiet, happy]
    assert ids("?survey_max=2") == [unhappy]
    assert ids("?survey_min=4") == [happy]
    assert ids("?survey_min=2&survey_max=4") == []  # 4.5 and 1.5
    rows = {r["id"]: r for r in _ok(qa.get(T + "/recordings"))}
    assert (rows[happy]["survey_score"], rows[quiet]["survey_score"]) == ("4.50", None)
    assert (rows[dropped]["outcome"], rows[happy]["outcome"]) == ("abandoned", "answered")
    assert qa.get(T + "/recordings?outcome=hung_up").status == 422
    assert qa.get(T + "/recordings?survey_min=6").status == 422
