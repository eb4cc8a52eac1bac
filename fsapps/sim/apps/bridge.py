"""Bridging two legs: the bridge application (mod_dptools.c:3478) and
switch_ivr_multi_threaded_bridge (switch_ivr_bridge.c:1613)."""

from __future__ import annotations

from fsapps.sim.apps.calls import park_loop, session_transfer
from fsapps.sim.apps.recording import bridge_changed
from fsapps.sim.apps.registry import app, is_true
from fsapps.sim.channel import STATE_NUMBER, Channel

# switch_ivr_originate.c:4063-4085: DIALSTATUS for a failed originate.
DIALSTATUS = {
    "ORIGINATOR_CANCEL": "CANCEL",
    "USER_BUSY": "BUSY",
    "NO_ANSWER": "NOANSWER",
    "DESTINATION_OUT_OF_ORDER": "INVALIDARGS",
    "INVALID_PROFILE": "INVALIDARGS",
    "CALL_REJECTED": "DONTCALL",
}

# switch_channel.c:4950 switch_channel_handle_cause: these never end the caller's call.
ALWAYS_CONTINUE = ("NO_ANSWER", "NO_USER_RESPONSE", "ORIGINATOR_CANCEL")


def handle_cause(ch: Channel, cause: str) -> None:
    """After a failed bridge: continue the dialplan or hang up with the cause."""
    if cause == "ATTENDED_TRANSFER" or not ch.up or ch.transfer_to:
        return
    failure = ch.get_var("failure_causes")
    if failure and cause not in failure.split(","):
        return
    cont = ch.get_var("continue_on_fail")
    if cont is not None:
        if is_true(cont) or cause in cont.split(","):
            return
    elif cause in ALWAYS_CONTINUE:
        return
    ch.hangup(cause)


@app("bridge")
def bridge_app(ch: Channel, data: str) -> None:
    from fsapps.sim.originate import originate

    if not data.strip():
        return
    ch.set_var("originate_disposition", "failure")
    ch.set_var("DIALSTATUS", "INVALIDARGS")
    result = originate(ch.switch, data, caller=ch)
    if result.channel is None:
        cause = result.cause
        ch.set_var("originate_disposition", cause)
        ch.set_var("DIALSTATUS", DIALSTATUS.get(cause, cause))
        ch.set_var("originate_failed_cause", cause)
        ch.note(f"bridge failed: {cause}")
        handle_cause(ch, cause)
        return
    peer = result.channel
    ch.set_var("originate_disposition", "SUCCESS")
    ch.set_var("DIALSTATUS", "SUCCESS")
    if peer.answered and not ch.answered:
        ch.mark_answered()
    bridge_legs(ch, peer)
    after_bridge(ch, peer)


def bridge_legs(a: Channel, b: Channel) -> None:
    """A runs the bridge until either leg leaves; CHANNEL_BRIDGE/UNBRIDGE fire on A only."""
    now = a.switch.clock.micros()
    left = [x.bridged_to for x in (a, b) if x.bridged_to is not None and x.bridged_to not in (a, b)]
    a.bridged_to, b.bridged_to = b, a
    for old in left:
        old.kick()  # its own bridge with one of these legs is over (_bridge_wake)
    a.bridge_side, b.bridge_side = "a", "b"
    a.profile.times["bridged"] = b.profile.times["bridged"] = now
    if a.other_profile is None or a.other_profile.uuid != b.uuid:
        a.other_type, a.other_profile = "originatee", b.profile.clone()
        b.other_type, b.other_profile = "originator", a.profile.originator_clone()
    for x, y in ((a, b), (b, a)):
        x.set_var("bridge_to", y.uuid)
        x.set_var("last_bridge_to", y.uuid)
        x.set_var("bridge_channel", y.name)
        x.set_var("bridge_uuid", y.uuid)
        x.set_var("signal_bond", y.uuid)
    a.fire("CHANNEL_BRIDGE", before=[("Bridge-A-Unique-ID", a.uuid), ("Bridge-B-Unique-ID", b.uuid)])
    if b.running_state != "CS_EXCHANGE_MEDIA":
        b.running_state = "CS_EXCHANGE_MEDIA"
        b.state_number = STATE_NUMBER["CS_EXCHANGE_MEDIA"]
        b.fire("CHANNEL_STATE")
    a.note(f"bridged to {b.name}")
    b.note(f"bridged to {a.name}")
    bridge_changed(a, True)
    bridge_changed(b, True)
    b.kick()
    b.watchers.add(a)  # a hangup or DTMF on B wakes the bridge running on A
    a.busy += 1
    try:
        while a.up and b.up and a.bridged_to is b:
            why = a.wait(float("inf"), lambda: _bridge_wake(a, b))
            if why == "dtmf":
                _pass_dtmf(a, b)
                continue
            if why == "break":
                a.break_flag = False
                continue
            break
    finally:
        a.busy -= 1
        b.watchers.discard(a)
    _unbridge(a, b)


