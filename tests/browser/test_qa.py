"""Quality assurance in real Chromium, against the real API over HTTP and the embedded
PostgreSQL: a QA evaluator finds a recorded call, plays it in place and scores it; the
agent who took it sees the score and the evaluator's notes on their desk (and not a
colleague's); a tenant admin defines a scorecard and changes it (a new version)."""

from __future__ import annotations

import uuid
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from fsapps import qa as rules
from fsapps.store import qa
from fsapps.web.app import ApiContext
from tests.browser.sections import open_section
from tests.support.api import PASSWORD, QUEUES, populate, serve_api, static_queues

JOINED = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
CRITERIA = [
    {"label": "Greeted with the company's name", "weight": 1},
    {"label": "Showed empathy", "weight": 2, "type": "scale", "max": 4},
    {"label": "Verified the caller's identity", "weight": 3, "critical": True},
]


def recorded_call(store: Any, path: Path, agent: str, queue: str, caller: str,
                  outcome: str = "answered") -> str:  # fmt: skip
    """A queue call whose recording is ``path`` (as test_console's recorded calls); its id."""
    event = str(uuid.uuid4())
    with store.operator() as op:
        op.conn.execute(
            "INSERT INTO queue_calls (event_id, tenant_id, call_uuid, queue, agent_id, caller, joined_at,"
            " ended_at, wait_seconds, talk_seconds, outcome, recording)"
            " VALUES (%s, 'acme', %s, %s, %s, %s, %s, %s, 5, 90, %s, %s)",
            (event, str(uuid.uuid4()), queue, agent, caller, JOINED, JOINED + timedelta(minutes=2), outcome,
             str(path)),
        )  # fmt: skip
    return event


def test_qa_scores_a_recorded_call_it_plays_in_place_and_the_agent_sees_the_score_and_note(
    store, tmp_path, tabs
) -> None:
    populate(store)
    recordings = tmp_path / "recordings"
    (recordings / "acme").mkdir(parents=True)
    wav = recordings / "acme" / "call.wav"
    with wave.open(str(wav), "wb") as w:  # 1.5 s of 8 kHz 16-bit mono, as the switch records
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 12000)
    ours = recorded_call(store, wav, "acme1", "support", "+15550001")
    colleagues = recorded_call(store, wav, "acme2", "sales", "+15550002")
    recorded_call(store, wav, "acme1", "support", "+15550003", outcome="abandoned")
    with store.tenant("acme") as t:
        criteria = [c.as_dict() for c in rules.criteria(CRITERIA)]
        card = qa.create_scorecard(t, "Phone etiquette", criteria, "tenant_admin_acme")
        version = qa.scorecard(t, card)["version_id"]
        qa.add_evaluation(t, {  # a colleague's score: never on acme1's desk
            "recording": colleagues, "version": version, "call_uuid": None, "queue": "sales",
            "agent_id": "acme2", "call_at": JOINED, "evaluator": "qa_acme", "note": "Colleague's note",
            "score": 50, "critical_failed": False,
            "answers": [{"value": True, "note": ""}, {"value": 0, "note": ""}, {"value": True, "note": ""}]})
    server = serve_api(ApiContext(store, static_queues(QUEUES), recordings=recordings), console=True)
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        tab = tabs(base, "en-US", "qa")
        page = tab.login("qa_acme", PASSWORD)
        expect(page).to_have_url(f"{base}/console/qa")  # QA's own page
        expect(page.locator("#qa-rows tr")).to_have_count(3)
        page.fill("#qa-agent", "acme1")
        page.select_option("#qa-outcome", "answered")
        page.click("#qa-filter button[type=submit]")
        row = page.locator("#qa-rows tr")
        expect(row).to_have_count(1)
        expect(row).to_have_attribute("data-recording", ours)
        expect(row).to_contain_text("+15550001")
        expect(row).to_contain_text("Answered")
        row.locator("button.open").click()

        # Played in place: the browser fetches the audio from the API with the session cookie.
        # (An element's evaluate, not wait_for_function: the page's CSP refuses eval.)
        duration = page.locator("#qa-audio").evaluate(
            """a => a.readyState >= 1 ? a.duration : new Promise((ok, no) => {
                 a.addEventListener('loadedmetadata', () => ok(a.duration));
                 a.addEventListener('error', () => no(new Error(`audio: ${a.error && a.error.code}`)));
               })"""
        )
        assert abs(duration - 1.5) < 0.01
        assert page.locator("#qa-audio").evaluate("a => [a.readyState >= 1, a.error]") == [True, None]

        marks = page.locator("#qa-criteria select.mark")
        expect(marks).to_have_count(3)
        marks.nth(0).select_option("true")
        marks.nth(1).select_option("3")
        page.locator("#qa-criteria input.criterion-note").nth(1).fill("Rushed the caller at the end")
        marks.nth(2).select_option("true")
        page.fill("#qa-note", "Friendly and accurate; slow down when closing.")
        tab.shot("scoring")
        page.click("#qa-form button[type=submit]")
        expect(page.locator("#qa-result")).to_have_text("Score 91.67")  # (1 + 2*3/4 + 3) / 6, the server's
        expect(page.locator("#qa-earlier li.evaluation")).to_have_count(1)
        with store.tenant("acme") as t:
            saved = qa.evaluations(t, agent="acme1", queue=None, recording=None, start=None, end=None,
                                   limit=10, offset=0)  # fmt: skip
        assert [(str(e["recording_id"]), str(e["score"]), e["evaluator"]) for e in saved] == [
            (ours, "91.67", "qa_acme")]

        # The agent, in Chinese: their own score and the evaluator's notes, not the colleague's.
        desk = tabs(base, "zh-CN", "agent")
        page = desk.login("agent_acme", PASSWORD)
        expect(page).to_have_url(f"{base}/console/agent")
        mine = page.locator("#my-scores li.evaluation")
        expect(mine).to_have_count(1)
        expect(mine.locator(".score")).to_have_text("得分 91.67")
        expect(mine.locator(".overall-note")).to_have_text("Friendly and accurate; slow down when closing.")
        expect(page.locator("#my-scores")).not_to_contain_text("Colleague's note")
        mine.locator("summary").click()
        expect(mine.locator("td.criterion-note").nth(1)).to_have_text("Rushed the caller at the end")
        expect(mine.locator("td[data-mark]").nth(1)).to_have_text("3 / 4")
        desk.shot("my-scores")
    finally:
        server.stop()


