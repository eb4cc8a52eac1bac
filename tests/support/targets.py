"""One scenario, two switches: the real FreeSWITCH and fsapps.sim.

``Extensions`` are written once and become XML for the real switch (in
dialplan/public/, read after the vanilla ``unloop`` and ``outside_call``
extensions, as in the recorded traces) or a StaticDialplan for the
emulator, which runs the same two vanilla steps first.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from xml.sax.saxutils import quoteattr

import pytest

from fsapps.esl.client import Connection
from fsapps.sim.dialplan import StaticDialplan
from fsapps.sim.switch import Switch
from fsapps.testing.freeswitch import RealSwitch, find_prefix

Extensions = list[tuple[str, list[tuple[str, str]]]]  # (destination regex, actions)

VANILLA_PUBLIC_PRELUDE = [
    ("set", "outside_call=true"),
    ("export", "RFC2822_DATE=${strftime(%a, %d %b %Y %T %z)}"),
]

HOW_TO_BUILD = "no FreeSWITCH build: run ../shared/freeswitch/build.sh (or set FSAPPS_FREESWITCH_PREFIX)"


def to_xml(extensions: Extensions) -> str:
    out = ["<include>"]
    for i, (pattern, actions) in enumerate(extensions):
        out.append(f'  <extension name="fsapps_test_{i}">')
        out.append(f'    <condition field="destination_number" expression={quoteattr(pattern)}>')
        for app, data in actions:
            attr = f" data={quoteattr(data)}" if data else ""
            out.append(f"      <action application={quoteattr(app)}{attr}/>")
        out.append("    </condition>\n  </extension>")
    out.append("</include>\n")
    return "\n".join(out)


def to_static(extensions: Extensions) -> StaticDialplan:
    dp = StaticDialplan()
    for pattern, actions in extensions:
        dp.add("public", pattern, [*VANILLA_PUBLIC_PRELUDE, *actions])
    return dp


class Target:
    def __init__(self, name: str, host: str, port: int, password: str) -> None:
        self.name, self.host, self.port, self.password = name, host, port, password

    def connect(self) -> Connection:
        c = Connection(self.host, self.port, self.password)
        c.connect()
        return c


def real_switch_available() -> bool:
    if find_prefix() is not None:
        return True
    if os.environ.get("CI"):
        pytest.fail(f"{HOW_TO_BUILD}; CI must run the acceptance tier on the real switch")
    pytest.skip(HOW_TO_BUILD)


@contextmanager
def side_by_side(sim: Switch, real: RealSwitch) -> Iterator[dict[str, Target]]:
    """Start both switches and name their Event Sockets; stop both however the test ends."""
    try:
        sim.start()
        real.start()
        yield {
            "sim": Target("sim", "127.0.0.1", sim.port, sim.password),
            "real": Target("real", "127.0.0.1", real.esl_port, real.password),
        }
    finally:
        sim.stop()
        real.cleanup()


@contextmanager
def both(extensions: Extensions, speed: float = 1.0) -> Iterator[dict[str, Target]]:
    """The emulator and the real switch, each with these extensions."""
    real_switch_available()
    sim = Switch(dialplan=to_static(extensions), speed=speed, password="sim-" + os.urandom(4).hex())
    real = RealSwitch.from_env(files={"dialplan/public/00_fsapps_test.xml": to_xml(extensions)})
    with side_by_side(sim, real) as targets:
        yield targets
