"""The console in real Chromium, against the real API over HTTP and the embedded
PostgreSQL: a tenant admin working in Chinese (flows, blacklist, outage notices, agents,
queues, the month's statement), an agent at their desk, and a supervisor's view of the
same tenant, each seeing only what their role may do."""

from __future__ import annotations

import re
import shutil
import time
import uuid
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from fsapps.esl.client import Connection
from fsapps.flows.check import check
from fsapps.flows.install import install
from fsapps.flows.render import render
from fsapps.flows.upload import FlowsSite
from fsapps.sim.endpoints import CallerScript
from fsapps.sim.switch import Switch, SwitchConfig
from fsapps.store import acd
from fsapps.store import api as repo
from fsapps.store.records import Tenant, UsageRecord
from fsapps.web.app import ApiContext
from tests.browser.sections import open_section
from tests.support.api import PASSWORD, QUEUES, populate, serve_api, static_queues
from tests.support.controllers import switch_on_conf

ROOT = Path(__file__).resolve().parents[2]
HOTLINE = """start: start
nodes:
  start: {type: answer, children: {_: bye}}
  bye: {type: hangup}
"""
HOSTILE = '<img src=x onerror="window.owned=1">"; DROP TABLE blacklist; --'


@dataclass
class Cablenet:
    base: str
    root: Path
    switch: Switch

    def reaches(self, number: str) -> bool:
        """A call to ``number`` meets an extension of the dialplan the switch has loaded."""
        script = CallerScript(hangup_after=2)
        ch = self.switch.place_call(number, caller_id_number="13800000001", script=script)
        assert ch.destroyed.wait(10)
        return self.switch.history[ch.uuid].hangup_cause != "NO_ROUTE_DESTINATION"


@contextmanager
def cablenet(store: Any, tmp_path: Path) -> Iterator[Cablenet]:
    """The example project's tenants rendered into a conf the emulator runs (reloadxml over
    its Event Socket), uploads taken; in cablenet an admin, an agent cb1 with skills and a
    plan with a seat price; harbourbank beside it."""
    root, conf = tmp_path / "dialplan", tmp_path / "conf"
    shutil.copytree(ROOT / "dialplan", root)
    install(render(check(root, sounds=ROOT / "sounds")), conf)
    switch = switch_on_conf(conf, ROOT / "sounds", SwitchConfig(speed=10.0)).start()
    conn = Connection("127.0.0.1", switch.port, switch.password)
    conn.connect()
    assert conn.api("reloadxml").strip() == "+OK [Success]"
    with store.operator() as op:
        for t in ("cablenet", "harbourbank"):
            op.add_tenant(Tenant(t, t, f"{t}.example"))
        op.add_agent("cb1", "王小明", {"cablenet": 1})
        acd.ensure_agent(op.conn, "cb1")
        seat = {"type": "seat", "monthly": "25.00"}
        op.set_billing_plan("cablenet", {"currency": "CNY", "components": [seat]})
    with store.tenant("cablenet") as t:
        t.add_user("admin", PASSWORD, "tenant_admin")
        repo.set_skills(t, "cb1", {"billing": 7})
        now = datetime.now(UTC)
        t.add_usage([UsageRecord("cablenet", "agent", "handled_call", now, now, Decimal("42"), "seconds",
                                 "answered", event_id=str(uuid.uuid4()))])  # fmt: skip

    def phones() -> Any:
        with store.operator() as op:
            return repo.sip_phones(op.conn)

    flows = FlowsSite(root, conf, lambda: conn.api("reloadxml"), sounds=ROOT / "sounds", phones=phones)
    server = serve_api(ApiContext(store, lambda tenant: {}, flows=flows), console=True)
    try:
        yield Cablenet(f"http://127.0.0.1:{server.server_port}", root, switch)
    finally:
        server.stop()
        conn.stop()
        switch.stop()


