"""A real FreeSWITCH fetching a tenant's context from fsapps over mod_xml_curl.

The switch's files hold only the public side (the access numbers); the
tenant context exists nowhere but in fsapps' answer to mod_xml_curl. A call
to the access number running the tenant's first nodes proves the fetch, the
credentials and the "not found" fall-through for the public context.
"""

from __future__ import annotations

import secrets
import tempfile
import time
from pathlib import Path

import gevent
import pytest
from gevent.pywsgi import WSGIServer

from fsapps.flows.check import check
from fsapps.flows.install import install
from fsapps.flows.render import render
from fsapps.flows.xmlcurl import make_app
from fsapps.testing.freeswitch import RealSwitch
from tests.support.targets import real_switch_available

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.realswitch
def test_tenant_context_comes_from_fsapps_over_xml_curl() -> None:
    real_switch_available()
    files = render(check(ROOT / "dialplan"))
    password = secrets.token_urlsafe(12)
    with tempfile.TemporaryDirectory() as served:
        install(files, served)
        server = WSGIServer(("127.0.0.1", 0), make_app(served, "freeswitch", password), log=None)
        server.start()
        url = f"http://127.0.0.1:{server.server_port}/"
        binding = (
            '<configuration name="xml_curl.conf" description="cURL XML Gateway">\n  <bindings>\n'
            '    <binding name="fsapps">\n'
            f'      <param name="gateway-url" value="{url}" bindings="dialplan"/>\n'
            f'      <param name="gateway-credentials" value="freeswitch:{password}"/>\n'
            "    </binding>\n  </bindings>\n</configuration>\n"
        )
        public_only = {k: v for k, v in files.items() if k.startswith("public/")}
        real = RealSwitch.from_env(
            files={"autoload_configs/xml_curl.conf.xml": binding},
            prepare=lambda conf: install(public_only, conf),
        )
        try:
            real.start()
            esl = real.connect()
            ran: list[str] = []
            esl.on(
                "CHANNEL_EXECUTE",
                lambda ev: (
                    ran.append(ev.get("Application") or "")
                    if (ev.get("Channel-Name") or "").endswith("-b")
                    else None
                ),
            )
            esl.subscribe(["CHANNEL_EXECUTE"])
            esl.bgapi("originate loopback/08001234567/public &park()")
            deadline = time.monotonic() + 20
            while "playback" not in ran and time.monotonic() < deadline:
                gevent.sleep(0.1)
            esl.api("hupall")
            esl.stop()
            # public (files): set..., transfer; fsapps_shopwise (xml_curl): answer, transfer, playback
            assert "answer" in ran and "playback" in ran, (ran, real.log_tail(20))
        finally:
            real.cleanup()
            server.stop()
