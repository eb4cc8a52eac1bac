"""What the switch a conf directory belongs to accepts, read from that directory.

A tenant's ``timezone`` is the name FreeSWITCH looks up in its own zone table,
``autoload_configs/timezones.conf.xml`` (switch_time.c:1379-1394, loaded at
:1414), to evaluate the dialplan's time conditions. Python's zoneinfo knows
names that table lacks (zones added after it was written, ``localtime``,
``posix/...``), and the lookup is case-sensitive. For a name it lacks, the
switch logs "Timezone not found" and compares the condition against an
uninitialised ``tm`` (switch_xml.c:3161, 3177): open or closed at random.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from fsapps.flows.model import Problem, Project

ZONES = Path("autoload_configs") / "timezones.conf.xml"


def switch_zones(conf: Path) -> set[str] | None:
    """The zone names ``conf``'s switch knows; None when it has no readable zone table."""
    try:
        root = ET.parse(conf / ZONES).getroot()
    except (OSError, ET.ParseError):
        return None
    return {z.get("name") or "" for z in root.iter("zone")} - {""}


def timezone_problems(project: Project, zones: set[str], conf: Path) -> list[Problem]:
    return [
        Problem(
            t.field_where.get("timezone", t.where),
            f"timezone {t.timezone!r} is not in {conf / ZONES}: the switch would evaluate this"
            " tenant's time conditions against no time at all (expected a zone that file names)",
        )
        for t in project.tenants
        if t.timezone not in zones
    ]
