"""Originating legs: dial strings, endpoints, ring, answer or fail.

Follows switch_ivr_originate.c: ``{global vars}`` then ``[leg vars]`` per
endpoint, ``,`` rings legs at once (first answer wins, the others go with
LOSE_RACE), ``|`` tries the next group when one fails. Endpoints:
``user/<id>`` (a registered directory user), ``sofia/<profile>/<user>@host``
(the user part names an emulated phone), ``sofia/gateway/<gw>/<number>`` (a
gateway's far end: Switch.register_gateway), ``loopback/<ext>[/<context>]``
(mod_loopback's -a/-b pair), ``error/<cause>``.
"""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fsapps.sim import dialstring
from fsapps.sim.channel import CAUSES, STATE_NUMBER, CallerProfile, Channel, Codec

if TYPE_CHECKING:
    from fsapps.sim.switch import Switch

DEFAULT_TIMEOUT = 60.0  # switch_ivr_originate.c: timelimit_sec default


@dataclass
class OriginateResult:
    channel: Channel | None
    cause: str


@dataclass
class LegSpec:
    endpoint: str
    variables: dict[str, str]


def parse_dialstring(dial: str) -> tuple[dict[str, str], list[list[LegSpec]]]:
    """The global variables and the groups of legs (fsapps.sim.dialstring, as the switch reads it).
    An enterprise originate (``:_:``) rings every part's first group at once."""
    parsed = dialstring.parse(dial)
    parts = [dialstring.parse(d) for d in parsed.enterprise] if parsed.enterprise else [parsed]
    variables: dict[str, str] = {}
    groups: list[list[LegSpec]] = []
    for part in parts:
        variables.update(part.variables)
        for group in part.groups if not parsed.enterprise else part.groups[:1]:
            legs = [LegSpec(leg.endpoint.strip(), leg.variables) for leg in group]
            if parsed.enterprise and groups:
                groups[0].extend(legs)
            elif legs:
                groups.append(legs)
    return variables, groups


def _timeout(vars_: dict[str, str], caller: Channel | None, default: float | None) -> float:
    for key in ("leg_timeout", "originate_timeout", "call_timeout"):
        v = vars_.get(key) or (caller.get_var(key) if caller is not None and key == "call_timeout" else None)
        if v:
            try:
                return float(v)
            except ValueError:
                pass
    return default if default is not None else DEFAULT_TIMEOUT


def originate(
    switch: Switch,
    dialstring: str,
    *,
    caller: Channel | None = None,
    timeout: float | None = None,
    cid_number: str | None = None,
    cid_name: str | None = None,
) -> OriginateResult:
    """switch_ivr_originate: returns the answered leg, or the cause it failed with."""
    global_vars, groups = parse_dialstring(dialstring)
    if not groups:
        return OriginateResult(None, "DESTINATION_OUT_OF_ORDER")
    last_cause = "NO_ROUTE_DESTINATION"
    for group in groups:
        legs: list[Channel] = []
        limits: list[float] = []
        cause = None
        for spec in group:
            vars_ = {**global_vars, **spec.variables}
            leg_or_cause = new_leg(switch, spec.endpoint, vars_, caller, cid_number, cid_name)
            if isinstance(leg_or_cause, str):
                cause = leg_or_cause
                continue
            legs.append(leg_or_cause)
            limits.append(_timeout(vars_, caller, timeout))
        if not legs:
            last_cause = cause or last_cause
            continue
        winner, cause = _ring(switch, legs, caller, max(limits))
        if winner is not None:
            return OriginateResult(winner, "SUCCESS")
        last_cause = cause
        if caller is not None and not caller.up:
            break
    return OriginateResult(None, last_cause)


def _ring(
    switch: Switch, legs: list[Channel], caller: Channel | None, limit: float
) -> tuple[Channel | None, str]:
    clock = switch.clock
    start = clock.now()
    waiter = caller if caller is not None else legs[0]
    while True:
        left = limit - (clock.now() - start)
        why = _wait_any(waiter, legs, left) if left > 0 else None
        if why == "ringing":
            if caller is not None and caller.get_var("ignore_early_media") != "true":
                caller.mark_ring_ready()
            continue
        break
    if why == "answered":
        winner = next(leg for leg in legs if leg.answered)
        leg_consume_media(winner)
        for leg in legs:
            if leg is not winner:
                leg.hangup("LOSE_RACE")
        return winner, "SUCCESS"
    if why == "caller_gone":
        for leg in legs:
            leg.hangup("ORIGINATOR_CANCEL")
        return None, "ORIGINATOR_CANCEL"
    if why == "failed":
        causes = [leg.hangup_cause or "NORMAL_CLEARING" for leg in legs]
        return None, causes[0]
    for leg in legs:
        leg.hangup("NO_ANSWER")
    return None, "NO_ANSWER"


