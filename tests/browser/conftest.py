"""The browser tier: the console in real Chromium (Debian's ``chromium``, driven by
Playwright for Python through ``executable_path``: Playwright's own browser download cannot
work here), against the real API over real HTTP, on the embedded PostgreSQL.

``./dev test`` installs chromium when it is missing. Without it these tests skip, saying
so, except under CI, where a missing browser fails them."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ARTEFACTS = Path(os.environ.get("FSAPPS_BROWSER_ARTEFACTS", "test-artefacts/browser"))


def _chromium() -> str | None:
    for name in (os.environ.get("FSAPPS_CHROMIUM"), "chromium", "chromium-browser"):
        if name and (found := shutil.which(name)):
            return found
    return None


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    exe = _chromium()
    if exe is None:
        why = "no chromium on PATH (apt-get install chromium; ./dev test does)"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    from playwright.sync_api import expect, sync_playwright

    # expect() waits 5 s by default; on a loaded 2-core CI machine a login (argon2) and the
    # next page's load can take longer. Waiting is for a condition, never a sleep.
    expect.set_options(timeout=15_000)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe)
        try:
            yield browser
        finally:
            browser.close()


class Tab:
    """One person's browser: a context in their language at 1366x768, its page, and the
    JavaScript errors and missing catalogue keys it met (a test fails on any)."""

    def __init__(self, browser: Any, base: str, locale: str, name: str, timezone: str | None = None) -> None:
        self.base, self.name = base, name
        self.context = browser.new_context(locale=locale, viewport={"width": 1366, "height": 768},
                                           timezone_id=timezone)  # fmt: skip
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("console", self._console)
        self.shots = 0

    def _console(self, msg: Any) -> None:
        # The browser's own "Failed to load resource" lines are the API's error answers,
        # which the pages show; a script's console.error (a missing key) is a defect.
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            self.errors.append(f"console: {msg.text}")

    def goto(self, path: str) -> Any:
        self.page.goto(self.base + path)
        return self.page

    def login(self, username: str, password: str) -> Any:
        page = self.goto("/console/")
        page.fill("#username", username)
        page.fill("#password", password)
        page.click("#login-form button[type=submit]")
        return page

    def shot(self, what: str) -> None:
        """A screenshot kept as a test artefact (test-artefacts/browser/)."""
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        self.shots += 1
        self.page.screenshot(path=str(ARTEFACTS / f"{self.name}-{self.shots:02d}-{what}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()
        assert self.errors == [], self.errors


@pytest.fixture
def tabs(chromium: Any, request: Any) -> Iterator[Any]:
    """tabs(base, locale, who[, timezone]) -> a Tab (its clock in ``timezone``, an IANA name);
    every tab is closed (and its errors checked) after."""
    opened: list[Tab] = []

    def open_tab(base: str, locale: str, who: str, timezone: str | None = None) -> Tab:
        tab = Tab(chromium, base, locale, f"{request.node.name}-{who}", timezone)
        opened.append(tab)
        return tab

    yield open_tab
    for tab in opened:
        tab.close()
