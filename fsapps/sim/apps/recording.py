"""Recording: record_session / stop_record_session (switch_ivr_async.c media
bug, l.2927 and l.1592) and record (switch_ivr_play_say.c:404). Files are
real WAV files of the recorded length (silence)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from fsapps.sim import media
from fsapps.sim.apps.playback import playback_terminators, run_for
from fsapps.sim.apps.registry import app, int_arg, is_true
from fsapps.sim.channel import Channel
from fsapps.sim.strings import separate_string


@dataclass
class Recording:
    path: str
    started: float
    limit: float | None
    # RECORD_BRIDGE_REQ (switch_ivr_async.c:3040, switch_core_io.c:663): frames are
    # written only while the channel is bridged.
    bridge_req: bool = False
    bridged_total: float = 0.0
    bridged_since: float | None = None

    def length(self, now: float) -> float:
        if not self.bridge_req:
            return now - self.started
        return self.bridged_total + (now - self.bridged_since if self.bridged_since is not None else 0.0)


def bridge_changed(ch: Channel, bridged: bool) -> None:
    """The channel joined or left a bridge: recordings that need one start or pause."""
    now = ch.switch.clock.now()
    for rec in ch.media_bugs.values():
        if not isinstance(rec, Recording) or not rec.bridge_req:
            continue
        if bridged and rec.bridged_since is None:
            rec.bridged_since = now
        elif not bridged and rec.bridged_since is not None:
            rec.bridged_total += now - rec.bridged_since
            rec.bridged_since = None


def resolve_path(ch: Channel, path: str) -> str:
    """A relative path is under the sound prefix or base directory (async:2969)."""
    if os.path.isabs(path):
        return path
    base = ch.switch.globals.get("sound_prefix") or ch.switch.globals.get("recordings_dir", ".")
    return os.path.join(base, path)


def _write(ch: Channel, path: str, seconds: float) -> None:
    """The switch writes 20 ms frames; record_* describe what was written."""
    samples = int(seconds * media.RATE) // 160 * 160
    size = media.write_silence_wav(path, samples / media.RATE)
    ch.set_var("record_file_size", str(size))
    ch.set_var("record_samples", str(samples))
    ch.set_var("record_seconds", str(samples // media.RATE))
    ch.set_var("record_ms", str(samples // (media.RATE // 1000)))


def start_recording(ch: Channel, path: str, limit: float | None = None) -> bool:
    path = resolve_path(ch, path)
    if path in ch.media_bugs:
        return True  # "Already recording"
    if not (ch.answered or ch.early_media):
        ch.mark_pre_answered()
    rec = Recording(path, ch.switch.clock.now(), limit, bridge_req=is_true(ch.get_var("RECORD_BRIDGE_REQ")))
    if rec.bridge_req and ch.bridged_to is not None:
        rec.bridged_since = rec.started
    ch.media_bugs[path] = rec
    ch.fire("RECORD_START", after=[("Record-File-Path", path)])
    ch.note(f"recording to {path}")
    return True


def stop_recording(ch: Channel, path: str) -> bool:
    """The media bug's CLOSE (async:1592): size, samples, cause, RECORD_STOP."""
    path = resolve_path(ch, path)
    rec = ch.media_bugs.pop(path, None)
    if not isinstance(rec, Recording):
        return False
    seconds = rec.length(ch.switch.clock.now())
    cause = "success-maxtime"
    if rec.limit is not None and seconds >= rec.limit:
        seconds = rec.limit
    elif not ch.up:
        cause = "no-input-timeout"  # l.1684: hung up, no speech detection configured
    _write(ch, path, seconds)
    ch.set_var("record_completion_cause", cause)
    ch.fire("RECORD_STOP", after=[("Record-File-Path", path), ("Record-Completion-Cause", cause)])
    ch.note(f"recording stopped: {path} ({seconds:.1f}s)")
    return True


def stop_all_recordings(ch: Channel) -> None:
    for path in list(ch.media_bugs):
        stop_recording(ch, path)


@app("record_session")
def record_session(ch: Channel, data: str) -> None:
    """<path> [+<limit_secs>] (dpt:3312)."""
    argv = separate_string(data, " ", 3)
    if not argv or not argv[0]:
        return
    limit = None
    if len(argv) > 1 and argv[1].lstrip("+").isdigit():
        limit = float(argv[1].lstrip("+"))
    start_recording(ch, argv[0], limit)
    if limit is not None:
        path = resolve_path(ch, argv[0])

        def expire() -> None:
            ch.wait(limit, lambda: path not in ch.media_bugs)
            if path in ch.media_bugs:
                stop_recording(ch, path)

        import gevent

        gevent.spawn(expire)


@app("stop_record_session")
def stop_record_session(ch: Channel, data: str) -> None:
    if data.strip().lower() == "all":
        stop_all_recordings(ch)
    else:
        stop_recording(ch, data.strip())


@app("record", needs_media=True)
def record(ch: Channel, data: str) -> None:
    """<path> [[+]<time_limit_secs>] [<silence_thresh>] [<silence_hits>] (dpt:3229)."""
    argv = separate_string(data, " ", 4)
    if not argv or not argv[0]:
        return
    path = resolve_path(ch, argv[0])
    limit = int_arg(argv[1].lstrip("+") if len(argv) > 1 else "", 0) or None
    ch.set_var("playback_terminator_used", None)
    clock = ch.switch.clock
    start = clock.now()
    ch.fire("RECORD_START", after=[("Record-File-Path", path)])
    ch.note(f"recording to {path}")
    run_for(ch, limit or float("inf"), playback_terminators(ch))
    seconds = clock.now() - start
    if limit:
        seconds = min(seconds, limit)
    _write(ch, path, seconds)
    ch.set_var("record_record_file_size", ch.variables.get("record_file_size"))
    ch.fire("RECORD_STOP", after=[("Record-File-Path", path)])
    ch.flush_dtmf()  # ps:1046 reset(TRUE, TRUE)
