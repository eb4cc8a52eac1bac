"""API commands (``api``/``bgapi``), with mod_commands.c's replies byte for byte."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import gevent

from fsapps.esl.codec import serialize_json, serialize_plain
from fsapps.sim.apps.bridge import after_bridge, bridge_legs
from fsapps.sim.apps.calls import park_loop, session_transfer
from fsapps.sim.apps.displace import displace, media_bugs, stop_displace
from fsapps.sim.apps.recording import start_recording, stop_all_recordings, stop_recording
from fsapps.sim.apps.registry import int_arg, is_true
from fsapps.sim.channel import CAUSES, Channel
from fsapps.sim.expand import has_reference
from fsapps.sim.hold import hold, toggle, unhold
from fsapps.sim.originate import originate
from fsapps.sim.session import execute, route_and_execute
from fsapps.sim.strings import separate_string
from fsapps.sim.xmldialplan import compile_expression, substitute

if TYPE_CHECKING:
    from fsapps.sim.listener import Listener
    from fsapps.sim.switch import Switch

Api = Callable[["Switch", str, "Listener | None"], str]
COMMANDS: dict[str, Api] = {}


def api(name: str) -> Callable[[Api], Api]:
    def register(fn: Api) -> Api:
        COMMANDS[name] = fn
        return fn

    return register


def _locate(sw: Switch, uid: str) -> Channel | None:
    ch = sw.channels.get(uid)
    return ch if ch is not None and ch.running_state not in ("CS_DESTROY",) else None


log = logging.getLogger("fsapps.sim")
NO_SUCH = "-ERR No such channel!\n"


@api("status")
def status(sw: Switch, arg: str, lst: Listener | None) -> str:
    return sw.status_text()


@api("version")
def version(sw: Switch, arg: str, lst: Listener | None) -> str:
    from fsapps.sim.switch import VERSION

    return f"FreeSWITCH Version {VERSION} (git a88d069 2024-08-02 21:02:27Z 64bit)\n"


@api("uptime")
def uptime(sw: Switch, arg: str, lst: Listener | None) -> str:
    return f"{int(sw.clock.now() - sw.started)}\n"


# switch_core_sqldb.c: the channels table, in "show channels" column order.
CHANNEL_COLUMNS = (
    "uuid", "direction", "created", "created_epoch", "name", "state", "cid_name", "cid_num",
    "ip_addr", "dest", "application", "application_data", "dialplan", "context", "read_codec",
    "read_rate", "read_bit_rate", "write_codec", "write_rate", "write_bit_rate", "secure",
    "hostname", "presence_id", "presence_data", "accountcode", "callstate", "callee_name",
    "callee_num", "callee_direction", "call_uuid", "sent_callee_name", "sent_callee_num",
    "initial_cid_name", "initial_cid_num", "initial_ip_addr", "initial_dest",
    "initial_dialplan", "initial_context",
)  # fmt: skip


def _channel_row(sw: Switch, ch: Channel) -> dict[str, str]:
    p = ch.profile
    c = ch.codec
    created = ch.created_at
    from fsapps.sim.events import local_date

    return {
        "uuid": ch.uuid,
        "direction": ch.direction,
        "created": local_date(created),
        "created_epoch": str(int(created)),
        "name": ch.name,
        "state": ch.running_state,
        "cid_name": p.caller_id_name,
        "cid_num": p.caller_id_number,
        "ip_addr": p.network_addr,
        "dest": p.destination_number,
        "application": ch.variables.get("current_application", ""),
        "application_data": ch.variables.get("current_application_data", ""),
        "dialplan": p.dialplan,
        "context": p.context,
        "read_codec": c.name if c else "",
        "read_rate": str(c.rate) if c else "",
        "read_bit_rate": str(c.bit_rate) if c else "",
        "write_codec": c.name if c else "",
        "write_rate": str(c.rate) if c else "",
        "write_bit_rate": str(c.bit_rate) if c else "",
        "secure": "",
        "hostname": sw.hostname,
        "presence_id": ch.variables.get("presence_id", ""),
        "presence_data": ch.variables.get("presence_data", ""),
        "accountcode": ch.variables.get("accountcode", ""),
        "callstate": ch.callstate,
        "callee_name": p.callee_id_name,
        "callee_num": p.callee_id_number,
        "callee_direction": "",
        "call_uuid": ch.variables.get("call_uuid", ch.uuid),
        "sent_callee_name": "",
        "sent_callee_num": "",
        "initial_cid_name": p.orig_caller_id_name,
        "initial_cid_num": p.orig_caller_id_number,
        "initial_ip_addr": p.network_addr,
        "initial_dest": p.destination_number,
        "initial_dialplan": p.dialplan,
        "initial_context": p.context,
    }


SHOW_USAGE = (
    "-USAGE: codec|endpoint|application|api|dialplan|file|timer|calls [count]|channels "
    "[count|like <match string>]|calls|detailed_calls|bridged_calls|detailed_bridged_calls|aliases|"
    "complete|chat|management|modules|nat_map|say|interfaces|interface_types|tasks|limits|status\n"
)


@api("show")
def show(sw: Switch, arg: str, lst: Listener | None) -> str:
    words = arg.split()
    if not words:
        return SHOW_USAGE
    what = words[0].lower()
    as_json = len(words) >= 3 and words[-2].lower() == "as" and words[-1].lower() == "json"
    if what not in ("channels", "calls"):
        return f"-ERR Cannot find show for {what}\n" if what not in ("status",) else status(sw, "", lst)
    chans = sorted(sw.channels.values(), key=lambda c: c.created_at)
    if len(words) > 1 and words[1].lower() == "count":
        n = len(chans)
        return f"\n{n} total.\n"
    rows = [_channel_row(sw, ch) for ch in chans if ch.running_state != "CS_DESTROY"]
    if as_json:
        # switch_console / mod_commands show_callback: an empty result is
        # printed by hand with a space after the colon.
        if not rows:
            return '{"row_count": 0}\n'
        return json.dumps({"row_count": len(rows), "rows": rows}, separators=(",", ":")) + "\n"
    lines = [",".join(CHANNEL_COLUMNS)]
    lines += [",".join(r[c] for c in CHANNEL_COLUMNS) for r in rows]
    return "\n".join(lines) + f"\n\n{len(rows)} total.\n"


def _parse_target(target: str) -> tuple[str, str] | None:
    """``&app(args)`` -> (app, args); a plain extension -> None."""
    if target.startswith("&"):
        body = target[1:]
        if "(" in body and body.endswith(")"):
            name, _, args = body.partition("(")
            return name, args[:-1]
        return body, ""
    return None


ORIGINATE_USAGE = (
    "-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] "
    "[<cid_name>] [<cid_num>] [<timeout_sec>]\n"
)


@api("originate")
def originate_api(sw: Switch, arg: str, lst: Listener | None) -> str:
    """mod_commands.c originate_function (ORIGINATE_SYNTAX, l.5079): arguments split as
    switch_separate_string does (l.5103), so a quoted value may hold a blank."""
    argv = separate_string(arg, " ", 10)
    if len(argv) < 2 or not argv[0] or not argv[1]:
        return ORIGINATE_USAGE
    url, target = argv[0], argv[1]
    dialplan = argv[2] if len(argv) > 2 else "XML"
    context = argv[3] if len(argv) > 3 else "default"
    cid_name = argv[4] if len(argv) > 4 else None
    cid_num = argv[5] if len(argv) > 5 else None
    try:
        timeout = float(argv[6]) if len(argv) > 6 else None
    except ValueError:
        timeout = None
    res = originate(sw, url, timeout=timeout, cid_number=cid_num, cid_name=cid_name)
    if res.channel is None:
        return f"-ERR {res.cause}\n"
    leg = res.channel
    app_target = _parse_target(target)

    def run_leg(ch: Channel) -> None:
        if app_target is not None:
            ch.dialplan_hit = True
            name, app_args = app_target
            ch.profile.flip_caller_id(ch)
            ch.running_state = "CS_EXECUTE"
            ch.state_number = 4
            execute(ch, name, app_args or None)
            if ch.up and not ch.transfer_to:
                return
        else:
            # mod_commands.c:5166: to an extension, the leg is transferred there; it hits
            # the dialplan (CF_DIALPLAN) only when routing finds the extension.
            session_transfer(ch, target, dialplan, context)
        route_and_execute(ch)

    leg.start(run_leg)
    return f"+OK {leg.uuid}\n"


def _two(arg: str) -> list[str]:
    return arg.split(" ")


@api("uuid_kill")
def uuid_kill(sw: Switch, arg: str, lst: Listener | None) -> str:
    if not arg:
        return "-USAGE: <uuid> [cause]\n"
    uid, _, cause = arg.partition(" ")
    ch = _locate(sw, uid)
    if ch is None:
        return NO_SUCH
    ch.hangup(cause.strip().upper() if cause.strip().upper() in CAUSES else "NORMAL_CLEARING")
    return "+OK\n"


@api("uuid_bridge")
def uuid_bridge(sw: Switch, arg: str, lst: Listener | None) -> str:
    """switch_ivr_uuid_bridge: both legs leave what they run and bridge (l.4700)."""
    argv = _two(arg)
    if len(argv) != 2:
        return "-USAGE: <uuid> <other_uuid>\n"
    a, b = _locate(sw, argv[0]), _locate(sw, argv[1])
    if a is None or b is None or not a.up or not b.up:
        return "-ERR Invalid uuid\n"
    gevent.spawn(_uuid_bridge, a, b)
    return f"+OK {b.uuid}\n"


def _uuid_bridge(a: Channel, b: Channel) -> None:
    """switch_ivr_uuid_bridge: both legs leave what they run for CS_SOFT_EXECUTE,
    where A runs the bridge (switch_ivr_bridge.c uuid_bridge_on_soft_execute, l.1236)."""
    a.uuid_bridged = b.uuid_bridged = True
    # br:2031-2036 and 2061-2063: the originator counts as having hit the dialplan
    # (CF_DIALPLAN), an outbound originatee no longer does; the profiles stepped next
    # take their logical direction from that (seen on 1.10.12: the originator's turns inbound).
    if a.direction == "outbound":
        a.dialplan_hit = True
    if b.direction == "outbound":
        b.dialplan_hit = False
    # br:2121-2122: both legs get a new caller profile (Profile-Index 2 in the s06 trace) ...
    pa, pb = a.step_profile(), b.step_profile()
    # ... each carries a clone of the other's as Other-Leg (br:2142-2143) ...
    a.other_type, a.other_profile = "originatee", pb.clone()
    b.other_type, b.other_profile = "originator", pa.originator_clone()
    # ... the originator takes the originatee's callee id and gives it its caller id (br:2145-2149) ...
    pa.callee_id_name, pa.callee_id_number = pb.callee_id_name, pb.callee_id_number
    pb.caller_id_name, pb.caller_id_number = pa.caller_id_name, pa.caller_id_number
    # ... and the transfer source names the profile's own id and the other leg (br:2176-2189).
    now = int(a.switch.clock.now())
    for ch, prof, other in ((a, pa, b), (b, pb, a)):
        prof.transfer_source = f"{now}:{prof.uuid_str}:uuid_br:{other.uuid}"
        ch.push_var("transfer_history", prof.transfer_source)
        ch.set_var("transfer_source", prof.transfer_source)

    def enter(ch: Channel, other: Channel, line: int) -> None:
        ch.running_state = "CS_SOFT_EXECUTE"
        ch.state_number = 3
        ch.fire(
            "CHANNEL_EXECUTE",
            after=[("Application", "uuid_bridge"), ("Application-Data", other.uuid)],
            calling=("switch_ivr_bridge.c", "uuid_bridge_on_soft_execute", line),
        )

    def run_a(ch: Channel) -> None:
        enter(ch, b, 1236)
        gevent.wait([b.bridge_ready, b.destroyed], count=1, timeout=5)
        if not b.up:
            # br:1204-1212: the other leg went before the bridge began (wait_for_answer fails).
            if is_true(ch.get_var("uuid_bridge_continue_on_cancel")):
                return
            if is_true(ch.get_var("uuid_bridge_park_on_cancel")):
                park_loop(ch)
                moved = lambda: not ch.up or ch.transfer_to or ch.soft_execute or ch.reset_requested  # noqa: E731
                ch.wait(float("inf"), moved)
                return
            ch.hangup("ORIGINATOR_CANCEL")
            return
        bridge_legs(a, b)
        # br:1931-1945 then uuid_bridge_on_soft_execute (l.1252-1256): park_after_bridge parks
        # the originator; otherwise CS_EXECUTE finds no extension (the profile was stepped,
        # l.2121) and the leg hangs up (switch_core_state_machine.c:340-342).
        parks = is_true(ch.get_var("park_after_bridge"))
        after_bridge(a, b)
        if parks:
            # Its park over (the socket that held it closed, clearing CF_CONTROLLED), the leg
            # stays in CS_PARK: the state machine waits for the next state change
            # (switch_core_state_machine.c:655-656, 701), a transfer or a hangup (seen on
            # 1.10.12: a uuid_transfer after the socket's exit routed the caller on). A
            # resumable socket's CS_RESET is one: CS_EXECUTE then finds no extension.
            moved = lambda: not ch.up or ch.transfer_to or ch.soft_execute or ch.reset_requested  # noqa: E731
            ch.wait(float("inf"), moved)

    def run_b(ch: Channel) -> None:
        enter(ch, a, 1243)
        ch.running_state = "CS_EXCHANGE_MEDIA"
        ch.state_number = 5
        ch.bridge_ready.set()
        # The B side exchanges media until the bridge ends or it hangs up.
        ch.wait(
            float("inf"),
            lambda: (ch.bridged_to is None and ch.profile.times.get("bridged")) or ch.interruption(),
        )
        # br:990-997 audio_bridge_on_exchange_media: a B side left in the bridge (its A leg
        # hung up or was taken by another uuid_bridge) parks with park_after_bridge (seen on
        # 1.10.12: the consulted leg parked when the agent's leg was bridged to the caller).
        moved = ch.soft_execute is not None or ch.transfer_to
        if ch.up and not moved and is_true(ch.get_var("park_after_bridge")):
            park_loop(ch)

    b.bridge_ready.clear()  # set again when this bridge's B side is in CS_EXCHANGE_MEDIA
    a.soft_execute = run_a
    b.soft_execute = run_b
    for ch in (a, b):
        # A leg originated by a bridge has no session thread of its own here (it stays in
        # the A leg's bridge); uuid_bridge needs one to run CS_SOFT_EXECUTE on.
        if ch.greenlet is None:
            ch.start(lambda _: None)
        ch.kick()


@api("uuid_transfer")
def uuid_transfer(sw: Switch, arg: str, lst: Listener | None) -> str:
    usage = "-USAGE: <uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]\n"
    argv = separate_string(arg, " ", 5) if arg else []
    if len(argv) < 2 or len(argv) > 5:
        return usage
    ch = _locate(sw, argv[0])
    if ch is None:
        return NO_SUCH
    rest = argv[1:]
    targets = [ch]
    if rest[0].startswith("-"):
        flag = rest[0][1:].lower()
        rest = rest[1:]
        other = ch.bridged_to
        if flag == "bleg" and other is not None:
            targets = [other]
        elif flag == "both" and other is not None:
            targets = [ch, other]
    if not rest:
        return usage
    for t in targets:
        if t.bridged_to is not None:
            t.bridged_to.kick()
        session_transfer(t, rest[0], rest[1] if len(rest) > 1 else "", rest[2] if len(rest) > 2 else "")
        t.bridged_to = None
    return "+OK\n"


@api("uuid_hold")
def uuid_hold(sw: Switch, arg: str, lst: Listener | None) -> str:
    """mod_commands.c:3971-4003 uuid_hold_function: ``[off|toggle] <uuid> [<display>]``,
    split on blanks (4 at most). A UUID that is not there is no failure: switch_ivr_hold_uuid
    returns its initial SUCCESS when the session is not found (switch_ivr.c:1567-1577)."""
    argv = separate_string(arg, " ", 4) if arg else []
    if not argv or not argv[0]:
        return "-USAGE: [off|toggle] <uuid> [<display>]\n"
    word = argv[0].lower()
    uid = argv[1] if word in ("off", "toggle") and len(argv) > 1 else argv[0]
    ch = _locate(sw, uid)
    ok = True
    if ch is not None:
        ok = unhold(ch) if word == "off" else toggle(ch) if word == "toggle" else hold(ch)
    return "+OK Success\n" if ok else "-ERR Operation failed\n"


@api("uuid_displace")
def uuid_displace(sw: Switch, arg: str, lst: Listener | None) -> str:
    """mod_commands.c:4826-4877 session_displace_function: ``<uuid> [start|stop] <path>
    [<limit>] [<flags>]``, split on blanks (5 at most)."""
    usage = "-USAGE: <uuid> [start|stop] <path> [<limit>] [mux]\n"
    argv = separate_string(arg, " ", 5) if arg else []
    if len(argv) < 3 or not all(argv[:3]):
        return usage
    ch = _locate(sw, argv[0])
    if ch is None:
        return "-ERR Cannot locate session!\n"
    action, path = argv[1].lower(), argv[2]
    if action == "start":
        limit = int_arg(argv[3], 0) if len(argv) > 3 else 0
        ok = displace(ch, path, max(limit, 0), argv[4] if len(argv) > 4 else "")
        return "+OK Success\n" if ok else "-ERR Cannot displace session!\n"
    if action == "stop":
        return "+OK Success\n" if stop_displace(ch, path) else "-ERR Cannot stop displace session!\n"
    return usage


@api("uuid_buglist")
def uuid_buglist(sw: Switch, arg: str, lst: Listener | None) -> str:
    """mod_commands.c:4085-4122 with switch_core_media_bug_enumerate (switch_core_media_bug.c:
    1210-1235): the channel's media bugs as XML, each its function and target; a channel
    that is not there answers nothing. The emulator's bugs: recordings and displacements."""
    argv = separate_string(arg, " ", 2) if arg else []
    if not argv or not argv[0]:
        return "-USAGE: <uuid>\n"
    ch = _locate(sw, argv[0])
    if ch is None:
        return ""
    out = ["<media-bugs>\n"]
    for function, target in media_bugs(ch):
        out.append(
            f" <media-bug>\n  <function>{function}</function>\n  <target>{target}</target>\n"
            "  <thread-locked>0</thread-locked>\n </media-bug>\n"
        )
    return "".join(out) + "</media-bugs>\n"


