"""What a sound path lasts, and recordings written as real WAV files.

The emulator does not mix audio; it needs each prompt's duration to pace
playback the way switch_ivr_play_file does, and it writes recordings of the
right length so that length checks downstream hold.
"""

from __future__ import annotations

import os
import re
import wave
from dataclasses import dataclass
from pathlib import Path

RATE = 8000


class MediaNotFound(Exception):
    pass


@dataclass(frozen=True)
class Prompt:
    path: str
    seconds: float
    file_type: str  # Playback-File-Type in PLAYBACK_START: "tone_stream", "file", ...


_TONE_SEGMENT = re.compile(r"%\(([^)]*)\)")
_TONE_LOOPS = re.compile(r"(?:^|;)\s*[Ll]=(-?\d+)")


def tone_stream_seconds(spec: str) -> float:
    """Length of a teletone script (mod_tone_stream.c + libteletone).

    ``%(on,off,freq...)`` plays ``on`` ms of tone and ``off`` ms of silence;
    ``L=n`` repeats the whole script n times (L=-1 loops forever: inf).
    """
    total_ms = 0.0
    for seg in _TONE_SEGMENT.findall(spec):
        parts = [p.strip() for p in seg.split(",")]
        try:
            on = float(parts[0]) if parts and parts[0] else 0.0
            off = float(parts[1]) if len(parts) > 1 and parts[1] else 0.0
        except ValueError:
            continue
        total_ms += on + off
    m = _TONE_LOOPS.search(spec)
    loops = int(m.group(1)) if m else 1
    if loops < 0:
        return float("inf")
    return total_ms * max(loops, 1) / 1000.0


def tts_seconds(text: str) -> float:
    """How long a TTS engine takes to say ``text``: about 12 characters a second."""
    return max(len(text) / 12.0, 0.5)


def wav_seconds(path: str) -> float:
    try:
        with wave.open(path, "rb") as w:
            return w.getnframes() / float(w.getframerate() or RATE)
    except (wave.Error, EOFError) as exc:
        raise MediaNotFound(f"{path}: not a readable WAV file ({exc})") from exc


def resolve(path: str, sound_prefix: str, base_dirs: list[str] | None = None) -> Prompt:
    """Find a playable path and its duration, as switch_ivr_play_file would open it."""
    if path.startswith("tone_stream://"):
        return Prompt(path, tone_stream_seconds(path[len("tone_stream://") :]), "tone_stream")
    if path.startswith("silence_stream://"):
        ms = path[len("silence_stream://") :].split(",")[0]
        try:
            n = float(ms)
        except ValueError:
            n = 0.0
        return Prompt(path, float("inf") if n < 0 else n / 1000.0, "silence_stream")
    if path.startswith("say:") and not path.startswith("say://"):
        # switch_ivr_play_file's say: prefix speaks the text with tts_engine (ps:1376).
        return Prompt(path, tts_seconds(path[4:]), "tts")
    if path.startswith("say://"):
        # mod_say_* speaks one sound file per item: a nominal 0.6 s each.
        text = path.rsplit("/", 1)[-1]
        items = max(len([c for c in text if c.isalnum()]), 1)
        return Prompt(path, 0.6 * items, "file_string")
    if path.startswith("file_string://"):
        total = 0.0
        found = False
        for part in path[len("file_string://") :].split("!"):
            try:
                total += resolve(part, sound_prefix, base_dirs).seconds
                found = True
            except MediaNotFound:
                continue  # the file_string format skips a file it cannot open
        if not found:
            raise MediaNotFound(path)
        return Prompt(path, total, "file_string")
    candidates = [path]
    if not os.path.isabs(path):
        candidates = [os.path.join(sound_prefix, path)]
        candidates += [os.path.join(d, path) for d in base_dirs or []]
    for cand in candidates:
        for variant in (cand, cand + ".wav") if not cand.endswith(".wav") else (cand,):
            # mod_sndfile.c:244-272: <dir>/<rate>/<file> first, then the path as given.
            head, tail = os.path.split(variant)
            for p in (os.path.join(head, str(RATE), tail), variant):
                if os.path.isfile(p):
                    return Prompt(p, wav_seconds(p), "file")
    raise MediaNotFound(path)


def write_silence_wav(path: str, seconds: float, rate: int = RATE) -> int:
    """Write a 16-bit mono WAV of ``seconds``; returns its size in bytes."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    frames = max(round(seconds * rate), 0)
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        chunk = b"\x00\x00" * rate
        left = frames
        while left > 0:
            n = min(left, rate)
            w.writeframes(chunk[: n * 2])
            left -= n
    return os.path.getsize(path)