def _bridge_wake(a: Channel, b: Channel) -> str | None:
    if not b.up:
        return "peer"
    if a.bridged_to is not b:
        return "unbridged"
    if b.soft_execute is not None or b.transfer_to or b.bridged_to is not a:
        # The peer was taken elsewhere (uuid_bridge sets CF_TRANSFER and a new state on it,
        # switch_ivr_bridge.c:2168-2212): the bridge ends, neither leg hangs up.
        return "unbridged"
    if b.dtmf:
        return "dtmf"
    return a.interruption(dtmf=True)


def _pass_dtmf(a: Channel, b: Channel) -> None:
    """The bridge takes digits from each leg and sends them to the other."""
    for src, dst in ((a, b), (b, a)):
        while src.dtmf:
            d = src.take_dtmf()
            if d and dst.endpoint is not None and hasattr(dst.endpoint, "on_dtmf"):
                dst.endpoint.on_dtmf(dst, d)


def _unbridge(a: Channel, b: Channel) -> None:
    if a.bridged_to is b:
        a.bridged_to = None
    if b.bridged_to is a:
        b.bridged_to = None
    a.set_var("bridge_to", None)
    b.set_var("bridge_to", None)
    bridge_changed(a, False)
    bridge_changed(b, False)
    # br:1816-1822: only a leg that hung up gives the other its cause (none when a
    # uuid_bridge took it away: seen on 1.10.12).
    if b.hangup_cause:
        a.set_var("bridge_hangup_cause", b.hangup_cause)
    if a.hangup_cause:
        b.set_var("bridge_hangup_cause", a.hangup_cause)
    a.fire("CHANNEL_UNBRIDGE", before=[("Bridge-A-Unique-ID", a.uuid), ("Bridge-B-Unique-ID", b.uuid)])
    b.kick()


def after_bridge(a: Channel, b: Channel) -> None:
    """br:1897-1946: what the A leg does when its peer has gone."""
    if not a.up or a.soft_execute is not None or a.transfer_to:
        return  # br:1897: a leg itself moved on (CF_TRANSFER / CF_REDIRECT) does nothing here
    if a.get_var("hangup_after_bridge") == "explicit":
        a.hangup(b.hangup_cause or "NORMAL_CLEARING")
    elif is_true(a.get_var("park_after_bridge")):
        park_loop(a)
    elif target := a.get_var("transfer_after_bridge"):
        ext, _, rest = target.partition(":")
        dp, _, ctx = rest.partition(":")
        session_transfer(a, ext, dp, ctx)
    elif is_true(a.get_var("hangup_after_bridge")):
        a.hangup(b.hangup_cause or "NORMAL_CLEARING")


def b_side_left_alone(b: Channel, a: Channel) -> None:
    """audio_bridge_on_exchange_media (br:969): the B leg when A has gone."""
    b.set_var("last_bridge_hangup_cause", a.hangup_cause or "NORMAL_CLEARING")
    if is_true(b.get_var("park_after_bridge")) or b.get_var("transfer_after_bridge"):
        return
    b.hangup("NORMAL_CLEARING" if b.answered else "ORIGINATOR_CANCEL")