@api("uuid_break")
def uuid_break(sw: Switch, arg: str, lst: Listener | None) -> str:
    if not arg:
        return "-USAGE: <uuid> [all]\n"
    uid, _, flag = arg.partition(" ")
    ch = _locate(sw, uid)
    if ch is None:
        return NO_SUCH
    if "all" in flag:
        # mod_commands.c:5002: "all" also drops the queued sendmsg commands: an execute
        # that has not begun never runs (and never completes).
        ch.private_events.clear()
    ch.break_flag = True
    ch.kick()
    return "+OK\n"


@api("uuid_broadcast")
def uuid_broadcast(sw: Switch, arg: str, lst: Listener | None) -> str:
    argv = arg.split(" ")
    if len(argv) < 2:
        return "-USAGE: <uuid> <path> [aleg|bleg|holdb|both]\n"
    ch = _locate(sw, argv[0])
    if ch is None:
        return NO_SUCH
    path = argv[1]
    legs = argv[2].lower() if len(argv) > 2 else "aleg"
    targets = [ch]
    if legs == "bleg" and ch.bridged_to is not None:
        targets = [ch.bridged_to]
    elif legs == "both" and ch.bridged_to is not None:
        targets = [ch, ch.bridged_to]
    for t in targets:
        gevent.spawn(_broadcast, t, path)
    return "+OK Message sent\n"


