"""The session thread: routing, executing applications, and queued sendmsg.

switch_core_state_machine.c (CS_ROUTING, CS_EXECUTE), switch_core_session.c
switch_core_session_exec, switch_ivr.c switch_ivr_parse_event.
"""

from __future__ import annotations

import logging
import uuid as uuidlib

from fsapps.esl.codec import Command
from fsapps.sim.apps.registry import APPLICATIONS, int_arg, is_true
from fsapps.sim.channel import STATE_NUMBER, Channel
from fsapps.sim.strings import separate_string

log = logging.getLogger("fsapps.sim")


def run_inbound(ch: Channel) -> None:
    """CS_NEW .. CS_EXECUTE for a channel that hits the dialplan.

    Event order as recorded from a real SIP call (fs-traces s02): STATE
    CS_NEW, STATE CS_INIT, CREATE, CALLSTATE RINGING, STATE CS_ROUTING,
    STATE CS_EXECUTE, then the extension's applications.
    """
    ch.set_running_state("CS_NEW", 0)
    ch.has_profile = True
    ch.set_running_state("CS_INIT", 1)
    ch.state_number = 2
    ch.fire("CHANNEL_CREATE")
    ch.running_state = "CS_ROUTING"
    ch.set_callstate("RINGING")
    route_and_execute(ch)


def inline_hunt(target: str) -> list[tuple[str, str]] | None:
    """The inline dialplan (mod_dptools.c inline_dialplan_hunt): ``app:data`` items
    separated by commas (or by the character after a leading ``^^``)."""
    delim = ","
    if target.startswith("^^") and len(target) > 3:
        delim, target = target[2], target[3:]
    out = []
    for item in separate_string(target, delim):
        app, _, data = item.lstrip(" ").partition(":")
        out.append((app, data))
    return out


def route_and_execute(ch: Channel) -> None:
    """CS_ROUTING (dialplan hunt) then CS_EXECUTE, again after each transfer."""
    while ch.up:
        transferred = ch.transfer_to is not None
        ch.transfer_to = None
        ch.running_state = "CS_ROUTING"
        ch.state_number = STATE_NUMBER["CS_ROUTING"]
        if transferred and ch.direction == "inbound":
            # switch_channel.c:2398: routing an inbound channel sets RINGING.
            ch.set_callstate("RINGING")
        ch.fire("CHANNEL_STATE")
        if ch.profile.dialplan == "inline":
            actions = inline_hunt(ch.profile.destination_number)
        else:
            actions = ch.switch.dialplan.hunt(ch)
        if actions is None:
            ch.note(f"no route for {ch.profile.destination_number} in {ch.profile.context}")
            ch.hangup("NO_ROUTE_DESTINATION")
            return
        if ch.direction == "outbound" and not ch.dialplan_hit:
            # switch_channel_set_caller_extension sorts the caller id (switch_channel.c:3337,
            # 3299-3307): an outbound leg routed to an extension (originated to one, or
            # transferred) hits the dialplan now and shows the far end as its caller.
            ch.dialplan_hit = True
            ch.profile.flip_caller_id(ch)
        ch.running_state = "CS_EXECUTE"
        ch.state_number = STATE_NUMBER["CS_EXECUTE"]
        if transferred and ch.answered:
            ch.set_callstate("ACTIVE")
        ch.fire("CHANNEL_STATE")
        for app_name, data in actions:
            if not ch.up or ch.transfer_to or ch.soft_execute:
                break
            execute(ch, app_name, data or None)
        if ch.transfer_to and ch.up:
            continue
        return


