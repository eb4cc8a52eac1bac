"""Call control applications (mod_dptools.c): answer, variables, hangup,
transfer, park, socket, and the small ones."""

from __future__ import annotations

from fsapps.sim.apps.registry import app
from fsapps.sim.channel import Channel
from fsapps.sim.strings import atoi

# --- answer, early media (dpt:1385-1477, 1104-1114) ---------------------------


@app("answer")
def answer(ch: Channel, data: str) -> None:
    if ch.direction == "outbound":
        return  # switch_channel_perform_answer: a no-op on an outbound leg
    ch.mark_answered()


@app("pre_answer")
def pre_answer(ch: Channel, data: str) -> None:
    ch.mark_pre_answered()


@app("ring_ready")
def ring_ready(ch: Channel, data: str) -> None:
    if not (ch.answered or ch.early_media):
        ch.mark_ring_ready()


# --- variables (dpt:1631-1819) --------------------------------------------------


@app("set", zombie=True)
def set_app(ch: Channel, data: str) -> None:
    """base_set: split at the first '=', else ','; the value is expanded again."""
    if not data:
        return
    sep = "=" if "=" in data else ","
    name, found, value = data.partition(sep)
    if not name:
        return
    ch.set_var(name, ch.expand(value) if found and value else None)


@app("export", zombie=True)
def export_app(ch: Channel, data: str) -> None:
    name, found, value = data.partition("=")
    if not name:
        return
    ch.set_var(name, value if found and value else None)
    if found and value:
        # switch_channel_export_variable: the name joins export_vars and the
        # variable goes to every leg this channel originates.
        current = ch.variables.get("export_vars")
        ch.set_var("export_vars", f"{current},{name}" if current else name)
        ch.exported[name.removeprefix("nolocal:").removeprefix("_nolocal_")] = value


@app("unset", zombie=True)
def unset_app(ch: Channel, data: str) -> None:
    if data:
        ch.set_var(data, None)


@app("multiset", zombie=True)
def multiset(ch: Channel, data: str) -> None:
    for part in data.split(" "):
        if part:
            set_app(ch, part)


@app("log", zombie=True)
def log_app(ch: Channel, data: str) -> None:
    ch.note(f"log {data}")


@app("info", zombie=True)
def info(ch: Channel, data: str) -> None:
    pass


@app("event", zombie=True)
def event_app(ch: Channel, data: str) -> None:
    """event_function: a CUSTOM (or named) event carrying the channel's data."""
    headers = []
    subclass = None
    for part in data.split(","):
        k, _, v = part.partition("=")
        if k.strip().lower() == "event-subclass":
            subclass = v
        elif k:
            headers.append((k.strip(), v))
    ch.fire("CUSTOM", after=headers, subclass=subclass)


# --- hangup, transfer (dpt hangup_function, transfer_function) -------------------


@app("hangup")
def hangup_app(ch: Channel, data: str) -> None:
    ch.hangup(data.strip().upper() or "NORMAL_CLEARING")


