"""A prompt recording a tenant admin uploads, checked before it is stored where the switch
plays prompts from: a RIFF/WAVE file of 16-bit linear PCM, mono, at 8 or 16 kHz (what
FreeSWITCH's mod_sndfile plays on a call without a transcoding surprise), of a size the API
takes. Pure: bytes in, what it is or why not out."""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass

MAX_BYTES = 700_000  # base64 in a JSON body under the API's 1 MiB: ~43 s at 8 kHz, ~21 s at 16 kHz
RATES = (8000, 16000)


class BadWav(Exception):
    """Why the file cannot be a prompt, in words a person can act on."""


@dataclass(frozen=True)
class Wav:
    rate: int
    seconds: float


def check_wav(data: bytes) -> Wav:
    if len(data) > MAX_BYTES:
        raise BadWav(f"the file is {len(data)} bytes: at most {MAX_BYTES}")
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise BadWav("not a WAV file (no RIFF/WAVE header)")
    try:
        with wave.open(io.BytesIO(data), "rb") as w:
            channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
            frames = w.getnframes()
            got = len(w.readframes(frames)) // max(1, channels * width)
    except (wave.Error, EOFError) as exc:  # wave reads PCM only: "unknown format: 3" is float, 6/7 a-/mu-law
        raise BadWav(f"not a PCM WAV file ({exc})") from None
    if channels != 1:
        raise BadWav(f"{channels} channels: a prompt must be mono")
    if width != 2:
        raise BadWav(f"{8 * width}-bit samples: a prompt must be 16-bit PCM")
    if rate not in RATES:
        raise BadWav(f"{rate} Hz: a prompt must be 8000 or 16000 Hz")
    if frames == 0 or got < frames:
        raise BadWav("the file has no sound, or ends before its header says")
    return Wav(rate, frames / rate)
