"""``controller_choice: spread`` on both switches: each call goes to the controller its
UUID picks when the switch expands the ``socket`` application's data (fsapps.flows.render
socket_targets), and to the next one when that one is down."""

from __future__ import annotations

import gevent
import gevent.event

from fsapps.config import ControllerSettings, Settings
from fsapps.controller import Controller
from fsapps.flows.render import HEX, socket_targets
from fsapps.testing.freeswitch import free_port
from tests.support.targets import both

CALLS = 8


def _calls(target, count: int) -> None:
    esl = target.connect()
    try:
        jobs = [
            esl.bgapi(f"originate {{origination_caller_id_number={caller}}}loopback/7300/public &park()")
            for caller in range(447700900000, 447700900000 + count)
        ]
        assert len(jobs) == count
    finally:
        esl.stop()


def test_each_call_goes_to_the_controller_its_uuid_picks_and_on_to_the_next() -> None:
    took: dict[str, list[tuple[int, str]]] = {"sim": [], "real": []}
    done = gevent.event.Event()
    where, expected = "", CALLS

    def app(index: int):
        def flow(session, args: str) -> None:
            took[where].append((index, session.getVariable("uuid") or ""))
            if len(took[where]) >= expected:
                done.set()
            session.hangup()

        return flow

    ports = [free_port(), free_port()]
    dead = free_port()  # nobody listens: its calls go on to the next controller
    controllers = [
        Controller(Settings(controller=ControllerSettings(listen="127.0.0.1", port=port)),
                   applications={"flow": app(i)}).start()
        for i, port in enumerate(ports)
    ]  # fmt: skip
    listed = [f"127.0.0.1:{ports[0]}", f"127.0.0.1:{dead}", f"127.0.0.1:{ports[1]}"]
    data = socket_targets(listed, "flow", "spread") + " async full"
    extensions = [(r"^7300$", [("answer", ""), ("socket", data), ("hangup", "")])]
    try:
        with both(extensions) as targets:
            for name, target in targets.items():
                where = name
                done.clear()
                _calls(target, CALLS)
                assert done.wait(60), (name, took[name])
    finally:
        for c in controllers:
            c.stop(grace=1.0)
    for name, calls in took.items():
        assert len(calls) == CALLS, (name, calls)
        for index, uuid in calls:
            # The list starts at controller uuid[-1] % 3: the dead one's calls go to the next.
            start = HEX.index(uuid[-1]) % 3
            assert index == {0: 0, 1: 1, 2: 1}[start], (name, uuid, index)
