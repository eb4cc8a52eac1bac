"""The rendered contexts served to mod_xml_curl: authenticated, current, "not found" for the rest."""

from __future__ import annotations

import base64
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from gevent.pywsgi import WSGIServer

from fsapps.config import load
from fsapps.flows.check import check
from fsapps.flows.install import NOT_FOUND, install
from fsapps.flows.render import render
from fsapps.flows.xmlcurl import make_app

EXAMPLES = Path(__file__).resolve().parents[2] / "dialplan"


@pytest.fixture
def server(tmp_path: Path):
    conf = tmp_path / "conf"
    install(render(check(EXAMPLES)), conf)
    srv = WSGIServer(("127.0.0.1", 0), make_app(conf, "freeswitch", "s3cret"), log=None)
    srv.start()
    yield f"http://127.0.0.1:{srv.server_port}/", conf
    srv.stop()


def post(url: str, form: dict[str, str], credentials: str | None) -> tuple[int, str]:
    req = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(), method="POST")
    if credentials:
        req.add_header("Authorization", "Basic " + base64.b64encode(credentials.encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def test_a_tenant_context_is_served_to_the_switch(server) -> None:
    url, _ = server
    status, body = post(url, {"section": "dialplan", "Hunt-Context": "fsapps_cablenet"}, "freeswitch:s3cret")
    assert status == 200
    assert '<section name="dialplan"' in body and '<context name="fsapps_cablenet">' in body


def test_other_contexts_and_sections_fall_through(server) -> None:
    url, _ = server
    for form in ({"section": "dialplan", "Hunt-Context": "public"}, {"section": "directory", "user": "1000"}):
        assert post(url, form, "freeswitch:s3cret") == (200, NOT_FOUND)


@pytest.mark.parametrize("credentials", [None, "freeswitch:wrong", "other:s3cret", "garbage"])
def test_every_request_is_authenticated(server, credentials) -> None:
    url, _ = server
    assert post(url, {"section": "dialplan", "Hunt-Context": "fsapps_cablenet"}, credentials)[0] == 401


def test_no_password_no_server(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="password"):
        make_app(tmp_path, "freeswitch", "")


def test_settings_read_the_password_from_the_environment() -> None:
    settings = load(env={"FSAPPS_XML_CURL_PASSWORD": "x", "FSAPPS_XML_CURL_PORT": "8090"})
    assert (settings.xml_curl.password, settings.xml_curl.port) == ("x", 8090)
    assert "x" in settings.secrets()
