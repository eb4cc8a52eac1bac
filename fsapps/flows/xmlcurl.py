"""The rendered tenant contexts over HTTP, for FreeSWITCH's mod_xml_curl.

mod_xml_curl POSTs the lookup as a form (``section``, and for the dialplan
the channel's data with ``Hunt-Context``); the answer is a
``freeswitch/xml`` document, or "not found" to let FreeSWITCH use its own
files (fsapps.flows.install.dialplan_document). Every request needs HTTP
basic auth (mod_xml_curl's ``gateway-credentials``); files are read from
the current generation under the conf directory, so each ``fsapps render``
is served from the next request on.

    <binding name="fsapps">
      <param name="gateway-url" value="http://127.0.0.1:8090/" bindings="dialplan"/>
      <param name="gateway-credentials" value="freeswitch:PASSWORD"/>
    </binding>
"""

from __future__ import annotations

import base64
import hmac
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fsapps.flows.install import NOT_FOUND, current_files, dialplan_document

MAX_BODY = 256 * 1024  # a lookup's form is a few kB


def authorized(header: str | None, username: str, password: str) -> bool:
    if not header or not header.startswith("Basic "):
        return False
    try:
        user, _, given = base64.b64decode(header[6:], validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return False
    return hmac.compare_digest(user.encode(), username.encode()) & hmac.compare_digest(
        given.encode(), password.encode()
    )


def make_app(conf: str | Path, username: str, password: str) -> Callable[..., Iterable[bytes]]:
    if not password:
        raise ValueError("xml_curl needs a password (xml_curl.password or FSAPPS_XML_CURL_PASSWORD)")

    cache: dict[str, dict[str, str]] = {}

    def files() -> dict[str, str]:
        # A generation never changes once current: read it once per render.
        link = Path(conf) / "fsapps" / "current"
        key = os.readlink(link) if link.is_symlink() else ""
        if key not in cache:
            cache.clear()
            cache[key] = current_files(conf)
        return cache[key]

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not authorized(environ.get("HTTP_AUTHORIZATION"), username, password):
            start_response("401 Unauthorized", [("WWW-Authenticate", 'Basic realm="fsapps"')])
            return [b""]
        if environ.get("REQUEST_METHOD") not in ("GET", "POST"):
            start_response("405 Method Not Allowed", [("Allow", "GET, POST")])
            return [b""]
        try:
            length = min(int(environ.get("CONTENT_LENGTH") or 0), MAX_BODY)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(length).decode("utf-8", "replace") if length else ""
        form = {k: v[0] for k, v in parse_qs(body or environ.get("QUERY_STRING", "")).items()}
        context = form.get("Hunt-Context") or form.get("Caller-Context") or ""
        if form.get("section") == "dialplan" and context:
            text = dialplan_document(files(), context)
        else:
            text = NOT_FOUND
        start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8")])
        return [text.encode()]

    return app