def test_a_tenant_admin_defines_a_scorecard_and_changing_it_makes_a_new_version(store, tabs) -> None:
    populate(store)
    server = serve_api(ApiContext(store, static_queues(QUEUES)), console=True)
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        tab = tabs(base, "zh-CN", "admin")
        page = tab.login("tenant_admin_acme", PASSWORD)
        open_section(page, "scorecards")
        expect(page.locator("#no-scorecards")).to_be_visible()
        page.fill("#sc-name", "电话礼仪")
        page.locator("#sc-criteria .sc-label").nth(0).fill("使用公司名称问候")
        page.click("#sc-add")
        second = page.locator("#sc-criteria tr.sc-criterion").nth(1)
        second.locator(".sc-label").fill("核实来电者身份")
        second.locator(".sc-weight").fill("3")
        second.locator(".sc-critical").check()
        page.click("#sc-add")
        third = page.locator("#sc-criteria tr.sc-criterion").nth(2)
        third.locator(".sc-label").fill("同理心")
        third.locator(".sc-type").select_option("scale")
        third.locator(".sc-max").fill("4")
        page.click("#scorecard-form button[type=submit]")
        row = page.locator("#scorecard-rows tr")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("使用公司名称问候（1）、核实来电者身份（3）、同理心（1）")
        tab.shot("scorecards")

        # Changed: the empathy criterion weighs 2 now; saved as version 2.
        row.locator("button", has_text="修改").click()
        expect(page.locator("#sc-name")).to_have_value("电话礼仪")
        page.locator("#sc-criteria .sc-weight").nth(2).fill("2")
        page.click("#scorecard-form button[type=submit]")
        expect(page.locator(".message.done")).to_contain_text("已保存 电话礼仪，第 2 版。")
        with store.tenant("acme") as t:
            [card] = qa.scorecards(t)
        assert card["version"] == 2
        assert card["criteria"] == [
            {"label": "使用公司名称问候", "weight": 1, "type": "yes_no", "max": 1, "critical": False},
            {"label": "核实来电者身份", "weight": 3, "type": "yes_no", "max": 1, "critical": True},
            {"label": "同理心", "weight": 2, "type": "scale", "max": 4, "critical": False},
        ]
        # A bad criterion is the API's 422, said in Chinese; nothing changes. (The list is
        # drawn again after a save: its new row's button, once there, opens version 2.)
        expect(row).to_contain_text("同理心（2）")
        row.locator("button", has_text="修改").click()
        expect(page.locator("#sc-criteria tr.sc-criterion")).to_have_count(3)
        top = page.locator("#sc-criteria .sc-max").nth(2)
        top.evaluate("i => { i.removeAttribute('max'); i.value = '11'; }")  # past the browser's check
        page.click("#scorecard-form button[type=submit]")
        expect(page.locator('.message.error[data-code="invalid_criteria"]')).to_contain_text("评分表的评分项有误")
        with store.tenant("acme") as t:
            assert qa.scorecards(t)[0]["version"] == 2

        # Retired, once confirmed: gone from the list (its evaluations would stay).
        page.once("dialog", lambda d: d.accept())
        row.locator("button.danger").click()
        expect(page.locator("#no-scorecards")).to_be_visible()
        with store.tenant("acme") as t:
            assert qa.scorecards(t) == [] and len(qa.scorecards(t, include_retired=True)) == 1
    finally:
        server.stop()