def _wait_any(waiter: Channel, legs: list[Channel], seconds: float) -> str | None:
    """Wait on every leg at once: each leg's kick also wakes the waiter."""
    for leg in legs:
        leg.watchers.add(waiter)
    try:

        def check() -> str | None:
            if waiter.hangup_cause is not None and waiter not in legs:
                return "caller_gone"
            if any(leg.answered for leg in legs):
                return "answered"
            if all(not leg.up for leg in legs):
                return "failed"
            if (
                waiter not in legs
                and not waiter.ring_ready
                and not waiter.answered
                and any(leg.ring_ready for leg in legs)
            ):
                return "ringing"
            return None

        return waiter.wait(seconds, check, stop_on_hangup=False)
    finally:
        for leg in legs:
            leg.watchers.discard(waiter)


def _profile(
    switch: Switch,
    name: str,
    dest: str,
    caller: Channel | None,
    vars_: dict[str, str],
    cid_number: str | None,
    cid_name: str | None,
    source: str,
    context: str = "default",
) -> CallerProfile:
    # switch_ivr_originate.c:2951-2972: with no calling session and no value the
    # name is empty and the number 0000000000; the callee is "Outbound Call" at
    # the sanitised destination.
    cp = caller.profile if caller is not None else None
    num = (
        vars_.get("origination_caller_id_number")
        or cid_number
        or (cp.caller_id_number if cp else "0000000000")
    )
    nm = vars_.get("origination_caller_id_name") or cid_name or (cp.caller_id_name if cp else "")
    # mod_sofia's outgoing channel sanitises its profile's destination and caller ID as it
    # would a number (mod_sofia.c:5080-5084): whatever follows the last '/' or ':'.
    sofia = sanitize_number if source == "mod_sofia" else (lambda text: text)
    return CallerProfile(
        uuid="",
        chan_name=name,
        destination_number=sofia(dest),
        context=context,
        caller_id_name=sofia(nm),
        caller_id_number=sofia(num),
        orig_caller_id_name=nm,
        orig_caller_id_number=num,
        callee_id_name=vars_.get("origination_callee_id_name", "Outbound Call"),
        callee_id_number=vars_.get("origination_callee_id_number", sanitize_number(dest)),
        dialplan="xml" if source == "mod_loopback" else "XML",
        network_addr="127.0.0.1" if source == "mod_sofia" else "",
        ani=num,
        source=source,
        direction="outbound",
        logical_direction="outbound",
    )


def _outgoing(ch: Channel) -> None:
    """switch_core_session_outgoing_channel + the new session's first states (fs-traces s06)."""
    ch.has_profile = True
    ch.running_state = "CS_NONE"
    ch.state_number = 1
    ch.fire("CHANNEL_OUTGOING", extended=False)
    ch.running_state = "CS_INIT"
    ch.state_number = 2
    ch.fire("CHANNEL_CREATE")
    ch.fire("CHANNEL_ORIGINATE")


