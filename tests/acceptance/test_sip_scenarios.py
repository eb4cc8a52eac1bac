"""SIP calls through the example tenants' rendered dialplan, on the real
FreeSWITCH (sipp as the caller) and on the emulator (its scripted caller),
with the same assertions.

a. IVR: a caller from an area with an outage hears the notice and keys the
   leave digit; the controller (outbound ESL) collects it and names the
   ``leave`` branch; the usage record and the CDR are in PostgreSQL.
g. Business hours closed, no controller running at all: the rendered flow
   plays the closed message and hangs up on its own.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import gevent
import pytest

from fsapps.apps.context import AppContext
from fsapps.config import ControllerSettings, Settings
from fsapps.controller import Controller
from fsapps.esl import codec
from fsapps.esl.client import InboundClient
from fsapps.flows.check import check
from fsapps.flows.install import install
from fsapps.flows.render import render
from fsapps.sim.directory import Directory
from fsapps.sim.endpoints import CallerScript
from fsapps.sim.switch import Switch
from fsapps.sim.xmlconf import load_document
from fsapps.sim.xmldialplan import XmlDialplan
from fsapps.store import selfservice
from fsapps.store.collector import CdrCollector
from fsapps.store.records import Tenant
from fsapps.testing.conversation import recording
from fsapps.testing.freeswitch import RealSwitch, free_port
from tests.support import sequences, sipp
from tests.support.targets import real_switch_available
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
OUTAGE = "Service in your area is interrupted by a fibre cut. Engineers expect to restore it by three this afternoon."


@dataclasses.dataclass
class Side:
    """One switch with its own controller (outbound) and CDR collector (inbound)."""

    name: str
    controller: Controller | None
    events: list[codec.Event]
    call: object  # (number, caller, digits, listen seconds) -> None


@contextmanager
def two_sides(root: Path, store, *, controller_up: bool = True) -> Iterator[dict[str, Side]]:
    real_switch_available()
    sipp.sipp_available()
    project = check(root, sounds=ROOT / "sounds")
    assert project.problems == []
    operator = dataclasses.replace(project.operator, sounds=str(ROOT / "sounds"))
    project = dataclasses.replace(project, operator=operator)
    stack: list = []
    sides: dict[str, Side] = {}
    scratch = tempfile.TemporaryDirectory(prefix="fsapps-sip-")
    try:
        files: dict[str, dict[str, str]] = {}
        controllers: dict[str, Controller | None] = {}
        for name in ("sim", "real"):
            controller = None
            address = f"127.0.0.1:{free_port()}"  # nobody listens: no controller at all
            if controller_up:
                ctx = AppContext(project, store=store)
                controller = Controller(
                    Settings(controller=ControllerSettings(listen="127.0.0.1", port=0)),
                    store=store,
                    context=ctx,
                ).start()
                ctx.records = controller.writer
                stack.append(controller)
                address = f"127.0.0.1:{controller.server.port}"
            controllers[name] = controller
            op = dataclasses.replace(operator, controllers=[address])
            files[name] = render(dataclasses.replace(project, operator=op))
        install(files["sim"], Path(scratch.name) / "conf")
        document = load_document(Path(scratch.name) / "conf")
        sim = Switch(
            dialplan=XmlDialplan.from_document(document), directory=Directory.from_document(document),
            speed=1.0, start=datetime.now(UTC).timestamp(), password=os.urandom(6).hex(),
        ).start()  # fmt: skip
        real = RealSwitch.from_env(prepare=lambda conf: install(files["real"], conf)).start()
        for name, host_port, password in (
            ("sim", sim.port, sim.password),
            ("real", real.esl_port, real.password),
        ):
            events: list[codec.Event] = []
            client = InboundClient("127.0.0.1", host_port, password)
            client.events.extend(["CHANNEL_EXECUTE", "CHANNEL_HANGUP"])
            client.on("*", events.append)
            if controllers[name] is not None:
                CdrCollector(client, controllers[name].writer)  # type: ignore[union-attr]
            client.start()
            stack.append(client)
            assert client.wait_connected(15), f"{name}: no Event Socket"
            sides[name] = Side(name, controllers[name], events, None)

        def sim_call(number: str, caller: str, digits: list[str], listen: float) -> None:
            ch = sim.place_call(
                number, caller_id_number=caller, script=CallerScript(keypad=digits, hangup_after=listen)
            )
            ch.destroyed.wait(listen + 30)

        def real_call(number: str, caller: str, digits: list[str], listen: float) -> None:
            if digits:
                run = sipp.place_call("uac_keys", real.sip_port("external"), number, caller=caller,
                                      wait_ms=2500, pcap=sipp.digit_pcap(digits[0]),
                                      listen_ms=int(listen * 1000) - 2500)  # fmt: skip
            else:
                run = sipp.place_call("uac_listen", real.sip_port("external"), number, caller=caller,
                                      listen_ms=int(listen * 1000))  # fmt: skip
            assert run.completed, run.output + "\n--- switch log ---\n" + real.log_tail()

        sides["sim"].call, sides["real"].call = sim_call, real_call
        stack.extend([sim, real])
        yield sides
    finally:
        for thing in reversed(stack):
            if isinstance(thing, Controller):
                thing.stop(grace=1.0)
            else:
                thing.stop()
        scratch.cleanup()


@pytest.fixture
def cablenet(store):
    with store.operator() as op:
        op.add_tenant(Tenant("cablenet", "Cablenet", "cablenet.example", "Asia/Shanghai", "zh"))
    now = datetime.now(UTC)
    with store.tenant("cablenet") as t:
        selfservice.post_outage(
            t, "prefix", "0755", OUTAGE, now - timedelta(hours=1), now + timedelta(hours=2)
        )
    return store


def billed(store, caller: str) -> list[dict]:
    """The call's usage records, found through its a-leg CDR: both must be there."""
    with store.tenant("cablenet") as t:
        return t._all(
            "SELECT u.resource_id, u.outcome FROM usage_records u JOIN cdrs c ON c.call_uuid = u.call_uuid"
            " WHERE c.caller = %s AND c.destination = '96171' AND c.leg = 'a'",
            (caller,),
        )