def _broadcast(ch: Channel, path: str) -> None:
    from fsapps.esl.codec import Command

    name, _, data = path.partition("::")
    if data or "::" in path:
        cmd = Command(
            "sendmsg",
            (("call-command", "execute"), ("execute-app-name", name), ("execute-app-arg", data)),
        )
    else:
        cmd = Command(
            "sendmsg",
            (
                ("call-command", "execute"),
                ("execute-app-name", "playback"),
                ("execute-app-arg", path),
            ),
        )
    ch.queue_private_event(cmd)


@api("uuid_record")
def uuid_record(sw: Switch, arg: str, lst: Listener | None) -> str:
    argv = arg.split(" ")
    if len(argv) < 3:
        return "-USAGE: <uuid> [start|stop|mask|unmask] <path> [<limit>] [<recording_vars>]\n"
    ch = _locate(sw, argv[0])
    if ch is None:
        return NO_SUCH
    action, path = argv[1].lower(), argv[2]
    if action == "start":
        limit = float(argv[3]) if len(argv) > 3 and argv[3].isdigit() else None
        start_recording(ch, path, limit)
        return "+OK Success\n"
    if action == "stop":
        if path == "all":
            stop_all_recordings(ch)
            return "+OK Success\n"
        return "+OK Success\n" if stop_recording(ch, path) else "-ERR Cannot execute command\n"
    if action in ("mask", "unmask"):
        return "+OK Success\n"
    return "-USAGE: <uuid> [start|stop|mask|unmask] <path> [<limit>] [<recording_vars>]\n"