def session_transfer(ch: Channel, extension: str, dialplan: str = "", context: str = "") -> None:
    """switch_ivr_session_transfer (switch_ivr.c:2163): a new caller profile, back through CS_ROUTING.

    Whatever runs on the channel ends as if it were not ready (CF_TRANSFER).
    """
    # ivr:2173-2194: each transfer spends one of max_session_transfers, else of max_forwards
    # (70 when neither is set); with none left the call ends instead.
    counter = "max_session_transfers"
    left = ch.get_var(counter)
    if not left:
        counter = "max_forwards"
        left = ch.get_var(counter)
    forwards = atoi(left) - 1 if left else 70
    if forwards <= 0:
        ch.hangup("EXCHANGE_ROUTING_ERROR")
        return
    ch.set_var(counter, str(forwards))
    ch.set_var("temp_hold_music", None)  # ivr:2203
    p = ch.profile
    # ivr:2210-2239: the dialplan and context given, else forced, else the profile's
    # (an inline dialplan is not kept), else XML and default; no extension is "service".
    if not dialplan:
        dialplan = ch.get_var("force_transfer_dialplan") or ""
    if not context:
        context = ch.get_var("force_transfer_context") or ""
    if not dialplan and p.dialplan.lower() != "inline":
        dialplan = p.dialplan
    dialplan = dialplan or "XML"
    context = context or p.context or "default"
    extension = extension or "service"
    # ivr:2245-2251 and 2292-2293: a clone of the profile, with the new destination and the
    # old one as RDNIS, becomes the channel's (switch_channel_set_caller_profile).
    new = ch.step_profile()
    new.dialplan, new.context, new.destination_number = dialplan, context, extension
    new.rdnis = p.destination_number
    # ivr:2253, 2261-2271: neither this leg nor the one it is bridged to keeps the signal bond.
    ch.set_var("signal_bond", None)
    partner = ch.switch.channels.get(ch.get_var("bridge_to") or "")
    if partner is not None:
        partner.set_var("signal_bond", None)
    # ivr:2307-2311: the transfer source names the new profile's own id, not the channel.
    now = int(ch.switch.clock.now())
    new.transfer_source = f"{now}:{new.uuid_str}:bl_xfer:{extension}/{context}/{dialplan}"
    ch.push_var("transfer_history", new.transfer_source)
    ch.set_var("transfer_source", new.transfer_source)
    ch.flush_dtmf()
    ch.transfer_to = (extension, dialplan, context)
    ch.note(f"transferred to {extension}")
    ch.kick()


@app("transfer")
def transfer(ch: Channel, data: str) -> None:
    """[-bleg|-both] <extension> [dialplan] [context]."""
    argv = data.split()
    if not argv:
        return
    targets = [ch]
    if argv[0] in ("-bleg", "-both"):
        other = ch.bridged_to
        if other is not None:
            targets = [other] if argv[0] == "-bleg" else [ch, other]
        argv = argv[1:]
    if not argv:
        return
    for t in targets:
        session_transfer(t, argv[0], argv[1] if len(argv) > 1 else "", argv[2] if len(argv) > 2 else "")


# --- park (switch_ivr.c:946 switch_ivr_park) -----------------------------------


def park_loop(ch: Channel) -> None:
    """Hold the call: run queued sendmsg, take and drop DTMF, until released.

    Park sets CF_CONTROLLED and loops while it stays set (ivr:1000-1010); an
    outbound socket listener clears it when it ends (mod_event_socket.c:2838).
    A listener that ended before the park began therefore releases nothing,
    and the call stays parked, as on the real switch, unless the socket was
    resumable (CS_RESET, checked at ivr:979).
    """
    if ch.parked or ch.reset_requested:
        return
    ch.parked = True
    ch.controlled = True
    ch.fire("CHANNEL_PARK")
    try:
        while ch.up:
            ch.parse_all_events()
            if not ch.up or ch.reset_requested or ch.transfer_to or ch.soft_execute or ch.bridged_to:
                break
            if not ch.controlled:
                break
            why = ch.wait(float("inf"), lambda: _park_wake(ch))
            if why == "dtmf":
                while ch.dtmf:
                    ch.take_dtmf()  # ivr:1151: taken and discarded
    finally:
        ch.parked = False
        ch.fire("CHANNEL_UNPARK")


def _park_wake(ch: Channel) -> str | None:
    if not ch.up:
        return "hangup"
    if ch.reset_requested or ch.transfer_to or ch.soft_execute:
        return "reset"
    if ch.dtmf:
        return "dtmf"
    if ch.private_events and ch.event_lock_depth == 0:
        return "events"
    if not ch.controlled:
        return "released"
    return None


@app("park")
def park(ch: Channel, data: str) -> None:
    if ch.controlled:
        return  # "Cannot park channels that are under control already." (ivr:974)
    park_loop(ch)
    ch.controlled = False


@app("socket")
def socket_app(ch: Channel, data: str) -> None:
    from fsapps.sim.outbound import run_socket_app

    run_socket_app(ch, data)


@app("echo")
def echo(ch: Channel, data: str) -> None:
    """switch_ivr_session_echo: never takes digits, flushes them at the end."""
    ch.wait(float("inf"), lambda: ch.interruption())
    ch.flush_dtmf()