def test_a_tenant_admin_in_chinese_uploads_a_broken_flow_sees_it_at_file_line_and_fixes_it(
    store, tmp_path, tabs
) -> None:
    with cablenet(store, tmp_path) as site:
        tab = tabs(site.base, "zh-CN", "admin")
        page = tab.login("admin", PASSWORD)
        expect(page).to_have_url(f"{site.base}/console/tenant")
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")  # from Accept-Language
        expect(page.locator("h1")).to_contain_text("呼叫中心管理")
        main = page.locator('textarea[data-file="flows/main.yaml"]')
        expect(main).to_have_value((site.root / "cablenet/flows/main.yaml").read_text())
        tab.shot("flows")

        good = main.input_value()
        broken = good.replace("type: menu\n", "type: menuu\n", 1)
        line = broken[: broken.index("type: menuu")].count("\n") + 1
        main.fill(broken)
        page.click("#flows-upload")
        problem = page.locator("#problems li", has_text=f"flows/main.yaml:{line}:")
        expect(problem).to_be_visible()
        expect(page.locator(".message.error")).to_contain_text("流程有问题，未做任何改动")
        assert (site.root / "cablenet/flows/main.yaml").read_text() == good  # nothing went live
        tab.shot("problem")
        problem.locator("a").click()  # takes the reader to the line
        assert main.evaluate("a => a.value.slice(0, a.selectionStart).split('\\n').length") == line

        # Fixed, with a new flow from disk and a number for it: live, and the switch runs it.
        main.fill(good)
        hotline = tmp_path / "hotline.yaml"
        hotline.write_text(HOTLINE)
        page.set_input_files("#flow-file-input", str(hotline))
        tenant_yaml = page.locator('textarea[data-file="tenant.yaml"]')
        main_line = '  "96171": main\n'
        routed = tenant_yaml.input_value().replace(main_line, main_line + '  "96199": hotline\n')
        tenant_yaml.fill(routed)
        assert not site.reaches("96199")
        page.click("#flows-upload")
        expect(page.locator(".message.done")).to_contain_text("已生效。流程：hotline, main")
        expect(page.locator("#problems")).to_be_hidden()
        assert (site.root / "cablenet/flows/hotline.yaml").read_text() == HOTLINE
        assert site.reaches("96199")

        # The blacklist: a hostile reason stays text; added, then removed.
        open_section(page, "blacklist")
        page.fill("#bl-number", "+8613800000002")
        page.select_option("#bl-match", "exact")
        page.fill("#bl-reason", HOSTILE)
        page.click("#blacklist-form button[type=submit]")
        row = page.locator('#blacklist-rows tr[data-number="+8613800000002"]')
        expect(row).to_contain_text(HOSTILE)
        assert page.evaluate("window.owned") is None
        tab.shot("blacklist")
        row.locator("button").click()
        expect(row).to_have_count(0)
        expect(page.locator(".message.done")).to_contain_text("已将 +8613800000002 移出黑名单")

        # An outage notice: a bad number is the API's 422, said in Chinese; then posted and ended.
        page.fill("#bl-number", "12ab")
        page.locator("#bl-number").evaluate("i => i.removeAttribute('pattern')")  # past the browser's check
        page.click("#blacklist-form button[type=submit]")
        expect(page.locator('.message.error[data-code="invalid_number"]')).to_contain_text("号码只能包含数字")
        open_section(page, "outages")
        page.select_option("#out-kind", "prefix")
        page.fill("#out-area", "0755")
        page.fill("#out-message", "深圳南山区光缆抢修中")
        page.fill("#out-ends", "2099-01-01T08:00")
        page.click("#outage-form button[type=submit]")
        notice = page.locator("#outage-rows tr", has_text="深圳南山区光缆抢修中")
        expect(notice).to_have_count(1)
        notice.locator("button").click()
        expect(notice).to_have_count(0)

        # Agents with status and skills; the month's statement and usage.
        open_section(page, "agents")
        expect(page.locator('#agents-rows tr[data-agent="cb1"]')).to_contain_text("王小明")
        expect(page.locator('#agents-rows tr[data-agent="cb1"]')).to_contain_text("billing 7")
        open_section(page, "billing")
        expect(page.locator("#statement-total")).to_have_text("25.00 CNY")
        expect(page.locator("#usage-rows")).to_contain_text("handled_call")
        tab.shot("billing")

        # The language switch: English from here on, kept in a cookie.
        page.click('a[data-lang="en"]')
        expect(page.locator("h1")).to_contain_text("Call center")
        tab.goto("/console/tenant")
        expect(page.locator('#tabs a[data-tab="flows"]')).to_have_text("Flows")


