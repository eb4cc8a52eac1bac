"""The console's catalogues: Simplified Chinese and English say the same things (the same
keys, the same placeholders), every key a page or script names is there, and every error
code the API can answer has its message, so a person never meets a bare code."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from fsapps.acd.figures import ACTIVITIES
from fsapps.acd.model import AgentState, AgentStatus
from fsapps.web import errors
from fsapps.web.console import HERE, LANGUAGES, catalogue, choose_language, make_console
from fsapps.web.policy import Role

FSAPPS = Path(__file__).resolve().parents[2] / "fsapps"


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_catalogues_have_the_same_keys_and_placeholders() -> None:
    en, zh = catalogue("en"), catalogue("zh-CN")
    assert sorted(set(en) - set(zh)) == [] and sorted(set(zh) - set(en)) == []
    for key in en:
        assert en[key].strip() and zh[key].strip(), key
        assert _placeholders(en[key]) == _placeholders(zh[key]), key


def _keys_in_sources() -> set[str]:
    """The keys the templates and scripts name literally: t("x.y"), t('x.y')."""
    found: set[str] = set()
    for path in [*(HERE / "templates").glob("*.html"), *(HERE / "static").glob("*.js")]:
        found |= set(re.findall(r"""\bt\(\s*["']([a-z][\w.-]*\.[\w.-]+)["']""", path.read_text()))
    return found


def test_every_key_the_pages_name_is_in_the_catalogue() -> None:
    used = _keys_in_sources()
    assert len(used) > 100  # the scan sees the pages
    assert sorted(used - set(catalogue("en"))) == []


def test_the_words_for_what_the_api_returns_are_there() -> None:
    """Keys built from the API's values: statuses, states, roles, call states."""
    en = catalogue("en")
    wanted = {f"status.{s.value}" for s in AgentStatus} | {f"state.{s.value}" for s in AgentState}
    wanted |= {f"role.{r.value}" for r in Role} | {f"lang.{lang}" for lang in LANGUAGES}
    wanted |= {f"callstate.{s}" for s in ("Waiting", "Trying", "Answered", "Consulting")}
    wanted |= {f"live.{s}" for s in ("connecting", "live", "offline")}
    wanted |= {f"activity.{a}" for a in ACTIVITIES}  # the floor's and the wallboard's words
    wanted |= {f"op.{op}" for op in ("listen", "whisper", "barge", "hangup")}
    figures = ("waiting", "longest", "service_level", "answered", "abandoned", "available", "talking", "away")
    wanted |= {f"wallboard.{f}" for f in figures}
    sections = ("flows", "agents", "queues", "recordings", "blacklist", "outages", "billing", "wallboards")
    wanted |= {f"tab.{s}" for s in sections}
    assert sorted(wanted - set(en)) == []


def _api_error_codes() -> set[str]:
    """Every stable code the API's source can answer with: Refused(kind, code, ...),
    ApiError(status, code, ...), UploadRefused(code, ...), and the codes by status."""
    codes = set(errors.CODES.values())
    sources = [*(FSAPPS / "web").rglob("*.py"), FSAPPS / "flows" / "upload.py"]
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            at = {"Refused": 1, "ApiError": 1, "UploadRefused": 0}.get(name)
            if at is None or len(node.args) <= at:
                continue
            arg = node.args[at]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                codes.add(arg.value)
    return codes


def test_every_error_code_the_api_answers_has_a_message_in_both_languages() -> None:
    codes = _api_error_codes()
    assert {"no_such_tenant", "problems", "wrong_credentials", "csrf_failed", "no_switch"} <= codes
    for lang in LANGUAGES:
        assert sorted(c for c in codes if f"error.{c}" not in catalogue(lang)) == [], lang


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("path", ["/", "/agent", "/tenant", "/floor", "/wallboard"])
def test_every_page_renders_in_both_languages(path: str, lang: str) -> None:
    """A key missing from a catalogue fails the page (t() raises), and this test."""
    resp = make_console().test_client().get(path, query_string={"lang": lang})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert f'<html lang="{lang}">' in html
    assert catalogue(lang)["app.name"] in html
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    assert f"fsapps_lang={lang}" in resp.headers["Set-Cookie"]


@pytest.mark.parametrize(
    ("asked", "cookie", "accept", "chosen"),
    [
        (None, None, "zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        (None, None, "zh", "zh-CN"),
        (None, None, "en-GB,en;q=0.9", "en"),
        (None, None, "fr-FR", "en"),
        (None, None, "", "en"),
        (None, "zh-CN", "en", "zh-CN"),  # the reader's pick is kept
        ("en", "zh-CN", "zh-CN", "en"),  # and a new pick wins
        ("xx", "yy", "zh-TW,zh;q=0.5", "zh-CN"),  # unknown picks are ignored
    ],
)
def test_the_language_is_the_readers_pick_then_their_browsers(
    asked: str | None, cookie: str | None, accept: str, chosen: str
) -> None:
    assert choose_language(asked, cookie, parse_accept_header(accept, LanguageAccept)) == chosen
