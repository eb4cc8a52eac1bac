"""What a transfer leaves in a channel's events, on the real FreeSWITCH and on the emulator.

switch_ivr_session_transfer (switch_ivr.c:2163) gives the channel a new caller
profile (a clone, switch_caller.c:110): the old destination becomes its RDNIS,
its index is the next one, its Transfer-Source is ``<epoch>:<the new profile's
own id>:bl_xfer:<ext>/<context>/<dialplan>``, its transfer and bridged times start
at 0 and it carries no Other-Leg; max_forwards counts the transfer down and
transfer_history keeps every one. uuid_bridge steps both profiles the same way
(switch_ivr_bridge.c:2121). Measured on 1.10.12, the events after a dialplan
``transfer`` and after ``uuid_transfer`` from an inbound Event Socket must read
the same on both switches, run-specific values (times, UUIDs) aside.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest

from fsapps.esl import codec
from tests.support.targets import Target, both
from tests.support.waiting import wait_for

AFTER = "9409"
EXTENSIONS = [
    # The sleep parts the new profile's creation from the channel's (profile_start_* below).
    (r"^9401$", [("sleep", "300"), ("transfer", f"{AFTER} XML public")]),
    # Dialplan and context left out: both are the profile's ("xml" as mod_loopback spells it).
    (r"^9402$", [("transfer", "9403")]),
    (r"^9403$", [("transfer", f"{AFTER} XML public")]),
    (r"^9404$", [("park", "")]),
    (r"^9405$", [("answer", ""), ("park", "")]),
    # One transfer left is none: switch_ivr.c:2182-2187 ends the call instead.
    (r"^9406$", [("set", "max_session_transfers=1"), ("transfer", f"{AFTER} XML public")]),
    (rf"^{AFTER}$", [("log", "INFO transferred"), ("hangup", "")]),
]

# Not CHANNEL_UNBRIDGE: uuid_transfer sets CF_TRANSFER (switch_ivr.c:2256) before the new
# profile (l.2293), and the bridge may end in between and report the old one.
WATCHED = ["CHANNEL_EXECUTE", "CHANNEL_PARK", "CHANNEL_BRIDGE", "CHANNEL_HANGUP_COMPLETE"]
VARIABLES = ("variable_transfer_history", "variable_transfer_source", "variable_max_forwards")
CHANNEL = ("Channel-HIT-Dialplan",)
TIMES = re.compile(r"-(Time|Last-Hold|Hold-Accum)$")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
EPOCH = re.compile(r"\b1[0-9]{9}:")

Outline = list[tuple[str, str, dict[str, str]]]


def profile_of(ev: codec.Event, legs: dict[str, str]) -> dict[str, str]:
    """The caller-profile headers of an event, with run-specific values named.

    A time reads "0" or "<time>"; a UUID by whose it is (``legs``) or "<uuid>" (a
    caller profile's own id); the epoch in a transfer source "<epoch>".
    """
    out: dict[str, str] = {}
    for name, value in ev.fields.items():
        if not (name.startswith(("Caller-", "Other-")) or name in VARIABLES or name in CHANNEL):
            continue
        if name.endswith("-Channel-Progress-Media-Time"):
            # Not the transfer's: the emulator marks a loopback leg pre-answered when it
            # answers (a separate, known difference), the real switch does not.
            continue
        if TIMES.search(name):
            value = "0" if value == "0" else "<time>"
        value = UUID.sub(lambda m: legs.get(m.group(0), "<uuid>"), value)
        out[name] = EPOCH.sub("<epoch>:", value)
    if (start := ev.get("variable_profile_start_uepoch")) is not None:
        # The CDR's profile start is the current profile's (switch_channel.c:4670-4674).
        mark = {
            ev.get("Caller-Channel-Created-Time"): "<created>",
            ev.get("Caller-Profile-Created-Time"): "<profile>",
        }
        out["variable_profile_start_uepoch"] = mark.get(start, "<time>")
    return out


class Watch:
    """The watched events of one switch, as they arrive."""

    def __init__(self, target: Target) -> None:
        self.esl = target.connect()
        self.events: list[codec.Event] = []
        self.esl.on("*", self.events.append)
        self.esl.subscribe(WATCHED)

    def of(self, pick: Callable[[codec.Event], bool]) -> list[codec.Event]:
        return [ev for ev in list(self.events) if ev.name in WATCHED and pick(ev)]

    def outline(self, uuid: str, legs: dict[str, str]) -> Outline:
        return [
            (ev.name, ev.get("Application") or "", profile_of(ev, legs))
            for ev in self.of(lambda ev: ev.uuid == uuid)
        ]

    def close(self) -> None:
        self.esl.api("hupall")
        self.esl.stop()


def b_leg(watch: Watch, dest: str) -> str:
    """The UUID of the loopback leg that runs ``dest`` in the dialplan, once it has an event."""
    first = wait_for(lambda: watch.of(lambda ev: ev.get("Channel-Name") == f"loopback/{dest}-b"), 10)
    assert first, f"no event from loopback/{dest}-b"
    return first[0].uuid or ""


def hangup_complete(watch: Watch, uuid: str) -> list[codec.Event]:
    return watch.of(lambda ev: ev.name == "CHANNEL_HANGUP_COMPLETE" and ev.uuid == uuid)


def hung_up(watch: Watch, uuid: str) -> bool:
    return bool(wait_for(lambda: hangup_complete(watch, uuid), 10))


def dialplan_transfer(target: Target, dest: str) -> Outline:
    watch = Watch(target)
    try:
        watch.esl.bgapi(f"originate {{origination_caller_id_number=5551001}}loopback/{dest}/public &park()")
        leg = b_leg(watch, dest)
        assert hung_up(watch, leg), f"{target.name}: loopback/{dest}-b never hung up"
        return watch.outline(leg, {leg: "<self>"})
    finally:
        watch.close()


def api_transfer(target: Target) -> Outline:
    watch = Watch(target)
    try:
        watch.esl.bgapi("originate {origination_caller_id_number=5551002}loopback/9404/public &park()")
        leg = b_leg(watch, "9404")
        assert wait_for(lambda: watch.of(lambda ev: ev.name == "CHANNEL_PARK" and ev.uuid == leg), 10)
        assert watch.esl.api(f"uuid_transfer {leg} {AFTER} XML public").startswith("+OK")
        assert hung_up(watch, leg), f"{target.name}: the transferred leg never hung up"
        return watch.outline(leg, {leg: "<self>"})
    finally:
        watch.close()


def bridged_transfer(target: Target) -> tuple[Outline, Outline]:
    """uuid_bridge two parked legs, then uuid_transfer the first: both legs' outlines."""
    watch = Watch(target)
    try:
        a, b = (
            watch.esl.bgapi(f"originate {{origination_caller_id_number={n}}}loopback/9405/public &park()")
            .get(timeout=10)
            .split()[-1]
            for n in ("1001", "1002")
        )

        def parked() -> bool:
            return {a, b} <= {ev.uuid for ev in watch.of(lambda ev: ev.name == "CHANNEL_PARK")}

        assert wait_for(parked, 10), f"{target.name}: the legs did not park"
        assert watch.esl.api(f"uuid_bridge {a} {b}").startswith("+OK")
        assert wait_for(lambda: watch.of(lambda ev: ev.name == "CHANNEL_BRIDGE" and ev.uuid == a), 10)
        assert watch.esl.api(f"uuid_transfer {a} {AFTER} XML public").startswith("+OK")
        assert hung_up(watch, a) and hung_up(watch, b), f"{target.name}: the legs never hung up"
        legs = {a: "<transferred>", b: "<peer>"}
        return watch.outline(a, legs), watch.outline(b, legs)
    finally:
        watch.close()


def differences(real: Outline, sim: Outline) -> list[str]:
    """Where the emulator's outline departs from the real switch's, readably."""
    if [e[:2] for e in real] != [e[:2] for e in sim]:
        return [f"events: real {[e[:2] for e in real]} sim {[e[:2] for e in sim]}"]
    out = []
    for (name, app, want), (_, _, got) in zip(real, sim, strict=True):
        for header in sorted(set(want) | set(got)):
            if want.get(header) != got.get(header):
                out.append(f"{name} {app}: {header} real={want.get(header)!r} sim={got.get(header)!r}")
    return out


def after_transfer(outline: Outline, index: str) -> list[tuple[str, str, dict[str, str]]]:
    """The outline from the first event that carries the profile of this index."""
    for i, (_, _, profile) in enumerate(outline):
        if profile.get("Caller-Profile-Index") == index:
            return outline[i:]
    return []


@pytest.fixture(scope="module")
def switches() -> Iterator[dict[str, Target]]:
    with both(EXTENSIONS) as targets:
        yield targets


@pytest.mark.realswitch
@pytest.mark.parametrize("how", ["dialplan", "uuid_transfer"])
def test_events_after_a_transfer_carry_the_new_profile(switches: dict[str, Target], how: str) -> None:
    run = (lambda t: dialplan_transfer(t, "9401")) if how == "dialplan" else api_transfer
    seen = {name: run(t) for name, t in switches.items()}
    after = after_transfer(seen["real"], "2")
    assert [(name, app) for name, app, _ in after][-2:] == [
        ("CHANNEL_EXECUTE", "hangup"),
        ("CHANNEL_HANGUP_COMPLETE", ""),
    ]
    assert after[-1][2]["variable_profile_start_uepoch"] == "<profile>"
    dest = "9401" if how == "dialplan" else "9404"
    for _, _, profile in after:  # what 1.10.12 shows, so that equal cannot mean equally wrong
        assert profile["Caller-Destination-Number"] == AFTER
        assert profile["Caller-RDNIS"] == dest
        assert profile["Caller-Transfer-Source"] == f"<epoch>:<uuid>:bl_xfer:{AFTER}/public/XML"
        assert profile["Caller-Channel-Transfer-Time"] == "0"
        assert profile["variable_max_forwards"] == "70"
    assert differences(seen["real"], seen["sim"]) == []


@pytest.mark.realswitch
def test_a_second_transfer_steps_the_profile_again(switches: dict[str, Target]) -> None:
    seen = {name: dialplan_transfer(t, "9402") for name, t in switches.items()}
    after = after_transfer(seen["real"], "3")
    assert after, seen["real"]
    assert after[0][2]["Caller-RDNIS"] == "9403"
    assert after[0][2]["variable_max_forwards"] == "69"
    assert after[0][2]["variable_transfer_history"] == (
        f"ARRAY::<epoch>:<uuid>:bl_xfer:9403/public/xml|:<epoch>:<uuid>:bl_xfer:{AFTER}/public/XML"
    )
    assert differences(seen["real"], seen["sim"]) == []


@pytest.mark.realswitch
def test_transferring_a_bridged_leg_drops_its_other_leg(switches: dict[str, Target]) -> None:
    seen = {name: bridged_transfer(t) for name, t in switches.items()}
    transferred, peer = seen["real"]
    after = after_transfer(transferred, "3")  # uuid_bridge made profile 2, the transfer 3
    assert after and all("Other-Type" not in profile for _, _, profile in after), transferred
    assert after[0][2]["Caller-Transfer-Source"] == f"<epoch>:<uuid>:bl_xfer:{AFTER}/public/XML"
    bridged = after_transfer(peer, "2")
    assert bridged and bridged[0][2]["Other-Type"] == "originator", peer
    assert bridged[0][2]["Other-Leg-Profile-Created-Time"] == "0"  # an originator clone's times are 0
    for real, sim in zip(seen["real"], seen["sim"], strict=True):
        assert differences(real, sim) == []


@pytest.mark.realswitch
def test_no_transfers_left_ends_the_call(switches: dict[str, Target]) -> None:
    seen = {}
    for name, target in switches.items():
        watch = Watch(target)
        try:
            watch.esl.bgapi("originate loopback/9406/public &park()")
            leg = b_leg(watch, "9406")
            assert hung_up(watch, leg), f"{name}: loopback/9406-b never hung up"
            cause = hangup_complete(watch, leg)[0].get("Hangup-Cause")
            seen[name] = (cause, watch.outline(leg, {leg: "<self>"}))
        finally:
            watch.close()
    assert seen["real"][0] == "EXCHANGE_ROUTING_ERROR"
    assert after_transfer(seen["real"][1], "2") == []  # no new profile
    assert seen["sim"][0] == seen["real"][0]
    assert differences(seen["real"][1], seen["sim"][1]) == []