def test_an_agent_goes_on_break_with_a_reason_and_back_and_sees_only_their_own(store, tabs) -> None:
    cc = populate(store)
    member = cc.callers[("acme", "support")]
    with store.operator() as op:  # a caller talking to acme1 (its leg unknown to any switch here)
        op.conn.execute("UPDATE queue_members SET state = 'Answered', serving_agent = 'acme1', cid_name = %s"
                        " WHERE uuid = %s", ("<b>Ada</b>", member))  # fmt: skip
        op.conn.execute("UPDATE agent_state SET state = 'In a queue call', offered_member = %s,"
                        " agent_leg = %s WHERE agent_id = 'acme1'", (member, str(uuid.uuid4())))  # fmt: skip
    server = serve_api(ApiContext(store, static_queues(QUEUES)), console=True)
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        tab = tabs(base, "en-GB", "agent")
        page = tab.login("agent_acme", PASSWORD)
        expect(page).to_have_url(f"{base}/console/agent")
        expect(page.locator("#agent-name")).to_have_text("Agent 1 of acme (acme1)")
        # No event stream on this server yet: the page says so and keeps working.
        expect(page.locator("#live")).to_have_attribute("data-live", "offline")

        page.fill("#break-reason-input", "Lunch")
        page.click("#break-form button[type=submit]")
        expect(page.locator("#status")).to_have_text("On break")
        expect(page.locator("#break-reason")).to_have_text("(Lunch)")
        with store.tenant("acme") as t:
            row = repo.agent(t, "acme1")
            assert (row["status"], row["break_reason"]) == ("On Break", "Lunch")
        tab.shot("break")
        page.click("#go-ready")
        expect(page.locator("#status")).to_have_text("Ready")
        expect(page.locator("#break-reason")).to_have_text("")
        with store.tenant("acme") as t:
            assert repo.agent(t, "acme1")["status"] == "Available"

        # Their call, with its caller; hanging up needs the switch, which is not there: said so.
        expect(page.locator("#call-number")).to_have_text("+15550123")
        expect(page.locator("#call-fields")).to_contain_text("<b>Ada</b>")
        tab.shot("call")
        page.click('[data-op="hangup"]')
        expect(page.locator('.message.error[data-code="no_switch"]')).to_contain_text(
            "The phone system is not connected right now."
        )
        page.click('[data-op="transfer"]')  # no target given: said before anything is sent
        expect(page.locator('.message.error[data-code="target_missing"]')).to_be_visible()

        # The tenant page: an agent reads the outage notices (and posts none) and their tickets.
        tab.goto("/console/tenant")
        expect(page.locator("#tabs a:visible")).to_have_text(["Outage notices", "Tickets"])
        expect(page.locator("#outage-form")).to_be_hidden()
        # Another tenant's page is refused, as the API refuses it (no telling it exists).
        tab.goto("/console/tenant?tenant=globex")
        expect(page.locator('.message.error[data-code="no_such_tenant"]')).to_contain_text(
            "There is no such tenant, or it is not yours."
        )
        expect(page.locator("#outage-rows tr")).to_have_count(0)
        # The page asks for the notices and the tickets, both refused: said once, whenever
        # each refusal comes; a different refusal is said beside it.
        script = page.locator('script[type="module"]').first.get_attribute("src")
        assert script is not None
        page.evaluate(
            """async (src) => {
              const base = new URL(src, location.href);
              const {showError} = await import(new URL('page.js', base).href);
              const {ApiError} = await import(new URL('api.js', base).href);
              showError(new ApiError(404, 'no_such_tenant', "no tenant 'globex'"));
              showError(new ApiError(404, 'no_such_tenant', "no tenant 'globex'"));
              showError(new ApiError(403, 'forbidden', 'not yours'));
            }""",
            script,
        )
        expect(page.locator('.message.error[data-code="no_such_tenant"]')).to_have_count(1)
        expect(page.locator('.message.error[data-code="forbidden"]')).to_have_count(1)

        # Logging out ends the session: the desk sends the reader back to the login. A request
        # of the page's refused while the logout is on its way (the session is gone) does not
        # send them to the login with the desk as the page to come back to.
        tab.goto("/console/agent")
        held: list[Any] = []
        page.route("**/api/v1/session", lambda route: held.append(route) if route.request.method == "DELETE"
                   else route.continue_())  # fmt: skip
        page.click("#logout")
        expect(page.locator("#logout")).to_be_disabled()
        for _ in range(250):  # the route's handler runs as Playwright delivers it: until then
            if held:
                break
            page.wait_for_timeout(20)
        assert [r.request.method for r in held] == ["DELETE"]
        page.evaluate(
            """async (src) => {
              const base = new URL(src, location.href);
              const {showError} = await import(new URL('page.js', base).href);
              const {ApiError} = await import(new URL('api.js', base).href);
              showError(new ApiError(401, 'unauthenticated', 'log in'));
            }""",
            script,
        )
        held[0].continue_()
        expect(page).to_have_url(f"{base}/console/")
        page.unroute("**/api/v1/session")
        tab.goto("/console/agent")
        expect(page).to_have_url(f"{base}/console/?next=%2Fconsole%2Fagent")

        # A supervisor: their group's agents and queues, the blacklist read-only; no flows, no bills.
        sup = tabs(base, "zh-CN", "supervisor")
        page = sup.login("supervisor_acme", PASSWORD)
        expect(page).to_have_url(f"{base}/console/floor")  # their landing page; the tenant page beside it
        page.click("#to-tenant")
        expect(page).to_have_url(f"{base}/console/tenant?tenant=acme")
        expect(page.locator("#tabs a:visible")).to_have_text(["坐席", "队列", "录音", "黑名单", "故障公告",
                                                               "知识库", "工单", "满意度调查"])  # fmt: skip
        expect(page.locator("#agents-rows tr")).to_have_count(1)
        expect(page.locator('#agents-rows tr[data-agent="acme1"]')).to_contain_text("就绪")
        open_section(page, "queues")
        expect(page.locator(".queue")).to_have_count(1)
        expect(page.locator('.queue[data-queue="support"]')).to_contain_text("+15550123")
        sup.shot("queues")
        # A caller joins: with no event stream here, the page's next try fetches the queues again.
        with store.operator() as op:
            op.conn.execute("INSERT INTO queue_members (uuid, tenant_id, queue, joined_epoch, cid_number)"
                            " VALUES (%s, 'acme', 'support', %s, '+15550199')",
                            (str(uuid.uuid4()), time.time()))  # fmt: skip
        expect(page.locator('.queue[data-queue="support"]')).to_contain_text("+15550199", timeout=15_000)
        open_section(page, "blacklist")
        expect(page.locator("#blacklist-form")).to_be_hidden()
        open_section(page, "outages")
        expect(page.locator("#outage-form")).to_be_visible()
    finally:
        server.stop()


