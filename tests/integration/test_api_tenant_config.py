"""Business hours and prompts through the HTTP API: the example project in a directory of
its own (its prompts too), rendered into a conf the emulator runs. A calendar or a prompt is
rewritten in tenant.yaml (the rest of the file as written) and put live as a flow upload:
`fsapps check` of the live flows sees it, a problem comes back at tenant.yaml:line with
nothing changed. A recording is checked (RIFF/WAVE, 16-bit PCM, mono, 8 or 16 kHz, a size)
and stored where the tenant's prompts are, by a path the server builds."""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from fsapps.esl.client import Connection
from fsapps.flows.check import check
from fsapps.flows.install import install
from fsapps.flows.render import render
from fsapps.flows.upload import FlowsSite
from fsapps.flows.wav import MAX_BYTES
from fsapps.sim.switch import SwitchConfig
from fsapps.store.records import Tenant
from fsapps.web.app import ApiContext
from tests.support.api import PASSWORD, Client, serve_api
from tests.support.controllers import switch_on_conf
from tests.support.wavs import wav

ROOT = Path(__file__).resolve().parents[2]
T = "/api/v1/tenants/cablenet"
NEW_YEAR = [{"from": "2027-02-16 18:00", "to": "2027-02-18 09:00"}]
OFFICE = {"weekly": {"mon-fri": ["09:00-12:00", "13:00-18:00"], "sat": ["10:00-14:00"]},
          "holidays": ["2027-01-01"], "closed": NEW_YEAR}  # fmt: skip


@dataclass
class Site:
    root: Path
    sounds: Path
    admin: Client
    other: Client  # harbourbank's admin

    def tenant_yaml(self) -> str:
        return (self.root / "cablenet/tenant.yaml").read_text()

    def live(self):  # what `fsapps check` of the live flows sees
        project = check(self.root, sounds=self.sounds)
        assert project.problems == []
        return next(t for t in project.tenants if t.id == "cablenet")


@contextmanager
def site(store, tmp_path: Path) -> Iterator[Site]:
    root, conf, sounds = tmp_path / "dialplan", tmp_path / "conf", tmp_path / "sounds"
    shutil.copytree(ROOT / "dialplan", root)
    shutil.copytree(ROOT / "sounds", sounds)
    install(render(check(root, sounds=sounds)), conf)
    switch = switch_on_conf(conf, sounds, SwitchConfig(speed=10.0)).start()
    conn = Connection("127.0.0.1", switch.port, switch.password)
    conn.connect()
    with store.operator() as op:
        for t in ("cablenet", "harbourbank"):
            op.add_tenant(Tenant(t, t, f"{t}.example"))
    tokens = {}
    for tenant in ("cablenet", "harbourbank"):
        with store.tenant(tenant) as t:
            user = t.add_user(f"admin_{tenant}", PASSWORD, "tenant_admin")
            tokens[tenant] = t.issue_token(user.id, "tests")
    flows = FlowsSite(root, conf, lambda: conn.api("reloadxml"), sounds=sounds)
    server = serve_api(ApiContext(store, lambda tenant: {}, flows=flows))
    port = server.server_port
    try:
        yield Site(root, sounds, Client(port, token=tokens["cablenet"]),
                   Client(port, token=tokens["harbourbank"]))  # fmt: skip
    finally:
        server.stop()
        conn.stop()
        switch.stop()


def test_business_hours_are_set_in_tenant_yaml_and_go_live(store, tmp_path) -> None:
    with site(store, tmp_path) as s:
        got = s.admin.get(T + "/calendars").json["calendars"]
        assert got["service_hours"]["weekly"] == {"mon-fri": "08:00-20:00", "sat-sun": "09:00-17:30"}
        before = s.tenant_yaml()

        r = s.admin.request("PUT", T + "/calendars/service_hours", OFFICE)
        assert r.status == 200, r.json
        want = {"weekly": {"mon-fri": ["09:00-12:00", "13:00-18:00"], "sat": "10:00-14:00"},
                "holidays": ["2027-01-01"], "closed": NEW_YEAR}  # fmt: skip
        assert r.json["calendars"]["service_hours"] == want
        after = s.tenant_yaml()
        assert "# A cable-TV and broadband operator's customer hotline" in after  # comments kept
        assert after.replace(after[after.index("calendars:"):after.index("prompts:")], "") == before.replace(
            before[before.index("calendars:"):before.index("prompts:")], "")  # only the calendars changed
        cal = s.live().calendars["service_hours"]
        assert cal.weekly[2] == [(540, 720), (780, 1080)]  # Monday (wday 2): 09-12, 13-18
        assert cal.weekly[7] == [(600, 840)] and 1 not in cal.weekly  # Saturday; Sunday closed
        assert cal.holidays == [date(2027, 1, 1)]

        # A new calendar is added beside it.
        r = s.admin.request("PUT", T + "/calendars/night_line", {"weekly": {"mon-sun": ["20:00-24:00"]}})
        assert r.status == 200, r.json
        assert s.live().calendars["night_line"].weekly[1] == [(1200, 1440)]


