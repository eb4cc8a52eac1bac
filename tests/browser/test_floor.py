"""The supervisor's floor and the wallboard in real Chromium, against the real API over
HTTP: the floor on the emulator's calls (a controller holding the callers, cablenet's
rendered dialplan), the wallboard opened with its read-only token."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from fsapps.esl.client import Connection
from fsapps.sim.endpoints import Endpoint
from fsapps.store import api as repo
from fsapps.store.db import token_digest
from fsapps.store.records import Tenant
from fsapps.web.app import ApiContext
from tests.browser.sections import open_section
from tests.integration.test_acd_calls import rig
from tests.integration.test_api_calls import cablenet_queues
from tests.support.api import PASSWORD, QUEUES, populate, serve_api, static_queues
from tests.support.waiting import wait_for


def test_a_supervisor_watches_a_caller_arrive_forces_statuses_moves_the_caller_and_sees_a_stuck_agent(
    store, tmp_path, tabs
) -> None:
    with rig(store, tmp_path) as r:
        sw = r.switch
        r.agent("cn_wang", Endpoint(answer_after=0.3), status="Logged Out")
        r.agent("cn_zhao", Endpoint(answer_after=0.3), status="On Break")
        with store.operator() as op:  # cn_zhao went on break an hour ago (the switch's clock)
            op.conn.execute("UPDATE agent_state SET last_status_change = %s WHERE agent_id = 'cn_zhao'",
                            (sw.clock.now() - 3600,))  # fmt: skip
        with store.tenant("cablenet") as t:
            sup = t.add_user("sup", PASSWORD, "supervisor").id
            repo.put_group(t, "front", [sup], ["cn_wang", "cn_zhao"], ["business", "complaints"])
            repo.set_skills(t, "cn_wang", {"complaints": 3})
        queues = cablenet_queues()
        conn = Connection("127.0.0.1", sw.port, sw.password)
        conn.connect()
        # The API reads the switch's clock, as the controller writes it (the emulator runs fast,
        # from a Monday morning in November); a login then lasts long enough to outlive
        # PostgreSQL's own clock, which decides when sessions expire.
        ctx = ApiContext(store, lambda tenant: queues if tenant == "cablenet" else {}, clock=sw.clock.now,
                         switch=conn.api, session_hours=24 * 365 * 20)  # fmt: skip
        server = serve_api(ctx, console=True)
        base = f"http://127.0.0.1:{server.server_port}"
        try:
            tab = tabs(base, "en-GB", "supervisor")
            page = tab.login("sup", PASSWORD)
            expect(page).to_have_url(f"{base}/console/floor")  # the supervisor's landing page
            zhao = page.locator('#agent-grid li[data-agent="cn_zhao"]')
            expect(zhao).to_have_attribute("data-activity", "on_break")
            expect(zhao.locator(".timer")).to_contain_text("60:")  # an hour, as m:ss
            stuck = page.locator('#alerts li[data-alert="stuck"][data-agent="cn_zhao"]')
            expect(stuck).to_have_text("cn_zhao: On break for more than 30:00.")
            expect(page.locator('#agent-grid li[data-agent="cn_wang"]')).to_have_attribute(
                "data-activity", "logged_out")  # fmt: skip
            expect(page.locator("#no-callers")).to_be_visible()

            # A caller reaches the business queue on the emulator: nobody is there to answer.
            caller = r.call(keypad=["1"], caller="13800000021")
            row = page.locator(f'#caller-rows tr[data-caller="{caller.uuid}"]')
            expect(row).to_contain_text("13800000021")  # no event stream here: the next fetch
            expect(row).to_contain_text("business")
            business = page.locator('#queue-rows tr[data-queue="business"]')
            expect(business.locator('[data-figure="waiting"]')).to_have_text("1")
            expect(business.locator('[data-figure="service_level"]')).to_have_text("no calls yet")
            tab.shot("floor")

            # cn_zhao's break is over: signed out by the supervisor; the alert goes.
            zhao.locator("select.force-status").select_option("Logged Out")
            zhao.locator("button.force").click()
            expect(zhao).to_have_attribute("data-activity", "logged_out")
            expect(stuck).to_have_count(0)
            expect(page.locator("#no-alerts")).to_be_visible()
            assert r.agent_row("cn_zhao")["status"] == "Logged Out"

            # The caller moves to complaints, where the controller makes them a new wait.
            row.locator("select.move-to").select_option("complaints")
            row.locator("button.move").click()
            expect(page.locator(".message.done")).to_contain_text("13800000021 moved to complaints.")
            moved = page.locator(f'#caller-rows tr[data-key="complaints/{caller.uuid}"]')
            expect(moved).to_contain_text("complaints")
            expect(page.locator(f'#caller-rows tr[data-key="business/{caller.uuid}"]')).to_have_count(0)

            # cn_wang is made ready: they take the caller, and the grid shows whom they talk to.
            wang = page.locator('#agent-grid li[data-agent="cn_wang"]')
            wang.locator("select.force-status").select_option("Available")
            wang.locator("button.force").click()
            expect(wang).to_have_attribute("data-activity", "talking")
            expect(wang.locator(".caller")).to_have_text("13800000021 · complaints")
            expect(wang.locator('[data-op="whisper"]')).to_be_visible()
            expect(page.locator("#no-callers")).to_be_visible()
            tab.shot("talking")
            # A whisper with no phone to listen from is stopped before it is sent.
            wang.locator('[data-op="whisper"]').click()
            expect(page.locator('.message.error[data-code="monitor_phone_missing"]')).to_be_visible()
            # Forced hang-up: the caller's call ends.
            wang.locator('[data-op="hangup"]').click()
            assert caller.destroyed.wait(30)
            expect(wang).not_to_have_attribute("data-activity", "talking")
            rows = wait_for(lambda: len(r.queue_calls()) == 2 and r.queue_calls())
            visits = [(q["queue"], q["outcome"]) for q in rows]
            assert visits == [("business", "moved"), ("complaints", "answered")]
        finally:
            server.stop()
            conn.stop()


def test_a_wallboard_opened_with_its_token_shows_the_figures_and_the_token_opens_nothing_else(
    store, tabs
) -> None:
    populate(store)
    with store.operator() as op:
        op.add_tenant(Tenant("other", "Other", "other.example"))
        op.conn.execute("UPDATE agent_state SET status = 'Available' WHERE agent_id = 'acme1'")
    server = serve_api(ApiContext(store, static_queues(QUEUES)), console=True)
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        # The tenant admin issues a wallboard link on the tenant page: the token is shown once.
        admin = tabs(base, "en-GB", "admin")
        page = admin.login("tenant_admin_acme", PASSWORD)
        expect(page).to_have_url(f"{base}/console/tenant")
        open_section(page, "wallboards")
        page.fill("#wb-name", "Floor TV")
        page.click("#wallboard-form button[type=submit]")
        link = page.locator("#wallboard-link")
        expect(link).to_have_value(re.compile(r"/console/wallboard\?tenant=acme#fsw_"))
        expect(page.locator("#wallboard-rows tr")).to_contain_text("Floor TV")
        token = link.input_value().split("#", 1)[1]
        with store.tenant("acme") as t:  # kept as its digest only
            assert [w["name"] for w in repo.wallboard_tokens(t)] == ["Floor TV"]
            kept = t._all("SELECT token_sha256 FROM wallboard_tokens")
        assert kept == [{"token_sha256": token_digest(token)}]

        tv = tabs(base, "zh-CN", "wallboard")
        board = tv.goto(link.input_value().removeprefix(base))
        support = board.locator('.tile[data-queue="support"]')
        expect(support.locator('[data-figure="waiting"] .value')).to_have_text("1")
        expect(support.locator('[data-figure="waiting"] .what')).to_have_text("排队")
        expect(support.locator('[data-figure="available"] .value')).to_have_text("1")
        expect(support.locator('[data-figure="service_level"] .value')).to_have_text("—")
        expect(support.locator(".target")).to_have_text("目标：80% 来电在 20 秒内接听")
        expect(board.locator('.tile[data-queue="sales"]')).to_be_visible()
        expect(board.locator("#updated")).to_contain_text("更新于")
        assert board.context.cookies() == []  # no session: the token alone
        tv.shot("wallboard")

        # The same token on any other route of the API: refused.
        status = board.evaluate(
            """async (token) => (await Promise.all(['/api/v1/tenants/acme/queues',
                 '/api/v1/tenants/acme/calls', '/api/v1/session', '/api/v1/tenants/other/queue-figures'
                 ].map(async (path) => {
                 const r = await fetch(path, {headers: {Authorization: `Bearer ${token}`}});
                 return [r.status, (await r.json()).code]; })))""",
            token,
        )
        assert status == [[403, "wallboard_only"], [403, "wallboard_only"], [403, "wallboard_only"],
                          [404, "no_such_tenant"]]  # fmt: skip

        # Revoked on the tenant page: the board goes blank at its next fetch and says why.
        page.locator("#wallboard-rows tr", has_text="Floor TV").locator("button").click()
        expect(page.locator(".message.done")).to_contain_text("Floor TV: revoked.")
        expect(board.locator('.message.error[data-code="invalid_token"]')).to_be_visible()
        expect(board.locator(".tile")).to_have_count(0)
        # Opened without its token, the page says how to open it.
        board = tv.goto("/console/wallboard?tenant=acme")
        expect(board.locator('.message.error[data-code="wallboard_link"]')).to_be_visible()
    finally:
        server.stop()
