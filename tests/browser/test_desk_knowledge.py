"""The desk's knowledge and wrap-up, in Chinese, on a call placed through the emulator: the
offer shows the queue's call script, the agent searches the knowledge base in Chinese, and
at wrap-up (the tenant requires a disposition) picks a code and writes notes, which then
stand on the customer's timeline. Articles' text, markup in it included, shows as text."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from fsapps.store import customers, knowledge, wrapups
from fsapps.web.console import catalogue
from tests.browser.test_agent_desk import desk
from tests.support.api import PASSWORD
from tests.support.waiting import wait_for

ZH = catalogue("zh-CN")
HOSTILE = '<img src=x onerror="window.owned=1">'
SCRIPT = "# 开场白\n您好，这里是 **Popco 客服**，请问有什么可以帮您？\n\n- 核实来电号码\n- 询问卡号后四位"


def _seed(store: Any) -> int:
    """The front queue's script, two articles (one with markup in it), a code of the queue's,
    a required disposition, and the caller as a customer."""
    with store.tenant("popco") as t:
        knowledge.create(t, {"kind": "script", "title": "前台脚本", "body": SCRIPT, "tags": [],
                             "queues": ["front"]}, "admin")  # fmt: skip
        knowledge.create(t, {"kind": "article", "title": "如何办理信用卡挂失",
                             "body": f"先核实身份，再冻结卡片。\n\n1. 核实身份\n2. 冻结卡片 {HOSTILE}",
                             "tags": ["信用卡"], "queues": []}, "admin")  # fmt: skip
        knowledge.create(t, {"kind": "article", "title": "账单分期", "body": "分 3、6、12 期。", "tags": [],
                             "queues": []}, "admin")  # fmt: skip
        wrapups.put_code(t, "card_lost", "挂失已办理", ["front"], 0)
        wrapups.put_code(t, "other", "其他", [], 1)
        wrapups.set_required(t, True)
        return customers.create(t, {"name": "王小明", "company": "", "tags": [], "custom_fields": {},
                                    "numbers": ["13800000031"], "owner_agent": None})  # fmt: skip


def test_the_desk_shows_the_queues_script_searches_in_chinese_and_wraps_up_onto_the_timeline(
    store, tmp_path, tabs
) -> None:
    with desk(store, tmp_path) as d:
        customer = _seed(store)
        tab = tabs(d.base, "zh-CN", "agent")
        page = tab.login("ann", PASSWORD)
        expect(page).to_have_url(f"{d.base}/console/agent")
        expect(page.locator("#live")).to_have_attribute("data-live", "live")
        script, wrap = page.locator("#script-card"), page.locator("#wrapup-card")
        expect(script).to_be_hidden()
        expect(wrap).to_be_hidden()  # no call handled yet

        caller = d.switch.place_call("7100", caller_id_number="13800000031")
        # The offer rings: the queue's call script shows, its Markdown as elements of text.
        expect(page.locator("#offer-card")).to_be_visible()
        expect(script).to_be_visible()
        expect(page.locator("#script-title")).to_have_text("前台脚本")
        expect(script.locator("h3")).to_have_text("开场白")
        expect(script.locator("strong")).to_have_text("Popco 客服")
        expect(script.locator("li")).to_have_text(["核实来电号码", "询问卡号后四位"])

        (leg,) = wait_for(lambda: d.phone.calls)
        d.switch.channels[leg].mark_answered()
        expect(page.locator("#call-fields")).to_be_visible()
        expect(wrap).to_be_visible()  # notes may be written on the call
        expect(page.locator("#wrapup-code option")).to_have_text([ZH["wrapup.choose"], "挂失已办理", "其他"])

        # The knowledge base, searched in Chinese by two words, then by one.
        page.fill("#kb-q", "信用卡 挂失")
        page.click("#kb-form button[type=submit]")
        results = page.locator("#kb-results > li")
        expect(results).to_have_count(1)
        expect(results.locator("summary")).to_have_text("如何办理信用卡挂失")
        results.locator("summary").click()
        expect(results.locator("ol > li")).to_have_text(["核实身份", f"冻结卡片 {HOSTILE}"])
        assert page.locator("#kb-results img").count() == 0 and page.evaluate("window.owned") is None
        page.fill("#kb-q", "分期")
        page.press("#kb-q", "Enter")
        expect(page.locator("#kb-results summary")).to_have_text(["账单分期"])
        tab.shot("call-script-kb")

        # The call ends: wrap-up. The tenant requires a disposition, so ending wrap-up early
        # (going ready) is refused until one is saved.
        d.switch.channels[leg].hangup("NORMAL_CLEARING")
        expect(page.locator("#after-call")).to_be_visible()
        assert caller.destroyed.wait(30)
        page.click('#after-call [data-op="wrap-up-done"]')
        expect(page.locator('.message.error[data-code="wrap_up_required"]')).to_be_visible()
        page.fill("#break-reason-input", "休息")
        page.click("#break-form button[type=submit]")
        expect(page.locator("#status")).to_have_attribute("data-status", "On Break")
        page.click("#go-ready")
        expect(page.locator('.message.error[data-code="wrap_up_required"]')).to_be_visible()
        expect(page.locator("#status")).to_have_attribute("data-status", "On Break")
        expect(wrap).to_be_visible()  # the call just ended, to wrap up
        page.select_option("#wrapup-code", "card_lost")
        notes = "客户卡片已冻结，周一回电确认 <b>补卡</b>"
        page.fill("#wrapup-notes", notes)
        page.click("#wrapup-save")
        expect(page.locator("#wrapup-state")).to_have_attribute("data-saved", "yes")
        tab.shot("wrap-up-saved")
        # Saved: ready again (through a break: this desk's status is Available through wrap-up).
        page.fill("#break-reason-input", "休息")
        page.click("#break-form button[type=submit]")
        expect(page.locator("#status")).to_have_attribute("data-status", "On Break")
        page.click("#go-ready")
        expect(page.locator("#status")).to_have_attribute("data-status", "Available")

        # On the customer's timeline, read with the agent's own session.
        path = f"/api/v1/tenants/popco/customers/{customer}/timeline"
        timeline = page.evaluate("async (path) => (await fetch(path)).json()", path)
        entries = [e for e in timeline if e["kind"] == "wrap_up"]
        assert [(e["agent_id"], e["detail"]["disposition"], e["detail"]["label"], e["detail"]["notes"])
                for e in entries] == [("pop_ann", "card_lost", "挂失已办理", notes)], timeline  # fmt: skip
        assert entries[0]["call_uuid"] in {e["call_uuid"] for e in timeline if e["kind"] == "call"}