@api("uuid_setvar")
def uuid_setvar(sw: Switch, arg: str, lst: Listener | None) -> str:
    """mod_commands.c uuid_setvar_function: switch_separate_string(cmd, ' ', argv, 3), the
    value stored as given (no variable check); an empty value unsets."""
    argv = separate_string(arg, " ", 3)
    if len(argv) < 2 or not argv[0]:
        return "-USAGE: <uuid> <var> [value]\n"
    ch = _locate(sw, argv[0])
    if ch is None:
        return NO_SUCH
    if not argv[1]:
        return "-ERR No variable specified\n"
    value = argv[2] if len(argv) > 2 else None
    ch.set_var(argv[1], value or None)
    return "+OK\n"


@api("uuid_setvar_multi")
def uuid_setvar_multi(sw: Switch, arg: str, lst: Listener | None) -> str:
    """uuid_setvar_multi_function: pairs split on ';' by switch_separate_string, each at its
    first '='; switch_channel_set_variable refuses a value holding ${ (switch_channel.c:1503)."""
    uid, _, rest = arg.partition(" ")
    ch = _locate(sw, uid)
    if not rest:
        return "-USAGE: <uuid> <var>=<value>;<var>=<value>...\n"
    if ch is None:
        return NO_SUCH
    done = 0
    for pair in separate_string(rest, ";", 64):
        k, sep, v = pair.partition("=")
        if not k:
            return "-ERR No variable specified\n"
        if v and has_reference(v):
            log.warning("%s: invalid data (${%s} contains a variable)", ch.name, k)
            continue
        ch.set_var(k, v if sep and v else None)
        done += 1
    return "+OK\n" if done else "-USAGE: <uuid> <var>=<value>;<var>=<value>...\n"


