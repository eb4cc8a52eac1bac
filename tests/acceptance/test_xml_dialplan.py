"""The XML dialplan cases on the real FreeSWITCH and on the emulator, side by side.

Every case of tests/support/dialplan_cases.py is a context of its own; a
loopback call into it logs markers. Both switches must run the same markers
and end the call with the same cause, and that must be what the case says.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import gevent
import pytest

from fsapps.esl import codec
from fsapps.sim.switch import Switch
from fsapps.sim.xmldialplan import XmlDialplan
from fsapps.testing.freeswitch import RealSwitch
from tests.support.dialplan_cases import Case, cases, context_xml
from tests.support.targets import Target, real_switch_available, side_by_side

# Names for collection only: the cases depend on the time (business hours, weekdays in
# Shanghai), and the suite may reach this module many minutes after collecting it (past
# midnight in Shanghai, once): the fixture builds them afresh when the switches start.
CASES = cases(datetime.now(UTC))


@pytest.fixture(scope="module")
def targets() -> Iterator[tuple[dict[str, Target], dict[str, Case]]]:
    real_switch_available()
    now = datetime.now(UTC)
    fresh = {c.name: c for c in cases(now)}
    files = {f"dialplan/zz_case_{c.name}.xml": context_xml(c) for c in fresh.values()}
    sim = Switch(
        dialplan=XmlDialplan.from_files(files), speed=20, start=now.timestamp(), password=os.urandom(6).hex()
    )
    with side_by_side(sim, RealSwitch.from_env(files=files)) as targets:
        yield targets, fresh


def outcome(target: Target, case: Case) -> tuple[tuple[str, ...], str | None]:
    """Markers the -b leg logged and its hangup cause, for a loopback call into the case."""
    esl = target.connect()
    marks: list[str] = []
    cause: list[str] = []

    def on_event(ev: codec.Event) -> None:
        if not (ev.get("Channel-Name") or "").endswith("-b"):
            return
        if ev.name == "CHANNEL_EXECUTE" and ev.get("Application") == "log":
            marks.append(ev.get("Application-Data") or "")
        elif ev.name == "CHANNEL_HANGUP":
            cause.append(ev.get("Hangup-Cause") or "")

    esl.on("*", on_event)
    esl.subscribe(["CHANNEL_EXECUTE", "CHANNEL_HANGUP"])
    cid = f"origination_caller_id_number={case.caller},origination_caller_id_name={case.caller_name}"
    esl.bgapi(f"originate {{{cid}}}loopback/{case.dest}/{case.context} &park()")
    deadline = time.monotonic() + 10
    while not cause and time.monotonic() < deadline:
        gevent.sleep(0.05)
    esl.api("hupall")
    esl.stop()
    return tuple(marks), (cause[0] if cause else None)


@pytest.mark.realswitch
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_on_both_switches(targets: tuple[dict[str, Target], dict[str, Case]], case: Case) -> None:
    switches, fresh = targets
    case = fresh[case.name]
    seen = {name: outcome(t, case) for name, t in switches.items()}
    assert seen["real"] == (case.marks, case.cause), seen
    assert seen["sim"] == seen["real"]
