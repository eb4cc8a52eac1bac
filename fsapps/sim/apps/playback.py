"""Playing sound: switch_ivr_play_file (switch_ivr_play_say.c:1244) and the
applications built on it: playback, endless_playback, speak, say, sleep."""

from __future__ import annotations

from dataclasses import dataclass

from fsapps.sim import media
from fsapps.sim.apps.registry import app, int_arg, is_true, respond
from fsapps.sim.channel import Channel
from fsapps.sim.strings import separate_string

FRAME = 160  # samples per 20 ms frame at 8 kHz
READ_CHUNK = 16384  # switch_ivr_play_say.c:1240 FILE_STARTSAMPLES, in samples


@dataclass
class PlayResult:
    # "done", "break" (digit, terminator or uuid_break), "hangup",
    # "not_ready" (transfer, uuid_bridge), "notfound"
    status: str
    digit: str = ""


def play_file(
    ch: Channel,
    path: str,
    *,
    mode: str = "callback",
    terminators: str = "",
) -> PlayResult:
    """Play one prompt in real (virtual) time.

    ``mode`` is how digits are handled, as the caller's switch_input_args_t:
    "callback" takes every digit and stops on a terminator (playback's
    on_dtmf); "buffer" takes the first digit and stops (switch_ivr_read's
    args.buf); "none" leaves digits queued (NULL args).
    """
    if not ch.up:
        return PlayResult("hangup")
    if not (ch.answered or ch.early_media):
        ch.mark_pre_answered()
    try:
        prompt = media.resolve(path, ch.switch.globals.get("sound_prefix", ""))
    except media.MediaNotFound:
        ch.note(f"file not found: {path}")
        ch.flush_dtmf()  # ps:1492
        return PlayResult("notfound")
    start_headers = []
    if prompt.file_type in ("tone_stream", "local_stream"):
        start_headers.append(("Playback-File-Type", prompt.file_type))
    start_headers.append(("Playback-File-Path", prompt.path))
    ch.fire("PLAYBACK_START", after=start_headers)
    ch.heard(path)
    clock = ch.switch.clock
    start = clock.now()
    result = PlayResult("done")
    while True:
        left = prompt.seconds - (clock.now() - start)
        if left <= 0:
            break
        why = ch.wait(left, lambda: ch.interruption(dtmf=mode != "none"))
        if why is None:
            break
        if why == "dtmf":
            digit = ch.take_dtmf() or ""
            if mode == "buffer":
                result = PlayResult("break", digit)
                break
            if digit and digit in terminators:
                ch.set_var("playback_terminator_used", digit)
                result = PlayResult("break", digit)
                break
            continue
        if why == "break":
            ch.break_flag = False
            result = PlayResult("break")
        elif why == "hangup":
            result = PlayResult("hangup")
        else:
            result = PlayResult("not_ready")
        break
    played = min(clock.now() - start, prompt.seconds)
    _set_playback_vars(ch, played, prompt.seconds)
    ch.fire(
        "PLAYBACK_STOP",
        after=[*start_headers, ("Playback-Status", "break" if result.status == "break" else "done")],
    )
    return result