@api("uuid_getvar")
def uuid_getvar(sw: Switch, arg: str, lst: Listener | None) -> str:
    argv = arg.split(" ")
    if len(argv) < 2:
        return "-USAGE: <uuid> <var>\n"
    ch = _locate(sw, argv[0])
    if ch is None:
        return NO_SUCH
    if not argv[1]:
        return "-ERR No variable name specified!\n"
    value = ch.get_var(argv[1])
    return value if value is not None else "_undef_"


@api("uuid_exists")
def uuid_exists(sw: Switch, arg: str, lst: Listener | None) -> str:
    return "true" if arg and _locate(sw, arg.strip()) is not None else "false"


@api("uuid_dump")
def uuid_dump(sw: Switch, arg: str, lst: Listener | None) -> str:
    if not arg:
        return "-USAGE: <uuid> [format]\n"
    uid, _, fmt = arg.partition(" ")
    ch = _locate(sw, uid)
    if ch is None:
        return NO_SUCH
    fields = [*ch.basic_data(), *((f"variable_{k}", v) for k, v in ch.variables.items())]
    fmt = fmt.strip().lower() or "txt"
    if fmt == "json":
        return serialize_json(fields)
    if fmt == "plain":
        return "".join(f"{k}: {v}\n" for k, v in fields) + "\n"
    return serialize_plain(fields)