@pytest.mark.realswitch
def test_a_ivr_digit_reaches_the_controller_and_the_call_is_billed(cablenet) -> None:
    store = cablenet
    callers = {"sim": "075588880001", "real": "075588880002"}
    with recording() as recorder, two_sides(ROOT / "dialplan", store) as sides:
        jobs = [gevent.spawn(side.call, "96171", callers[name], ["0"], 9.0) for name, side in sides.items()]
        gevent.joinall(jobs, raise_error=True, timeout=90)
        ports = {name: side.controller.server.port for name, side in sides.items()}  # type: ignore[union-attr]
        for name, side in sides.items():
            caller = callers[name]
            mine = [e for e in side.events if e.get("Caller-Caller-ID-Number") == caller]
            heard = [e.get("Application-Data") for e in mine if e.name == "CHANNEL_EXECUTE"]
            # The notice is spoken while the controller listens for the leave digit.
            assert any(OUTAGE in (d or "") for d in heard), (name, heard)
            rows = wait_for(lambda caller=caller: billed(store, caller))
            assert ("main.outage", "leave") in {(r["resource_id"], r["outcome"]) for r in rows}, (name, rows)
    sequences.same("a", recorder.outbound(ports["sim"]), recorder.outbound(ports["real"]))


CLOSED_TENANT = """id: acme
name: Acme
domain: acme.example
timezone: UTC
language: en
access_numbers: {"5000": main}
calendars:
  office:
    weekly: {mon-sun: "09:00-17:00"}
    holidays: [HOLIDAYS]
prompts:
  open: {text: "We are open."}
  closed: {text: "Our office is closed today. Please call again tomorrow."}
"""
CLOSED_FLOW = """start: start
nodes:
  start: {type: answer, children: {_: hours}}
  hours:
    type: time_route
    data: {calendar: office}
    children: {open: open, closed: closed}
  open: {type: play, data: {prompt: open}, children: {_: bye}}
  closed: {type: play, data: {prompt: closed}, children: {_: bye}}
  bye: {type: hangup}
"""


@pytest.mark.realswitch
def test_g_closed_message_plays_with_no_controller_at_all(store, tmp_path) -> None:
    today = datetime.now(UTC).date()
    holidays = ", ".join(f'"{today + timedelta(days=d)}"' for d in (-1, 0, 1))
    root = tmp_path / "dialplan"
    (root / "acme" / "flows").mkdir(parents=True)
    (root / "operator.yaml").write_text("controllers: [127.0.0.1:9]\ntts: {engine: flite, voice: slt}\n")
    (root / "acme" / "tenant.yaml").write_text(CLOSED_TENANT.replace("HOLIDAYS", holidays))
    (root / "acme" / "flows" / "main.yaml").write_text(CLOSED_FLOW)
    with recording() as recorder, two_sides(root, store, controller_up=False) as sides:
        jobs = [gevent.spawn(side.call, "5000", "447700900001", [], 30.0) for side in sides.values()]
        gevent.joinall(jobs, raise_error=True, timeout=90)
        # Nothing for a controller to compare: neither switch tried to reach one.
        assert recorder.outbound() == []
        for name, side in sides.items():
            # The call is over; its last events may still be on their way over the Event Socket.
            wait_for(lambda side=side: any(e.name == "CHANNEL_HANGUP" for e in side.events))
            mine = [e for e in side.events if e.get("Caller-Caller-ID-Number") == "447700900001"]
            ran = [
                (e.get("Application"), e.get("Application-Data")) for e in mine if e.name == "CHANNEL_EXECUTE"
            ]
            assert ("playback", "say:Our office is closed today. Please call again tomorrow.") in ran, (
                name,
                ran,
            )
            assert not any(app == "socket" for app, _ in ran)
            hangups = [e.get("Hangup-Cause") for e in mine if e.name == "CHANNEL_HANGUP"]
            assert hangups == ["NORMAL_CLEARING"], (name, hangups)
