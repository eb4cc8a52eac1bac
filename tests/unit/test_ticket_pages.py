"""The customer's ticket pages (the web form, the status link) render in both languages
with no missing catalogue key, and with no login: they act only through the public API."""

from __future__ import annotations

import pytest

from fsapps.web.console import LANGUAGES, catalogue, make_console


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize(("path", "title"), [("/ticket-form", "ticket.form_title"),
                                             ("/ticket-status", "ticket.status_title")])  # fmt: skip
def test_the_customers_ticket_pages_render_in_both_languages(path: str, title: str, lang: str) -> None:
    resp = make_console().test_client().get(path, query_string={"lang": lang})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert f'<html lang="{lang}">' in html and catalogue(lang)[title] in html
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]


def test_every_ticket_key_is_in_both_catalogues() -> None:
    en, zh = ({k for k in catalogue(lang) if k.startswith("ticket.")} for lang in LANGUAGES)
    assert en == zh and len(en) > 40