@api("uuid_answer")
def uuid_answer(sw: Switch, arg: str, lst: Listener | None) -> str:
    ch = _locate(sw, arg.strip()) if arg else None
    if ch is None:
        return NO_SUCH if arg else "-USAGE: <uuid>\n"
    ch.mark_answered()
    return "+OK\n"


@api("uuid_park")
def uuid_park(sw: Switch, arg: str, lst: Listener | None) -> str:
    ch = _locate(sw, arg.strip()) if arg else None
    if ch is None:
        return NO_SUCH if arg else "-USAGE: <uuid>\n"
    from fsapps.esl.codec import Command

    ch.break_flag = True
    ch.queue_private_event(Command("sendmsg", (("call-command", "execute"), ("execute-app-name", "park"))))
    return "+OK\n"


@api("uuid_send_dtmf")
def uuid_send_dtmf(sw: Switch, arg: str, lst: Listener | None) -> str:
    uid, _, digits = arg.partition(" ")
    ch = _locate(sw, uid)
    if ch is None:
        return NO_SUCH
    target = ch.bridged_to or ch
    target.queue_dtmf(digits.split("@")[0].strip())
    return "+OK Success\n"


@api("uuid_recv_dtmf")
def uuid_recv_dtmf(sw: Switch, arg: str, lst: Listener | None) -> str:
    """mod_commands.c:6396: digits arrive on the channel as if its far end sent them."""
    argv = arg.split()
    if len(argv) < 2:
        return "-USAGE: <uuid> <dtmf_data>\n"
    ch = _locate(sw, argv[0])
    if ch is None:
        return "-ERR Cannot locate session!\n"
    ch.queue_dtmf(argv[1].split("@")[0])
    return f"+OK {argv[0]} received DTMF {argv[1]}.\n"


