"""Every console page renders with its title as plain text and each element id once: a
section written into the title block lands in <title>, where the browser shows it as text,
and duplicates the section where it belongs."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from fsapps.web.console import LANGUAGES, PAGES, make_console


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("path", sorted(PAGES))
def test_each_page_has_a_plain_title_and_unique_ids(path: str, lang: str) -> None:
    resp = make_console().test_client().get(f"/{path}", query_string={"lang": lang})
    assert resp.status_code == 200, path
    html = resp.get_data(as_text=True)
    (title,) = re.findall(r"<title>(.*?)</title>", html, re.S)
    assert "<" not in title and len(title) < 200, title[:300]
    repeated = [i for i, n in Counter(re.findall(r'\bid="([^"]+)"', html)).items() if n > 1]
    assert repeated == [], repeated