def test_the_login_follows_accept_language_says_why_it_failed_and_the_operator_picks_a_tenant(
    store, tabs
) -> None:
    populate(store)
    server = serve_api(ApiContext(store, static_queues(QUEUES)), console=True)
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        tab = tabs(base, "zh-CN", "login")
        page = tab.login("agent_acme", "not-the-password")
        said = page.locator('.message.error[data-code="wrong_credentials"]')
        expect(said.locator("strong")).to_have_text("用户名或密码错误。")  # the catalogue's
        expect(said.locator(".more")).to_have_text("wrong username or password")  # the API's
        expect(page.locator("h1")).to_have_text("登录")
        tab.shot("wrong-password")
        # A wrong password does not lock the user out: the right one goes straight in.
        page.fill("#password", PASSWORD)
        page.click("#login-form button[type=submit]")
        expect(page).to_have_url(f"{base}/console/agent")

        # The operator picks a tenant, then sees every section of it; this server takes no
        # flow uploads, and the flows section says so.
        ops = tabs(base, "en-US", "operator")
        page = ops.login("ops", PASSWORD)
        expect(page).to_have_url(f"{base}/console/tenant")
        expect(page.locator("#tenant-list a")).to_have_text(["Acme (acme)", "Globex (globex)"])
        page.click("#tenant-list a >> text=Globex (globex)")
        expect(page).to_have_url(f"{base}/console/tenant?tenant=globex")
        # 9, and the admin's editing: users, agents' skills and queues, hours, prompts, settings;
        # the CRM webhook, the knowledge base, wrap-up codes and tickets
        expect(page.locator("#tabs a:visible")).to_have_count(19)
        expect(page.locator('.message.error[data-code="no_flows_dir"]')).to_contain_text(
            "This server does not take flow uploads."
        )
        open_section(page, "queues")
        expect(page.locator(".queue")).to_have_count(2)
    finally:
        server.stop()


