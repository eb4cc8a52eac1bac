"""``fsapps demo``: the emulator, the controller and a few scripted callers.

Everything runs in this process on loopback ports chosen at start; nothing
to install. Each caller's call is printed as they lived it: what they
heard, what they pressed, how it ended.
"""

from __future__ import annotations

import secrets
import sys
from dataclasses import dataclass
from typing import TextIO

from fsapps.config import Settings
from fsapps.controller import Controller
from fsapps.sim.dialplan import StaticDialplan
from fsapps.sim.endpoints import CallerScript
from fsapps.sim.switch import Switch

DEMO_NUMBER = "1000"


@dataclass
class DemoCaller:
    name: str
    number: str
    story: str
    script: CallerScript


CALLERS = [
    DemoCaller("Alice", "5551001", "picks sales", CallerScript(answers=[("For sales", "1")])),
    DemoCaller(
        "Bob",
        "5551002",
        "mistypes, then picks support",
        CallerScript(answers=[("For sales", "7"), ("For sales", "2")]),
    ),
    DemoCaller("Carol", "5551003", "hangs up during the greeting", CallerScript(hangup_after=1.5)),
]


def demo_dialplan(controller_port: int) -> StaticDialplan:
    """The access number hands calls to the controller; if none answers, a native message."""
    return StaticDialplan().add(
        "public",
        rf"^{DEMO_NUMBER}$",
        [
            ("set", "fsapps_args=Welcome to the fsapps demo line."),
            ("set", "socket_resume=true"),
            ("socket", f"127.0.0.1:{controller_port}/welcome async full"),
            ("playback", "say:Sorry, all our lines are busy. Please call again later."),
            ("hangup", "NORMAL_CLEARING"),
        ],
    )


def describe(entry: str) -> str | None:
    """A channel log line as the caller experienced it, or None for plumbing."""
    if entry.startswith("heard (tts) "):
        return f'heard "{entry[len("heard (tts) ") :]}"'
    if entry.startswith("heard say:"):
        return f'heard "{entry[len("heard say:") :]}"'
    if entry.startswith("heard "):
        return f"heard {entry[len('heard ') :]}"
    if entry.startswith("caller pressed "):
        return f"pressed {entry[len('caller pressed ') :]}"
    if entry == "answered":
        return "answered"
    if entry.startswith("socket connected"):
        return "handed to the fsapps controller"
    if entry.startswith("socket released"):
        return "handed back to the dialplan"
    if entry == "caller hung up":
        return "hung up"
    if entry.startswith("hangup "):
        return f"call ended: {entry[len('hangup ') :]}"
    return None


def run(speed: float = 10.0, out: TextIO = sys.stdout) -> int:
    settings = Settings()
    settings.controller.port = 0
    controller = Controller(settings).start()
    switch = Switch(
        dialplan=demo_dialplan(controller.server.port),
        speed=speed,
        password=secrets.token_urlsafe(16),
    ).start()
    try:
        print(
            f"fsapps demo: emulated FreeSWITCH on 127.0.0.1:{switch.port}, controller on "
            f"127.0.0.1:{controller.server.port}; {len(CALLERS)} callers dial {DEMO_NUMBER}.\n",
            file=out,
        )
        channels = [
            switch.place_call(DEMO_NUMBER, caller_id_number=c.number, caller_id_name=c.name, script=c.script)
            for c in CALLERS
        ]
        for ch in channels:
            if not ch.destroyed.wait(120 / speed + 10):
                print(f"call {ch.uuid} did not finish", file=out)
                return 1
        for i, (caller, ch) in enumerate(zip(CALLERS, channels, strict=True), 1):
            record = switch.history[ch.uuid]
            t0 = record.log[0][0]
            print(
                f"Call {i}: {caller.name} ({caller.number}) dials {DEMO_NUMBER} and {caller.story}", file=out
            )
            for t, entry in record.log:
                text = describe(entry)
                if text:
                    print(f"  {t - t0:6.1f}s  {text}", file=out)
            talk = record.variables.get("billsec", "0")
            print(f"          billed {talk}s, hangup cause {record.hangup_cause}\n", file=out)
        return 0
    finally:
        switch.stop()
        controller.stop(grace=1)
