"""The emulator's XML dialplan against mod_dialplan_xml.c, quirk by quirk.

The cases (tests/support/dialplan_cases.py) run here on the emulator and in
tests/acceptance/test_xml_dialplan.py on the real FreeSWITCH 1.10.12.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from fsapps.sim.endpoints import CallerScript
from fsapps.sim.events import SimEvent
from fsapps.sim.switch import Switch
from fsapps.sim.xmldialplan import XmlDialplan, asterisk_pattern, substitute
from tests.support.dialplan_cases import Case, cases, context_xml

NOW = datetime.now(UTC)
CASES = cases(NOW)


@pytest.fixture(scope="module")
def switch():
    files = {f"{c.name}.xml": context_xml(c) for c in CASES}
    sw = Switch(dialplan=XmlDialplan.from_files(files), speed=50, start=NOW.timestamp()).start()
    yield sw
    sw.stop()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(switch: Switch, case: Case) -> None:
    events: list[SimEvent] = []
    switch.watchers.append(events.append)
    try:
        ch = switch.place_call(
            case.dest,
            context=case.context,
            caller_id_number=case.caller,
            caller_id_name=case.caller_name,
            script=CallerScript(),
        )
        assert ch.destroyed.wait(20), switch.call_log(ch.uuid)
    finally:
        switch.watchers.remove(events.append)
    marks = tuple(
        e.get("Application-Data")
        for e in events
        if e.uuid == ch.uuid and e.name == "CHANNEL_EXECUTE" and e.get("Application") == "log"
    )
    assert (marks, ch.hangup_cause) == (case.marks, case.cause), switch.call_log(ch.uuid)


@pytest.mark.parametrize(
    ("pattern", "number", "hit"),
    [("_1XX", "100", True), ("_1XX", "1000", False), ("_NXX", "100", False), ("_9.", "9123", True)],
)
def test_asterisk_patterns(pattern: str, number: str, hit: bool) -> None:
    assert bool(re.search(asterisk_pattern(pattern[1:]), number)) is hit


def test_substitution_leaves_variables_for_later() -> None:
    m = re.search("^(t)(1)(4)$", "t14")
    assert substitute("$1 ${2} $4 $x $$1 ${x}", m) == "t 1  $x $t ${x}"