def _set_playback_vars(ch: Channel, played: float, total: float) -> None:
    """ps:2011-2018. The file is read ahead in 16384-sample chunks: the
    "samples" a stopped prompt reports are rounded up to the chunk."""
    written = int(played * media.RATE) // FRAME * FRAME
    total_samples = int(total * media.RATE) if total != float("inf") else None
    chunks = max(-(-written // READ_CHUNK), 1) * READ_CHUNK
    samples_in = chunks if total_samples is None else min(chunks, total_samples)
    ch.set_var("playback_last_offset_pos", str(written))
    ch.set_var("playback_seconds", str(samples_in // media.RATE))
    ch.set_var("playback_ms", str(samples_in // (media.RATE // 1000)))
    ch.set_var("playback_samples", str(samples_in))


def playback_terminators(ch: Channel) -> str:
    """on_dtmf (dpt:2350): playback_terminators, default "*"; "any"; "none"."""
    value = ch.get_var("playback_terminators")
    if value is None:
        return "*"
    if value.lower() == "any":
        return "1234567890*#"
    if value.lower() == "none":
        return ""
    return value


def run_for(ch: Channel, seconds: float, terminators: str, *, eat_digits: bool = True) -> str:
    """Let ``seconds`` of media pass as on_dtmf does (dpt:2350): taken digits
    that are terminators stop it (recorded in playback_terminator_used).

    Returns "done", "terminator", "digit" (a digit waiting, not taken, when
    ``eat_digits`` is false), "break" (uuid_break), or "gone" (hangup,
    transfer).
    """
    clock = ch.switch.clock
    end = clock.now() + seconds
    while ch.up:
        left = end - clock.now()
        if left <= 0:
            return "done"
        why = ch.wait(left, lambda: ch.interruption(dtmf=True))
        if why is None:
            return "done"
        if why == "dtmf":
            if not eat_digits:
                return "digit"
            d = ch.take_dtmf() or ""
            if d in terminators:
                ch.set_var("playback_terminator_used", d)
                return "terminator"
            continue
        if why == "break":
            ch.break_flag = False
            return "break"
        return "gone"
    return "gone"


def _files(ch: Channel, data: str) -> list[str]:
    delim = ch.get_var("playback_delimiter")
    if delim:
        return [p for p in data.split(delim[0]) if p]
    return [data]


@app("playback", needs_media=True)
def playback(ch: Channel, data: str) -> None:
    """playback_function (dpt:3029): FILE PLAYED / FILE NOT FOUND / PLAYBACK ERROR."""
    ch.set_var("playback_terminator_used", None)
    terms = playback_terminators(ch)
    res = PlayResult("done")
    files = _files(ch, data.strip())
    for i, one in enumerate(files):
        if i:
            gap = int_arg(ch.get_var("playback_sleep_val"), 250) / 1000.0
            if ch.sleep(gap) in ("hangup", "reset"):
                res = PlayResult("hangup" if not ch.up else "not_ready")
                break
        res = play_file(ch, one, terminators=terms)
        if res.status != "done":
            break
    if not data.strip():
        respond(ch, "PLAYBACK ERROR")
    elif res.status in ("done", "break"):
        respond(ch, "FILE PLAYED")
    elif res.status == "notfound":
        respond(ch, "FILE NOT FOUND")
    else:
        respond(ch, "PLAYBACK ERROR")


@app("endless_playback", needs_media=True)
def endless_playback(ch: Channel, data: str) -> None:
    while ch.up:
        if play_file(ch, data.strip(), terminators=playback_terminators(ch)).status != "done":
            break
    respond(ch, "PLAYBACK ERROR")


@app("speak", needs_media=True)
def speak(ch: Channel, data: str) -> None:
    """speak_function (dpt:2417): [engine|][voice|]text; no PLAYBACK_* events (ps:3026)."""
    parts = data.split("|", 2)
    text = parts[-1]
    engine = parts[0] if len(parts) == 3 else ch.get_var("tts_engine")
    voice = parts[1] if len(parts) == 3 else (parts[0] if len(parts) == 2 else ch.get_var("tts_voice"))
    if not engine or not voice or not text:
        ch.note(f"speak: invalid params [{engine}][{voice}][{text}]")
        ch.hangup("DESTINATION_OUT_OF_ORDER")
        return
    ch.set_var("playback_terminator_used", None)
    ch.heard(f"(tts) {text}")
    run_for(ch, media.tts_seconds(text), playback_terminators(ch))


@app("say", needs_media=True)
def say(ch: Channel, data: str) -> None:
    """say_function (dpt:2911): <module>[:<lang>] <type> <method> [<gender>] <text>.

    mod_say_* plays one file_string of sound files; the emulator plays a
    file_string of nominal length per spoken item.
    """
    argv = separate_string(data, " ", 5)
    if len(argv) < 4:
        ch.note(f"say: usage error: {data}")
        return
    text = argv[-1] if len(argv) == 5 else argv[3]
    play_file(ch, f"say://{argv[0]}/{argv[1]}/{text}", terminators=playback_terminators(ch))


@app("sleep")
def sleep_app(ch: Channel, data: str) -> None:
    """sleep_function (dpt:2390) / switch_ivr_sleep (ivr:127).

    Any queued digit ends the sleep without being taken, unless
    sleep_eat_digits is set, when digits are taken as playback terminators.
    """
    if not data.strip():
        return
    eat = is_true(ch.get_var("sleep_eat_digits"))
    if eat:
        ch.set_var("playback_terminator_used", None)
    run_for(ch, int_arg(data.strip(), 0) / 1000.0, playback_terminators(ch) if eat else "", eat_digits=eat)
