"""The console: the pages people work in, served beside the HTTP API under ``/console/``.

The pages are shells: HTML rendered here in the reader's language, and scripts that act
only through the public API (``/api/v1``, same origin, the session cookie and
``X-CSRF-Token``). So this app holds no session and reads no database: a page served to
someone not logged in shows nothing but the login (the API answers 401 to its scripts).

Every string a person reads comes from one catalogue per language
(``catalogue/<lang>.json``): the templates through ``t()``, the scripts from the same
catalogue embedded in the page. The language is the ``?lang=`` a person picked (kept in
a cookie), else the best of the browser's Accept-Language, else English.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from flask import Flask, render_template, request
from werkzeug.wrappers import Response

from fsapps.web.policy import RULES

HERE = Path(__file__).parent
LANGUAGES = ("en", "zh-CN")
DEFAULT = "en"
LANG_COOKIE = "fsapps_lang"
MOUNT = "/console"

# Scripts only from this origin, no inline code (the page's data rides in JSON blocks,
# which are never run), no framing: a hostile string in a blacklist reason stays text.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self';"
       " media-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")  # fmt: skip


@cache
def catalogue(lang: str) -> dict[str, str]:
    """The language's messages: key -> text (with ``{name}`` placeholders)."""
    data: dict[str, str] = json.loads((HERE / "catalogue" / f"{lang}.json").read_text(encoding="utf-8"))
    return data


def choose_language(asked: str | None, cookie: str | None, accept: Any) -> str:
    """``?lang=`` first, then the cookie, then Accept-Language (werkzeug's, which matches
    ``zh`` and ``zh-Hans-CN`` to zh-CN by their primary tag), then English."""
    for pick in (asked, cookie):
        if pick in LANGUAGES:
            return str(pick)
    best = accept.best_match(LANGUAGES) if accept is not None else None
    return str(best) if best else DEFAULT


def _policy() -> dict[str, list[str]]:
    """Which roles may take each action (fsapps.web.policy's rules; the operator may take
    all): the pages show only what the reader's role may do. The API still decides."""
    return {action: sorted(str(r) for r in roles) for action, roles in RULES.items()}


# a page's path -> its template and script (<name>.html, <name>.js)
PAGES = {"": "login", "agent": "agent", "tenant": "tenant", "floor": "floor", "wallboard": "wallboard",
         "qa": "qa",
         "ticket-form": "ticket-form", "ticket-status": "ticket-status"}  # fmt: skip


def make_console() -> Flask:
    """The console's WSGI app, to be mounted at ``MOUNT`` (fsapps.web.site)."""
    app = Flask(__name__, static_folder="static", static_url_path="/static", template_folder="templates")
    app.config.update(JSON_SORT_KEYS=False)

    def page(name: str) -> Any:
        lang = choose_language(request.args.get("lang"), request.cookies.get(LANG_COOKIE),
                               request.accept_languages)  # fmt: skip
        messages = catalogue(lang)

        def t(key: str, **values: Any) -> str:
            return messages[key].format(**values)  # a missing key fails the page, and its test

        others = {k: v for k, v in request.args.items() if k != "lang"}
        html = render_template(
            f"{PAGES[name]}.html", script=f"{PAGES[name]}.js", t=t, lang=lang, languages=LANGUAGES,
            page=name or "login", catalogue=messages, policy=_policy(), others=others,
        )
        resp = Response(html, mimetype="text/html")
        if request.args.get("lang") in LANGUAGES:
            resp.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, path=MOUNT, samesite="Strict")
        return resp

    @app.get("/")
    def login() -> Any:
        return page("")

    @app.get("/agent")
    def agent() -> Any:
        return page("agent")

    @app.get("/tenant")
    def tenant() -> Any:
        return page("tenant")

    @app.get("/floor")
    def floor() -> Any:
        return page("floor")

    @app.get("/wallboard")
    def wallboard() -> Any:
        return page("wallboard")

    @app.get("/qa")
    def quality() -> Any:
        return page("qa")

    # A customer's pages, with no login: the tenant's ticket web form and a ticket's status link.
    @app.get("/ticket-form")
    def ticket_form() -> Any:
        return page("ticket-form")

    @app.get("/ticket-status")
    def ticket_status() -> Any:
        return page("ticket-status")

    @app.after_request
    def _headers(resp: Response) -> Response:
        resp.headers["Content-Security-Policy"] = CSP
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "same-origin"
        if resp.mimetype == "text/html":
            resp.headers["Cache-Control"] = "no-store"
        return resp

    return app