@api("hupall")
def hupall(sw: Switch, arg: str, lst: Listener | None) -> str:
    argv = arg.split(" ") if arg else []
    cause = argv[0].upper() if argv and argv[0].upper() in CAUSES else "MANAGER_REQUEST"
    var = argv[1] if len(argv) > 1 else None
    val = argv[2] if len(argv) > 2 else None
    for ch in list(sw.channels.values()):
        if var is None or ch.get_var(var) == val:
            ch.hangup(cause)
    if var is None:
        return f"+OK hangup all channels with cause {cause}\n"
    return f"+OK hangup all channels matching [{var}]=[{val}] with cause: {cause}\n"


@api("reloadxml")
def reloadxml(sw: Switch, arg: str, lst: Listener | None) -> str:
    reload = getattr(sw.dialplan, "reload", None)
    err = "Success"
    if reload is not None:
        err = reload() or "Success"
    ev = sw.new_event("RELOADXML", calling=("switch_xml.c", "switch_xml_open_root", 2366))
    sw.fire(ev)
    return f"+OK [{err}]\n"


@api("eval")
def eval_api(sw: Switch, arg: str, lst: Listener | None) -> str:
    if arg.startswith("uuid:"):
        uid, _, expr = arg[5:].partition(" ")
        ch = _locate(sw, uid)
        if ch is None:
            return ""
        return ch.expand(expr)
    import re

    return re.sub(r"\$\$\{([^}]+)\}", lambda m: sw.globals.get(m.group(1), ""), arg)


@api("global_getvar")
def global_getvar(sw: Switch, arg: str, lst: Listener | None) -> str:
    if not arg:
        return "".join(f"{k}={v}\n" for k, v in sw.globals.items())
    return sw.globals.get(arg.strip(), "")


@api("global_setvar")
def global_setvar(sw: Switch, arg: str, lst: Listener | None) -> str:
    k, _, v = arg.partition("=")
    if not k.strip():
        return "-USAGE: <var>[=<value>]\n"
    sw.globals[k.strip()] = v.strip()
    return "+OK\n"


@api("sofia")
def sofia(sw: Switch, arg: str, lst: Listener | None) -> str:
    if arg.strip().lower().startswith("status"):
        bar = "=" * 91
        return (
            "                     Name\t   Type\t                                      Data\tState\n"
            f"{bar}\n"
            "                 internal\tprofile\t             sip:mod_sofia@127.0.0.1:5060\tRUNNING (0)\n"
            "                 external\tprofile\t             sip:mod_sofia@127.0.0.1:5080\tRUNNING (0)\n"
            f"{bar}\n"
            "2 profiles 0 aliases\n"
        )
    return "-ERR Usage: sofia status\n"


@api("strftime")
def strftime_api(sw: Switch, arg: str, lst: Listener | None) -> str:
    import time

    return time.strftime(arg or "%Y-%m-%d %T", time.localtime(sw.clock.now()))


@api("regex")
def regex_api(sw: Switch, arg: str, lst: Listener | None) -> str:
    """mod_commands.c regex_function: ``data|pattern[|substitution[|flags]]``, the separator
    ``|`` unless ``m:`` names another (``~``, ``/``); no substitution: true or false; one,
    on a match: the substitution (``%N`` as ``$N``); no match: "" with flag ``n``, "false"
    with ``b``, else the data."""
    if not arg:
        return "-ERR"
    delim = "|"
    if arg.startswith("m:") and len(arg) > 2 and arg[2] in "|~/":
        delim, arg = arg[2], arg[3:]
    argv = separate_string(arg, delim, 4)
    if len(argv) < 2:
        return "-ERR"
    pattern = compile_expression(argv[1])
    match = pattern.search(argv[0]) if pattern is not None else None
    if len(argv) == 2:
        return "true" if match else "false"
    if match:
        return substitute(argv[2].replace("%", "$"), match)
    flags = argv[3] if len(argv) > 3 else ""
    return "" if "n" in flags else "false" if "b" in flags else argv[0]
