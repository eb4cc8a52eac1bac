"""Opening a section of the tenant page (fsapps/web/console/static/tenant.js) by its tab."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

# The section shown is drawn: its first fetch is over, and what it put in the messages
# area (above the tabs, moving them down) is in place.
SHOWN_DRAWN = """() => {
  const a = document.querySelector('#tabs a[aria-current="page"]');
  return a !== null && (document.body.dataset.drawn || '').split(' ').includes(a.dataset.tab);
}"""


def open_section(page: Any, name: str) -> None:
    """Click ``name``'s tab once the section shown is drawn (a click while a message comes in
    lands where the tab was), and wait until it is the section shown and drawn (what a test
    types into a form before the form's first fetch is in would be drawn over)."""
    page.wait_for_function(SHOWN_DRAWN)
    page.click(f'#tabs a[data-tab="{name}"]')
    expect(page.locator(f'#tabs a[data-tab="{name}"]')).to_have_attribute("aria-current", "page")
    page.wait_for_function(SHOWN_DRAWN)