def new_leg(
    switch: Switch,
    endpoint: str,
    vars_: dict[str, str],
    caller: Channel | None,
    cid_number: str | None = None,
    cid_name: str | None = None,
) -> Channel | str:
    tech, _, rest = endpoint.partition("/")
    tech = tech.lower()
    uid = vars_.get("origination_uuid") or str(uuidlib.uuid4())
    if uid in switch.channels:
        return "DESTINATION_OUT_OF_ORDER"
    if tech == "error":
        cause = rest.strip().upper() or "NORMAL_CLEARING"
        return cause if cause in CAUSES else "NORMAL_CLEARING"
    if tech == "loopback":
        return _loopback(switch, rest, vars_, caller, cid_number, cid_name, uid)
    if tech == "user":
        user = rest.split("@", 1)[0]
        ep = switch.find_user(user)
        if ep is None:
            return "USER_NOT_REGISTERED"
        name = f"sofia/internal/{user}@127.0.0.1:5060"
        dest = user
        # mod_dptools.c:4354-4358, 4411-4412 (user_outgoing_channel): the leg's presence_id is
        # the dialled user at the dialled domain (else the switch's), unless one is given.
        domain = rest.split("@", 1)[1] if "@" in rest else switch.globals.get("domain", "")
        if "presence_id" not in vars_:
            vars_ = {**vars_, "presence_id": f"{user}@{domain}"}
    elif tech == "sofia" and rest.lower().startswith("gateway/"):
        # mod_sofia.c:4774-4797 (sofia_outgoing_channel): sofia/gateway/<gw>/<number>; the leg is
        # named after the gateway's profile and the number (sofia_glue.c:65, sofia_glue_attach_private)
        gw, _, number = rest[len("gateway/") :].partition("/")
        if not gw or not number:
            return "INVALID_URL"
        found = switch.gateways.get(gw)
        if found is None:
            return "INVALID_GATEWAY"
        profile, ep = found
        dest = number.split(";", 1)[0]
        name = f"sofia/{profile}/{dest}"
        vars_ = {**vars_, "sip_gateway_name": gw}
    elif tech == "sofia":
        parts = rest.split("/", 1)
        target = parts[1] if len(parts) > 1 else parts[0]
        user = target.split("@", 1)[0].removeprefix("sip:")
        ep = switch.find_user(user)
        if ep is None:
            return "NORMAL_TEMPORARY_FAILURE"
        name = f"sofia/{parts[0]}/{target}"
        dest = user
    else:
        return "CHAN_NOT_IMPLEMENTED"
    prof = _profile(switch, name, dest, caller, vars_, cid_number, cid_name, "mod_sofia")
    ch = switch.new_channel(name=name, direction="outbound", profile=prof, uuid=uid)
    for k, v in vars_.items():
        ch.set_var(k, v)
    ch.set_var("originate_endpoint", tech)
    if caller is not None:
        for k, v in caller.exported.items():
            ch.set_var(k, v)
        ch.set_var("originating_leg_uuid", caller.uuid)  # switch_ivr_originate.c:3206
        ch.is_b_leg = True
    _outgoing(ch)
    ch.endpoint = ep
    ch.greenlet = None
    ep.attach(ch)
    return ch


def _loopback(
    switch: Switch,
    rest: str,
    vars_: dict[str, str],
    caller: Channel | None,
    cid_number: str | None,
    cid_name: str | None,
    uid: str,
) -> Channel:
    """mod_loopback: an -a leg handed to the originator and a -b leg that runs the dialplan."""
    from fsapps.sim.session import route_and_execute

    parts = rest.split("/")
    ext = parts[0]
    context = parts[1] if len(parts) > 1 and parts[1] else "default"
    name_a, name_b = f"loopback/{ext}-a", f"loopback/{ext}-b"
    prof_a = _profile(switch, name_a, rest, caller, vars_, cid_number, cid_name, "mod_loopback", context)
    prof_a.destination_number = ext
    a = switch.new_channel(name=name_a, direction="outbound", profile=prof_a, uuid=uid)
    for k, v in vars_.items():
        a.set_var(k, v)
    a.codec = Codec()
    _outgoing(a)
    prof_b = CallerProfile(
        uuid="",
        chan_name=name_b,
        destination_number=ext,
        context=context,
        caller_id_name=prof_a.caller_id_name,
        caller_id_number=prof_a.caller_id_number,
        orig_caller_id_name=prof_a.caller_id_name,
        orig_caller_id_number=prof_a.caller_id_number,
        callee_id_name=prof_a.callee_id_name,
        callee_id_number=prof_a.callee_id_number,
        ani=prof_a.caller_id_number,
        source="mod_loopback",
        dialplan="xml",
    )
    b = switch.new_channel(name=name_b, direction="inbound", profile=prof_b)
    b.codec = Codec()
    b.loopback_partner = a
    a.loopback_partner = b
    b.set_var("other_loopback_leg_uuid", a.uuid)
    a.set_var("other_loopback_leg_uuid", b.uuid)
    b.has_profile = True
    b.running_state = "CS_INIT"
    b.state_number = 2

    def run_b(ch: Channel) -> None:
        ch.fire("CHANNEL_CREATE")
        route_and_execute(ch)

    b.answer_hooks.append(a.mark_answered)
    b.start(run_b)
    return a


def sanitize_number(dest: str) -> str:
    """switch_sanitize_number (switch_utils.h:736): cut at '@', keep what follows the last '/' or ':'."""
    dest = dest.split("@", 1)[0]
    for sep in ("/", ":"):
        if sep in dest:
            dest = dest.rsplit(sep, 1)[1]
    return dest


def leg_consume_media(ch: Channel) -> None:
    ch.running_state = "CS_CONSUME_MEDIA"
    ch.state_number = STATE_NUMBER["CS_CONSUME_MEDIA"]
