"""The tenant admin editing the call center from the tenant page, in real Chromium against
the real API and the embedded PostgreSQL: users and roles, an agent's skills and tiers (put
live as a flow upload), the floor's stuck-agent limits (which the supervisor's floor then
uses), and times on every page shown in the tenant's timezone, not the browser's."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from playwright.sync_api import expect

from fsapps.esl.client import Connection
from fsapps.flows.check import check
from fsapps.flows.install import install
from fsapps.flows.model import Project
from fsapps.flows.render import render
from fsapps.flows.upload import FlowsSite
from fsapps.sim.switch import Switch, SwitchConfig
from fsapps.store import acd, selfservice
from fsapps.store import api as repo
from fsapps.store.db import verify_password
from fsapps.store.records import Tenant
from fsapps.web.app import ApiContext
from tests.browser.sections import open_section
from tests.integration.test_api_qa import recorded
from tests.support.api import PASSWORD, QUEUES, populate, serve_api, static_queues
from tests.support.controllers import switch_on_conf
from tests.support.wavs import wav

ROOT = Path(__file__).resolve().parents[2]
SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class Site:
    base: str
    root: Path  # the live flows directory
    sounds: Path  # where prompts are deployed
    switch: Switch


@contextmanager
def cablenet_site(store: Any, tmp_path: Path) -> Iterator[Site]:
    """The example project (and its prompts) copied, rendered into a conf the emulator runs,
    uploads taken; the API's queues are the live flows' (as ``fsapps serve``'s controller
    adopts each upload). In cablenet: an admin and agent cb1 (skill billing 7)."""
    root, conf, sounds = tmp_path / "dialplan", tmp_path / "conf", tmp_path / "sounds"
    shutil.copytree(ROOT / "dialplan", root)
    shutil.copytree(ROOT / "sounds", sounds)
    live: dict[str, Project] = {"project": check(root, sounds=sounds)}
    install(render(live["project"]), conf)
    switch = switch_on_conf(conf, sounds, SwitchConfig(speed=10.0)).start()
    conn = Connection("127.0.0.1", switch.port, switch.password)
    conn.connect()
    with store.operator() as op:
        op.add_tenant(Tenant("cablenet", "cablenet", "cablenet.example", "Asia/Shanghai"))
        op.add_agent("cb1", "王小明", {"cablenet": 1})
        acd.ensure_agent(op.conn, "cb1")
    with store.tenant("cablenet") as t:
        t.add_user("admin", PASSWORD, "tenant_admin")
        repo.set_skills(t, "cb1", {"billing": 7})

    def queues(tenant: str) -> dict[str, dict[str, Any]]:
        found = [t for t in live["project"].tenants if t.id == tenant]
        return {name: dict(q.data or {}) for name, q in found[0].queues.items()} if found else {}

    def adopt(project: Project) -> None:
        live["project"] = project

    flows = FlowsSite(root, conf, lambda: conn.api("reloadxml"), adopt=adopt, sounds=sounds)
    server = serve_api(ApiContext(store, queues, flows=flows), console=True)
    try:
        yield Site(f"http://127.0.0.1:{server.server_port}", root, sounds, switch)
    finally:
        server.stop()
        conn.stop()
        switch.stop()


def test_times_are_shown_in_the_tenants_timezone_whatever_the_browsers(store, tabs) -> None:
    """acme is in Asia/Shanghai, the browsers in UTC: 02:30 UTC reads 10:30 on every page."""
    populate(store)
    starts, ends = datetime(2026, 12, 6, 2, 30, tzinfo=UTC), datetime(2099, 1, 1, 4, 5, tzinfo=UTC)
    with store.operator() as op:
        op.conn.execute("UPDATE tenants SET timezone = 'Asia/Shanghai' WHERE id = 'acme'")
    with store.tenant("acme") as t:
        selfservice.post_outage(t, "prefix", "0755", "Fibre cut", starts, ends)
        _, wallboard = repo.issue_wallboard_token(t, "floor TV", None)
    recorded(store, "acme", "support", "acme1", starts)
    recorded(store, "acme", "sales", "acme2", datetime(2026, 12, 5, 20, 0, tzinfo=UTC))  # 6 Dec 04:00 there
    server = serve_api(ApiContext(store, static_queues(QUEUES)), console=True)
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        tab = tabs(base, "en-GB", "admin", timezone="UTC")
        page = tab.login("tenant_admin_acme", PASSWORD)
        expect(page).to_have_url(f"{base}/console/tenant")
        assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == "UTC"
        open_section(page, "outages")
        notice = page.locator("#outage-rows tr", has_text="Fibre cut")
        expect(notice).to_contain_text("12/6/26, 10:30 AM")  # not 2:30 AM, the browser's
        expect(notice).to_contain_text("1/1/99, 12:05 PM")
        # A time typed on a page is the tenant's too: 08:00 in Shanghai is midnight UTC.
        page.select_option("#out-kind", "prefix")
        page.fill("#out-area", "0571")
        page.fill("#out-message", "Exchange works")
        page.fill("#out-ends", "2099-06-01T08:00")
        page.click("#outage-form button[type=submit]")
        expect(page.locator("#outage-rows tr", has_text="Exchange works")).to_contain_text("6/1/99, 8:00 AM")
        with store.tenant("acme") as t:
            row = t._one("SELECT ends_at FROM outages WHERE message = 'Exchange works'")
        assert row["ends_at"] == datetime(2099, 6, 1, 0, 0, tzinfo=UTC)
        open_section(page, "settings")
        expect(page.locator("#tenant-zone")).to_contain_text("Asia/Shanghai")
        tab.shot("settings")

        qa = tabs(base, "en-GB", "qa", timezone="UTC")
        qpage = qa.login("qa_acme", PASSWORD)
        expect(qpage).to_have_url(f"{base}/console/qa")
        # The page's first list is in (its form's handler is there once it is).
        expect(qpage.locator("#qa-rows tr")).to_have_count(2)
        qpage.fill("#qa-from", "2026-12-07")  # a day with no call: the filter does filter
        qpage.fill("#qa-to", "2026-12-07")
        qpage.click("#qa-find button[type=submit]")
        expect(qpage.locator("#qa-rows tr")).to_have_count(0)
        qpage.fill("#qa-from", "2026-12-06")  # the 6th of December in Shanghai: both calls
        qpage.fill("#qa-to", "2026-12-06")
        qpage.click("#qa-find button[type=submit]")
        rows = qpage.locator("#qa-rows tr")
        expect(rows).to_have_count(2)
        expect(rows.filter(has_text="support")).to_contain_text("12/6/26, 10:30 AM")
        expect(rows.filter(has_text="sales")).to_contain_text("12/6/26, 4:00 AM")

        tv = tabs(base, "en-GB", "wallboard", timezone="UTC")
        board = tv.goto(f"/console/wallboard?tenant=acme#{wallboard}")
        updated = board.locator("#updated")
        expect(board.locator('#wall section[data-queue="support"]')).to_be_visible()
        at = datetime.fromisoformat(updated.get_attribute("data-updated").replace("Z", "+00:00"))
        expect(updated).to_contain_text(at.astimezone(SHANGHAI).strftime("%-I:%M:%S %p"))
    finally:
        server.stop()


def test_a_tenant_admin_adds_a_user_changes_their_role_and_disables_them(store, tabs) -> None:
    cc = populate(store)
    server = serve_api(ApiContext(store, static_queues(QUEUES)), console=True)
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        tab = tabs(base, "en-GB", "admin")
        page = tab.login("tenant_admin_acme", PASSWORD)
        open_section(page, "users")
        expect(page.locator('#user-rows tr[data-user="agent_acme"]')).to_be_visible()
        expect(page.locator('#user-rows tr[data-user="agent_globex"]')).to_have_count(0)  # another tenant's
        expect(page.locator('#user-rows tr[data-user="ops"]')).to_have_count(0)  # the operator is no tenant's
        # Keyboard only: the form's fields in order, Enter submits.
        page.focus("#new-user-name")
        page.keyboard.type("li.na")
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")  # the role stays "agent"
        page.keyboard.press("Tab")  # the language, their browser's
        page.keyboard.type("correct horse battery")
        page.keyboard.press("Enter")
        expect(page.locator(".message.done")).to_contain_text("li.na added as agent.")
        row = page.locator('#user-rows tr[data-user="li.na"]')
        expect(row).to_contain_text("Active")
        with store.operator() as op:
            user, digest = op.find_user("li.na")
        assert (user.tenant_id, user.role) == ("acme", "agent")
        assert verify_password(digest, "correct horse battery")

        row.locator("select.user-role").select_option("supervisor")
        row.locator("select.user-language").select_option("zh-CN")
        row.locator("button.save-role").click()
        expect(page.locator(".message.done")).to_contain_text("li.na saved.")
        with store.operator() as op:
            user = op.find_user("li.na")[0]
        assert (user.role, user.language) == ("supervisor", "zh-CN")
        # li.na logs in (a browser asking for English) and works in Chinese, on a supervisor's page.
        them = tabs(base, "en-GB", "li.na")
        theirs = them.login("li.na", "correct horse battery")
        expect(theirs).to_have_url(f"{base}/console/floor?lang=zh-CN")
        expect(theirs.locator("html")).to_have_attribute("lang", "zh-CN")
        row.locator("button.disable").click()
        expect(row).to_have_attribute("data-disabled", "true")
        with store.operator() as op:
            assert op.find_user("li.na")[0].disabled is True
        # A short password is the API's 422, said in words.
        page.fill("#new-user-name", "short.pw")
        page.fill("#new-user-password", "1234567")
        page.locator("#new-user-password").evaluate("i => i.removeAttribute('minlength')")  # past the browser
        page.click("#user-form button[type=submit]")
        expect(page.locator(".message.error")).to_contain_text("password")
        tab.shot("users")
        # The admin cannot lock themself out from here.
        own = page.locator('#user-rows tr[data-user="tenant_admin_acme"]')
        expect(own.locator("button.disable")).to_be_disabled()
        assert cc.users[("acme", "tenant_admin")]
    finally:
        server.stop()


def test_the_floor_alerts_on_the_stuck_agent_limits_the_tenant_admin_set(store, tabs) -> None:
    populate(store)
    with store.operator() as op:  # acme1 (the supervisor's group's) went on break 10 minutes ago
        op.conn.execute("UPDATE agent_state SET status = 'On Break', last_status_change = %s"
                        " WHERE agent_id = 'acme1'", (time.time() - 600,))  # fmt: skip
    server = serve_api(ApiContext(store, static_queues(QUEUES)), console=True)
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        sup = tabs(base, "en-GB", "supervisor")
        floor = sup.login("supervisor_acme", PASSWORD)
        expect(floor).to_have_url(f"{base}/console/floor")
        acme1 = floor.locator('#agent-grid li[data-agent="acme1"]')
        expect(acme1).to_have_attribute("data-activity", "on_break")
        expect(floor.locator("#no-alerts")).to_be_visible()  # 10 minutes: under the default 30

        admin = tabs(base, "en-GB", "admin")
        page = admin.login("tenant_admin_acme", PASSWORD)
        open_section(page, "settings")
        expect(page.locator("#limit-on_break")).to_have_value("30")
        page.fill("#limit-on_break", "5")
        page.fill("#limit-talking", "12.5")
        page.click("#limits-form button[type=submit]")
        expect(page.locator(".message.done")).to_contain_text("Limits saved")
        admin.shot("limits")
        with store.tenant("acme") as t:
            row = t._one("SELECT stuck_limits FROM tenant_console_settings")
        want = {"ringing": 60, "talking": 750, "wrap_up": 180, "idle": 300, "on_break": 300}
        assert row["stuck_limits"] == want

        floor.reload()
        stuck = floor.locator('#alerts li[data-alert="stuck"][data-agent="acme1"]')
        expect(stuck).to_have_text("Agent 1 of acme: On break for more than 5:00.")
        sup.shot("floor-limits")
    finally:
        server.stop()


def test_a_tenant_admin_edits_an_agents_skills_and_puts_them_on_a_queues_tier(store, tmp_path, tabs) -> None:
    with cablenet_site(store, tmp_path) as site:
        tab = tabs(site.base, "en-GB", "admin")
        page = tab.login("admin", PASSWORD)
        open_section(page, "staff")
        page.select_option("#staff-agent", "cb1")
        expect(page.locator("#staff-editing")).to_contain_text("cb1")
        expect(page.locator("#staff-skills .skill-name")).to_have_value("billing")
        page.click("#staff-add-skill")
        page.locator("#staff-skills tr.skill").nth(1).locator(".skill-name").fill("broadband")
        page.locator("#staff-skills tr.skill").nth(1).locator(".skill-level").fill("4")
        page.click("#staff-skills-form button[type=submit]")
        expect(page.locator(".message.done")).to_contain_text("cb1's skills saved.")
        with store.tenant("cablenet") as t:
            assert repo.agent(t, "cb1")["skills"] == {"billing": 7, "broadband": 4}

        page.fill("#staff-extension", "1001")
        page.click("#staff-contact-form button[type=submit]")
        expect(page.locator(".message.done")).to_contain_text("cb1's name and contact saved.")
        expect(page.locator("#staff-extension")).to_have_value("1001")

        complaints = page.locator('#staff-tiers tr[data-queue="complaints"]')
        expect(complaints.locator(".tier-on")).not_to_be_checked()
        complaints.locator(".tier-on").check()
        complaints.locator(".tier-level").fill("2")
        complaints.locator(".tier-position").fill("1")
        complaints.locator(".tier-save").click()
        expect(page.locator(".message.done")).to_contain_text("cb1's place in complaints is live.")
        live = yaml.safe_load((site.root / "cablenet/tenant.yaml").read_text())
        want = ["cn_zhao", "cn_wang", {"agent": "cb1", "level": 2, "position": 1}]
        assert live["queues"]["complaints"]["tiers"] == want
        expect(complaints.locator(".tier-on")).to_be_checked()
        tab.shot("tiers")
        complaints.locator(".tier-on").uncheck()
        complaints.locator(".tier-save").click()
        expect(page.locator(".message.done")).to_contain_text("cb1's place in complaints is live.")
        live = yaml.safe_load((site.root / "cablenet/tenant.yaml").read_text())
        assert live["queues"]["complaints"]["tiers"] == ["cn_zhao", "cn_wang"]


def test_a_tenant_admin_changes_business_hours_and_uploads_a_prompt_and_a_bad_file_is_refused(
    store, tmp_path, tabs
) -> None:
    with cablenet_site(store, tmp_path) as site:
        tab = tabs(site.base, "en-GB", "admin")
        page = tab.login("admin", PASSWORD)
        open_section(page, "hours")
        expect(page.locator("#hours-pick")).to_have_value("service_hours")
        weekdays = page.locator("#hours-days tr.day").first
        expect(weekdays.locator(".days")).to_have_value("mon-fri")
        expect(weekdays.locator(".hours")).to_have_value("08:00-20:00")
        weekdays.locator(".hours").fill("09:00-12:00, 13:00-18:00")
        page.click("#hours-form button[type=submit]")
        expect(page.locator(".message.done")).to_contain_text("Calendar service_hours is live.")
        live = next(t for t in check(site.root, sounds=site.sounds).tenants if t.id == "cablenet")
        monday = live.calendars["service_hours"].weekly[2]  # as `fsapps check` reads it
        assert monday == [(540, 720), (780, 1080)]
        tab.shot("hours")

        # An impossible holiday: check's problem at tenant.yaml:line, and nothing changed.
        before = (site.root / "cablenet/tenant.yaml").read_text()
        page.fill("#hours-holidays", "2027-01-01\n2027-02-30")
        page.click("#hours-form button[type=submit]")
        expect(page.locator("#hours-problems li")).to_contain_text("tenant.yaml:16:")
        expect(page.locator("#hours-problems li")).to_contain_text("2027-02-30")
        expect(page.locator('.message.error[data-code="problems"]')).to_be_visible()
        assert (site.root / "cablenet/tenant.yaml").read_text() == before

        # A recorded prompt replaced by an upload; then a file that is no prompt, refused.
        open_section(page, "prompts")
        welcome = page.locator('#prompt-rows tr[data-prompt="welcome"]')
        expect(welcome.locator(".kind")).to_contain_text("cablenet/welcome.wav")
        good, bad = tmp_path / "welcome.wav", tmp_path / "stereo.wav"
        good.write_bytes(wav(8000))
        bad.write_bytes(wav(8000, channels=2))
        welcome.locator(".prompt-file").set_input_files(str(good))
        welcome.locator("button.upload").click()
        expect(page.locator(".message.done")).to_contain_text("Prompt welcome is live.")
        assert (site.sounds / "zh/cablenet/8000/welcome.wav").read_bytes() == good.read_bytes()
        welcome = page.locator('#prompt-rows tr[data-prompt="welcome"]')
        welcome.locator(".prompt-file").set_input_files(str(bad))
        welcome.locator("button.upload").click()
        refused = page.locator('.message.error[data-code="bad_wav"]')
        expect(refused).to_contain_text("That recording cannot be a prompt")
        expect(refused).to_contain_text("2 channels: a prompt must be mono")
        assert (site.sounds / "zh/cablenet/8000/welcome.wav").read_bytes() == good.read_bytes()
        tab.shot("prompts")

        # A new prompt spoken by the TTS.
        page.fill("#new-prompt-name", "holiday_notice")
        page.fill("#new-prompt-text", "春节期间暂停服务")
        page.click("#prompt-form button[type=submit]")
        added = page.locator('#prompt-rows tr[data-prompt="holiday_notice"]')
        expect(added.locator(".kind")).to_have_text("spoken by TTS")
        live = next(t for t in check(site.root, sounds=site.sounds).tenants if t.id == "cablenet")
        assert live.prompts["holiday_notice"].text == "春节期间暂停服务"
