"""The tenant admin deletes a user and a prompt, and plays a recorded prompt in place, from
the tenant page in real Chromium against the real API: the deleted user can no longer sign
in; their own row has no delete; the prompt's <audio> element plays the WAV the API serves;
a prompt a flow plays is refused at tenant.yaml with nothing changed."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.sections import open_section
from tests.browser.test_tenant_admin import cablenet_site
from tests.support.api import PASSWORD, Client
from tests.support.wavs import wav


def test_a_tenant_admin_deletes_a_user_plays_a_prompt_and_deletes_an_unused_one(
    store: Any, tmp_path: Any, tabs: Any
) -> None:
    with cablenet_site(store, tmp_path) as site:
        with store.tenant("cablenet") as t:
            t.add_user("leaver", PASSWORD, "agent")
        tab = tabs(site.base, "en-GB", "admin")
        page = tab.login("admin", PASSWORD)
        page.on("dialog", lambda d: d.accept())  # the confirmations
        open_section(page, "users")
        leaver = page.locator('#user-rows tr[data-user="leaver"]')
        expect(page.locator('#user-rows tr[data-user="admin"] button.delete-user')).to_be_disabled()
        leaver.locator("button.delete-user").click()
        expect(page.locator(".message.done")).to_contain_text("User leaver is deleted.")
        expect(leaver).to_have_count(0)
        port = int(site.base.rsplit(":", 1)[1])
        assert Client(port).login("leaver", PASSWORD).status == 401
        with store.tenant("cablenet") as t:
            assert [u.username for u in t.users()] == ["admin"]

        # The welcome prompt's recording plays in the page (the browser fetches and decodes it).
        open_section(page, "prompts")
        welcome = page.locator('#prompt-rows tr[data-prompt="welcome"]')
        audio = welcome.locator("audio.prompt-audio")
        expect(audio).to_have_count(1)
        played = audio.evaluate("""(a) => new Promise((done) => {
          a.muted = true;
          a.addEventListener('playing', () => done({ok: true, duration: a.duration}), {once: true});
          a.addEventListener('error', () => done({ok: false, code: a.error && a.error.code}), {once: true});
          a.play().catch((e) => done({ok: false, why: String(e)}));
        })""")
        assert played["ok"] and played["duration"] > 0, played
        tab.shot("prompt-playing")

        # welcome is played by the flows: refused where, nothing changed.
        before = (site.root / "cablenet/tenant.yaml").read_text()
        welcome.locator("button.delete-prompt").click()
        expect(page.locator('.message.error[data-code="problems"]')).to_be_visible()
        expect(page.locator("#prompt-problems li").first).to_contain_text("welcome")
        assert (site.root / "cablenet/tenant.yaml").read_text() == before

        # A new recording nobody plays yet: added, heard, deleted with its file.
        spare = tmp_path / "spare.wav"
        spare.write_bytes(wav(16000))
        page.fill("#new-prompt-name", "spare")
        page.set_input_files("#new-prompt-file", str(spare))
        page.click("#prompt-form button[type=submit]")
        row = page.locator('#prompt-rows tr[data-prompt="spare"]')
        expect(row.locator("audio.prompt-audio")).to_have_count(1)
        assert (site.sounds / "zh/cablenet/spare.wav").is_file()
        row.locator("button.delete-prompt").click()
        expect(page.locator(".message.done").last).to_contain_text("Prompt spare is deleted.")
        expect(row).to_have_count(0)
        assert not (site.sounds / "zh/cablenet/spare.wav").exists()