def test_an_impossible_calendar_comes_back_at_tenant_yaml_line_and_nothing_changes(store, tmp_path) -> None:
    with site(store, tmp_path) as s:
        before = s.tenant_yaml()
        r = s.admin.request("PUT", T + "/calendars/service_hours", {**OFFICE, "holidays": ["2027-02-30"]})
        assert (r.status, r.json["code"]) == (422, "problems"), r.json
        (p,) = r.json["detail"]["problems"]
        assert p["file"] == "tenant.yaml" and "2027-02-30" in p["message"]
        # as rewritten: calendars: (11) service_hours: weekly: mon-fri: sat: then holidays: (16)
        assert (p["line"], before.splitlines()[10]) == (16, "calendars:")
        assert s.tenant_yaml() == before
        # Bad shapes never reach the file: the API's own 422, field by field.
        for bad in ({"weekly": {"someday": ["09:00-18:00"]}}, {"weekly": {"mon": ["9-6"]}}, {"weekly": {}},
                    {"weekly": {"mon": ["09:00-18:00"]}, "holidays": ["tomorrow"]}):  # fmt: skip
            r = s.admin.request("PUT", T + "/calendars/service_hours", bad)
            assert (r.status, r.json["code"]) == (422, "invalid_input"), (bad, r.json)
        r = s.admin.request("PUT", T + "/calendars/..%2Fx", OFFICE)
        assert r.status in (404, 422)
        assert s.tenant_yaml() == before
        r = s.other.request("PUT", T + "/calendars/service_hours", OFFICE)  # another tenant's admin
        assert (r.status, r.json["code"]) == (404, "no_such_tenant")


def test_a_prompt_is_set_to_text_or_a_checked_recording_stored_with_the_tenants_prompts(
    store, tmp_path
) -> None:
    with site(store, tmp_path) as s:
        r = s.admin.request("PUT", T + "/prompts/welcome", {"text": "欢迎致电华数宽带"})
        assert (r.status, r.json["prompts"]["welcome"]) == (200, {"text": "欢迎致电华数宽带"}), r.json
        assert s.live().prompts["welcome"].text == "欢迎致电华数宽带"

        eight = wav(8000)
        r = s.admin.request("PUT", T + "/prompts/holiday_notice", {"wav": base64.b64encode(eight).decode()})
        assert r.status == 200, r.json
        assert r.json["prompts"]["holiday_notice"] == {"file": "cablenet/holiday_notice.wav"}
        folder = s.sounds / "zh/cablenet"
        assert (folder / "8000/holiday_notice.wav").read_bytes() == eight
        assert s.live().prompts["holiday_notice"].file == "cablenet/holiday_notice.wav"

        # At 16 kHz: where mod_sndfile plays it at any call's rate, the 8 kHz one gone.
        sixteen = wav(16000)
        r = s.admin.request("PUT", T + "/prompts/holiday_notice", {"wav": base64.b64encode(sixteen).decode()})
        assert r.status == 200, r.json
        assert (folder / "holiday_notice.wav").read_bytes() == sixteen
        assert not (folder / "8000/holiday_notice.wav").exists()


BAD_WAVS = [
    (b"ID3\x03 an mp3, really" * 10, "no RIFF/WAVE header"),
    (wav(8000, channels=2), "2 channels: a prompt must be mono"),
    (wav(44100), "44100 Hz: a prompt must be 8000 or 16000 Hz"),
    (wav(8000, width=1), "8-bit samples: a prompt must be 16-bit PCM"),
    (wav(8000)[:-100], "ends before its header says"),
    (wav(8000, seconds=MAX_BYTES / 16000 + 1), f"at most {MAX_BYTES}"),
]


@pytest.mark.parametrize(("data", "why"), BAD_WAVS, ids=["mp3", "stereo", "44k", "8bit", "cut", "big"])
def test_a_bad_recording_is_refused_with_why_and_nothing_is_stored(store, tmp_path, data, why) -> None:
    with site(store, tmp_path) as s:
        before = s.tenant_yaml()
        r = s.admin.request("PUT", T + "/prompts/welcome", {"wav": base64.b64encode(data).decode()})
        assert (r.status, r.json["code"]) == (422, "bad_wav"), r.json
        assert why in r.json["message"]
        assert s.tenant_yaml() == before
        assert not list((s.sounds / "zh/cablenet").glob("welcome.wav"))


def test_a_recording_whose_edit_is_refused_leaves_the_prompt_file_as_it_was(store, tmp_path) -> None:
    with site(store, tmp_path) as s:
        welcome = s.sounds / "zh/cablenet/8000/welcome.wav"
        was = welcome.read_bytes()
        main = s.root / "cablenet/flows/main.yaml"  # the live flows broken behind the API's back
        main.write_text(main.read_text().replace("type: menu\n", "type: menuu\n", 1))
        r = s.admin.request("PUT", T + "/prompts/welcome", {"wav": base64.b64encode(wav(8000)).decode()})
        assert r.status == 422 and r.json["code"] == "problems", r.json
        assert welcome.read_bytes() == was
        r = s.admin.request("PUT", T + "/prompts/welcome", {"wav": "not base64!"})
        assert (r.status, r.json["code"]) == (422, "bad_wav")
        r = s.admin.request("PUT", T + "/prompts/welcome", {"text": "hi", "wav": "AAAA"})
        assert (r.status, r.json["code"]) == (422, "invalid_input")
