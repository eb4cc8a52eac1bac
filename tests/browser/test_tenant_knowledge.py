"""The tenant page's knowledge base and wrap-up sections: a tenant admin writes a call script
for a queue and edits it, is told plainly about a queue that is not there, defines a
disposition code (the defaults give way to it) and requires a disposition before ready."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from fsapps.store.records import Tenant
from fsapps.web.app import ApiContext
from tests.browser.sections import open_section
from tests.support.api import PASSWORD, serve_api

QUEUES = {"front": {"tiers": []}, "billing": {"tiers": []}}


def _api_json(page: Any, path: str) -> Any:
    return page.evaluate("async (path) => (await fetch(path)).json()", path)


def test_a_tenant_admin_writes_a_queues_script_and_defines_disposition_codes(store, tabs) -> None:
    with store.operator() as op:
        op.add_tenant(Tenant("popco", "Popco", "popco.example"))
    with store.tenant("popco") as t:
        t.add_user("boss", PASSWORD, "tenant_admin")
    server = serve_api(ApiContext(store, lambda tenant: QUEUES if tenant == "popco" else {}), console=True)
    try:
        tab = tabs(f"http://127.0.0.1:{server.server_port}", "en-GB", "admin")
        page = tab.login("boss", PASSWORD)
        expect(page).to_have_url(f"{tab.base}/console/tenant")
        open_section(page, "knowledge")
        expect(page.locator("#knowledge")).to_be_visible()

        page.select_option("#kb-kind", "script")
        page.fill("#kb-title", "Front desk greeting")
        page.fill("#kb-tags", "greeting，开场")
        page.fill("#kb-queues", "front")
        page.fill("#kb-body", "# Open\nThank the caller. <b>Never</b> read a card number aloud.")
        page.click("#kb-save")
        rows = page.locator("#kb-rows tr")
        expect(rows).to_have_count(1)
        expect(rows.first.locator("td").nth(2)).to_have_text("front")
        script = _api_json(page, "/api/v1/tenants/popco/queues/front/script")
        assert (script["title"], script["tags"], script["updated_by"]) == (
            "Front desk greeting", ["greeting", "开场"], "boss")

        # Edited from its row; the same article, not a second one.
        rows.first.locator("button", has_text="Edit").click()
        expect(page.locator("#kb-title")).to_have_value("Front desk greeting")
        page.fill("#kb-title", "前台开场白")
        page.click("#kb-save")
        expect(rows).to_have_count(1)
        expect(rows.first.locator("td").first).to_have_text("前台开场白")
        # A queue that is not the tenant's is refused, in words.
        page.click("#kb-new")
        page.fill("#kb-title", "Lost")
        page.fill("#kb-queues", "nosuch")
        page.click("#kb-save")
        expect(page.locator('.message.error[data-code="no_such_queue"]')).to_be_visible()
        expect(rows).to_have_count(1)
        tab.shot("knowledge")

        open_section(page, "wrapup")
        expect(page.locator("#wrapup-defaults")).to_be_visible()
        expect(page.locator("#wrapup-code-rows tr")).to_have_count(5)
        page.fill("#wc-code", "card_lost")
        page.fill("#wc-label", "Card reported lost")
        page.fill("#wc-queues", "front")
        page.click("#wrapup-code-form button[type=submit]")
        expect(page.locator("#wrapup-code-rows tr")).to_have_count(1)
        expect(page.locator("#wrapup-defaults")).to_be_hidden()
        page.check("#wrapup-required")
        expect(page.locator(".message.done")).to_be_visible()
        assert _api_json(page, "/api/v1/tenants/popco/wrap-up-settings") == {"required": True}
        codes = _api_json(page, "/api/v1/tenants/popco/wrap-up-codes?queue=billing")
        # The tenant's only code is the front queue's: a billing call still has codes, the defaults.
        assert [c["code"] for c in codes if not c["default"]] == [] and len(codes) == 5, codes
        tab.shot("wrap-up-codes")
    finally:
        server.stop()
