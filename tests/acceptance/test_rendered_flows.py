"""The example tenants' rendered dialplan on the real FreeSWITCH and on the emulator.

Both switches load the same rendered files (installed into the real one's
vanilla conf; into a bare conf for the emulator) and hand controller nodes
to the same scripted controller. A loopback call into each access number
keys the same digits on both; the applications the call runs, with their
arguments, must be the same on both, from the moment the tenant's access
number takes it (the vanilla public context runs two extensions of its own
first). Both clocks are now, so time routes agree.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import gevent
import pytest

from fsapps.config import ControllerSettings, Settings
from fsapps.controller import Controller
from fsapps.esl import codec
from fsapps.flows.check import check
from fsapps.flows.install import install
from fsapps.flows.render import SipPhone, render
from fsapps.flows.simulate import ScriptedFlow
from fsapps.sim.directory import Directory
from fsapps.sim.switch import Switch
from fsapps.sim.xmlconf import load_document
from fsapps.sim.xmldialplan import XmlDialplan
from fsapps.testing.freeswitch import RealSwitch
from tests.support import sipp
from tests.support.sipp import sipp_available
from tests.support.targets import Target, real_switch_available, side_by_side

ROOT = Path(__file__).resolve().parents[2]
CALLS = [  # (tenant, number, caller, digits keyed at each digit prompt)
    ("cablenet", "96171", "13905710000", ["1"]),
    ("harbourbank", "95556", "85291234567", []),
    ("harbourbank", "95555", "85291234568", ["2", "3", "0", "9", "9", "9"]),
    ("shopwise", "08001234567", "447700900123", ["2"]),
    ("travelgo", "08007654321", "447700900456", ["2"]),  # open or closed, 2 is the emergency line
]


class _AnyTenantFlow:
    """The scripted flow application for every tenant: its node's first branch."""

    def __init__(self, project) -> None:
        self.by_tenant = {t.id: ScriptedFlow(t, {}, {}) for t in project.tenants}

    def __call__(self, session, args: str) -> None:
        app = self.by_tenant.get(session.getVariable("fsapps_tenant") or "")
        if app is not None:
            app(session, args)


# An agent's SIP phone as the HTTP API provisions it (a1-hash: md5 of user:domain:password).
PHONE = SipPhone("2001", hashlib.md5(b"2001:cablenet.example:Phone-2001-pw").hexdigest(), "cn_li")


@pytest.fixture(scope="module")
def switches() -> Iterator[tuple[dict[str, Target], RealSwitch]]:
    real_switch_available()
    project = check(ROOT / "dialplan")
    assert project.problems == []
    controller = Controller(
        Settings(controller=ControllerSettings(listen="127.0.0.1", port=0)),
        applications={"flow": _AnyTenantFlow(project)},
    ).start()
    operator = dataclasses.replace(
        project.operator, controllers=[f"127.0.0.1:{controller.server.port}"], sounds=str(ROOT / "sounds")
    )
    files = render(dataclasses.replace(project, operator=operator), phones={"cablenet": [PHONE]})
    scratch = tempfile.TemporaryDirectory(prefix="fsapps-rendered-")
    install(files, Path(scratch.name) / "conf")
    document = load_document(Path(scratch.name) / "conf")
    sim = Switch(
        dialplan=XmlDialplan.from_document(document),
        directory=Directory.from_document(document),
        speed=1.0,
        start=datetime.now(UTC).timestamp(),
        password=os.urandom(6).hex(),
    )
    real = RealSwitch.from_env(prepare=lambda conf: install(files, conf))
    try:
        with side_by_side(sim, real) as targets:
            yield targets, real
    finally:
        controller.stop(grace=1.0)
        scratch.cleanup()


@pytest.fixture(scope="module")
def targets(switches: tuple[dict[str, Target], RealSwitch]) -> dict[str, Target]:
    return switches[0]


def run_call(target: Target, number: str, caller: str, keys: list[str]) -> list[tuple[str, str]]:
    """The (application, data) the -b leg of a loopback call ran, from the tenant's first step."""
    esl = target.connect()
    ran: list[tuple[str, str]] = []
    done = gevent.event.Event()
    pending = list(keys)
    legs: set[str] = set()

    def press(uuid: str) -> None:
        gevent.sleep(1.0)
        if pending:
            digits = pending.pop(0)
            if digits:
                esl.api(f"uuid_recv_dtmf {uuid} {digits}")

    def on_event(ev: codec.Event) -> None:
        # Callers differ per call: the caller ID tells the concurrent calls apart.
        if ev.get("Caller-Caller-ID-Number") != caller or not (ev.get("Channel-Name") or "").endswith("-b"):
            return
        legs.add(ev.get("Unique-ID") or "")
        if ev.name == "CHANNEL_EXECUTE":
            ran.append((ev.get("Application") or "", ev.get("Application-Data") or ""))
            if ev.get("Application") == "play_and_get_digits":
                gevent.spawn(press, ev.get("Unique-ID") or "")
        elif ev.name == "CHANNEL_HANGUP":
            done.set()

    esl.on("*", on_event)
    esl.subscribe(["CHANNEL_EXECUTE", "CHANNEL_HANGUP"])
    esl.bgapi(f"originate {{origination_caller_id_number={caller}}}loopback/{number}/public &park()")
    done.wait(90)
    for uuid in legs:
        esl.api(f"uuid_kill {uuid}")
    esl.stop()
    start = next((i for i, (app, data) in enumerate(ran) if data.startswith("fsapps_tenant=")), len(ran))
    return ran[start:]


@pytest.mark.realswitch
def test_example_calls_run_the_same_applications_on_both_switches(targets: dict[str, Target]) -> None:
    t0 = time.monotonic()
    jobs = {
        (name, i): gevent.spawn(run_call, target, number, caller, keys)
        for name, target in targets.items()
        for i, (_, number, caller, keys) in enumerate(CALLS)
    }
    gevent.joinall(list(jobs.values()), timeout=150)
    results = {key: job.get() for key, job in jobs.items()}
    for i, (tenant, number, _, _) in enumerate(CALLS):
        real, sim = results[("real", i)], results[("sim", i)]
        assert len(real) > 3, (tenant, number, real)
        assert sim == real, json.dumps({"tenant": tenant, "real": real, "sim": sim}, indent=1)
    assert time.monotonic() - t0 < 150


@pytest.mark.realswitch
def test_voicemail_boxes_are_users_nobody_can_register_as(switches) -> None:
    """The rendered directory holds cablenet's voicemail boxes as users of cablenet.example
    (mod_voicemail needs them) and an agent's phone. Registering on the external profile,
    which looks users up in the domain the phone names (no force-register-domain; the vanilla
    internal profile looks in $${domain} alone): the phone, with its password, is registered;
    a box, with any password, is refused (allow-empty-password false: sofia_reg.c:3327-3330,
    where a user with no password would otherwise be let in at l.3333-3336)."""
    sipp_available()
    _, real = switches
    port = real.sip_port("external")
    phone = sipp.place_call("uac_register", port, "register", timeout=20, user=PHONE.user,
                            domain="cablenet.example", password="Phone-2001-pw", expect="200")  # fmt: skip
    assert phone.completed, phone.output
    for box in ("suggestions", "after_hours"):
        for password in ("", "guess"):
            run = sipp.place_call("uac_register", port, "register", timeout=20, user=box,
                                  domain="cablenet.example", password=password, expect="403")  # fmt: skip
            # sipp's error log says what came instead ("... while expecting '403' ...").
            assert run.completed, (box, password, [ln for ln in run.output.splitlines() if "expecting" in ln])