def test_quality_assurance_finds_a_recorded_call_and_plays_it_in_place(store, tmp_path, tabs) -> None:
    populate(store)
    recordings = tmp_path / "recordings"
    (recordings / "acme").mkdir(parents=True)
    wav = recordings / "acme" / "call.wav"
    with wave.open(str(wav), "wb") as w:  # 1.5 s of 8 kHz 16-bit mono, as the switch records
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 12000)
    joined = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    missing = recordings / "acme" / "x.wav"
    for agent, caller, path in (("acme1", "+15550001", wav), ("acme2", "+15550002", missing)):
        with store.operator() as op:
            op.conn.execute(
                "INSERT INTO queue_calls (event_id, tenant_id, call_uuid, queue, agent_id, caller, joined_at,"
                " ended_at, wait_seconds, talk_seconds, outcome, recording)"
                " VALUES (%s, 'acme', %s, 'support', %s, %s, %s, %s, 5, 90, 'answered', %s)",
                (str(uuid.uuid4()), str(uuid.uuid4()), agent, caller, joined, joined + timedelta(minutes=2),
                 str(path)),
            )  # fmt: skip
    # Survey answers: acme1's callers gave 5 and 4, acme2's gave 2.
    for agent, score in (("acme1", 5), ("acme1", 4), ("acme2", 2)):
        with store.operator() as op:
            op.conn.execute(
                "INSERT INTO survey_answers (event_id, tenant_id, call_uuid, agent_id, queue, flow, question,"
                " score, answered_at) VALUES (%s, 'acme', %s, %s, 'support', 'main', 'q1', %s, %s)",
                (str(uuid.uuid4()), str(uuid.uuid4()), agent, score, joined + timedelta(minutes=3)),
            )  # fmt: skip
    server = serve_api(ApiContext(store, static_queues(QUEUES), recordings=recordings), console=True)
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        tab = tabs(base, "en-US", "qa")
        page = tab.login("qa_acme", PASSWORD)
        expect(page).to_have_url(f"{base}/console/qa")  # QA's own page (tests/browser/test_qa.py)
        tab.goto("/console/tenant")
        expect(page.locator("#to-qa a")).to_have_attribute("href", "/console/qa?tenant=acme")
        # tickets: read only
        expect(page.locator("#tabs a:visible")).to_have_text(["Recordings", "Tickets", "Surveys"])
        expect(page.locator("#recording-rows tr")).to_have_count(2)
        page.fill("#rec-agent", "acme1")
        page.click("#recordings-form button[type=submit]")
        row = page.locator("#recording-rows tr")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("+15550001")
        expect(row).to_contain_text("1:30")
        # The browser fetches the audio from the API with the session cookie, and plays it.
        duration = row.locator("audio").evaluate(
            """a => new Promise((ok, no) => { a.onloadedmetadata = () => ok(a.duration);
                 a.onerror = () => no(new Error('audio: ' + (a.error && a.error.code))); a.load(); })"""
        )
        assert abs(duration - 1.5) < 0.01
        tab.shot("recordings")
        page.fill("#rec-agent", "")
        page.fill("#rec-number", "+15550099")
        page.click("#recordings-form button[type=submit]")
        expect(page.locator("#no-recordings")).to_be_visible()
        # The survey results: each answer, and the averages by queue and by agent.
        open_section(page, "surveys")
        expect(page.locator("#survey-rows tr")).to_have_count(3)
        expect(page.locator("#survey-queues tr")).to_have_text([re.compile(r"support\s*3\s*3\.67")])
        by_agent = [re.compile(r"acme1\s*2\s*4\.50"), re.compile(r"acme2\s*1\s*2\.00")]
        expect(page.locator("#survey-agents tr")).to_have_text(by_agent)
        tab.shot("surveys")
    finally:
        server.stop()