def execute(ch: Channel, name: str, data: str | None, app_uuid: str | None = None) -> bool:
    """switch_core_session_execute_application + switch_core_session_exec (switch_core_session.c:2724-2989).

    Returns False when the application did not run.
    """
    impl = APPLICATIONS.get(name)
    if impl is None:
        # l.2765: "Invalid Application", no execute events, the channel is torn down.
        ch.note(f"invalid application {name}")
        log.warning("%s: invalid application %s", ch.name, name)
        ch.hangup("DESTINATION_OUT_OF_ORDER")
        return False
    if not ch.up and not impl.zombie:
        return False  # l.2748: silently ignored on a hung-up channel
    if impl.needs_media and ch.direction == "inbound" and not (ch.answered or ch.early_media):
        ch.mark_pre_answered()
    app_uuid = app_uuid or ch.variables.pop("app_uuid", None) or str(uuidlib.uuid4())
    expanded = ch.expand(data) if data is not None else None
    ch.set_var("current_application", name)
    ch.set_var("current_application_data", expanded)
    ch.set_var("current_application_response", None)
    headers = [("Application", name)]
    if expanded is not None:
        headers.append(("Application-Data", expanded))
    ch.fire("CHANNEL_EXECUTE", after=[*headers, ("Application-UUID", app_uuid)])
    ch.break_flag = False
    ch.note(f"{name}({expanded or ''})")
    ch.busy += 1
    try:
        impl.fn(ch, expanded or "")
    finally:
        ch.busy -= 1
    ch.set_var("last_app", name)
    ch.set_var("last_arg", expanded)
    resp = ch.variables.get("current_application_response") or "_none_"
    ch.fire(
        "CHANNEL_EXECUTE_COMPLETE",
        after=[*headers, ("Application-Response", resp), ("Application-UUID", app_uuid)],
    )
    return True


def parse_event(ch: Channel, cmd: Command) -> None:
    """switch_ivr_parse_event (switch_ivr.c:503): one queued sendmsg."""
    command = (cmd.header("call-command") or "").lower()
    if command == "execute":
        name = cmd.header("execute-app-name") or ""
        arg = cmd.header("execute-app-arg")
        if arg is None and (cmd.header("content-type") or "").lower() == "text/plain":
            arg = cmd.body
        # ivr:562-572: atoi of "loops", 1 without one; a negative count runs until the
        # broadcast is stopped (l.629), as uuid_hold's hold music does (switch_ivr_async.c:5739).
        loops = int_arg(cmd.header("loops"), 1)
        lock = is_true(cmd.header("event-lock"))
        app_uuid = cmd.header("Event-UUID")
        if lock:
            ch.event_lock_depth += 1
        # ivr:580-591: CF_STOP_BROADCAST cleared, CF_BROADCAST set (an outer one stays).
        ch.stop_broadcast = False
        inner = ch.broadcasting
        ch.broadcasting = True
        clock = ch.switch.clock
        try:
            i = 0
            while i < loops or loops < 0:
                ch.set_var("current_loop", str(i + 1))
                ch.set_var("total_loops", str(loops))
                began = clock.now()
                if not execute(ch, name, arg, app_uuid) or not ch.up:
                    break
                # ivr:652: a run shorter than half a second (a missing file) does not loop on.
                if ch.stop_broadcast or clock.now() - began < 0.5:
                    break
                i += 1
        finally:
            if lock:
                ch.event_lock_depth -= 1
            ch.set_var("current_loop", None)
            ch.set_var("total_loops", None)
            if not inner:
                ch.broadcasting = False  # ivr:670-672
            if ch.stop_broadcast:  # ivr:674-677
                ch.broadcasting = False
                ch.break_flag = True
    elif command == "hangup":
        cause = (cmd.header("hangup-cause") or "NORMAL_CLEARING").upper()
        ch.hangup(cause)
    elif command == "xferext":
        for line in (cmd.body or "").splitlines():
            app_name, _, data = line.partition(" ")
            if app_name:
                execute(ch, app_name, data or None)
    elif command in ("unicast", "nomedia"):
        pass  # media plumbing the emulator does not carry
    else:
        log.warning("%s: sendmsg with invalid command %r", ch.name, command)
