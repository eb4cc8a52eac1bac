"""WAV files made for tests (stdlib ``wave``): a prompt recording of a given shape."""

from __future__ import annotations

import io
import math
import wave


def wav(rate: int = 8000, channels: int = 1, width: int = 2, seconds: float = 0.5) -> bytes:
    """A tone, as RIFF/WAVE linear PCM."""
    out = io.BytesIO()
    frames = int(rate * seconds)
    peak = (1 << (8 * width - 1)) - 1
    with wave.open(out, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        samples = bytearray()
        for n in range(frames):
            v = int(peak * 0.3 * math.sin(2 * math.pi * 440 * n / rate))
            one = (v + 128).to_bytes(1, "little") if width == 1 else v.to_bytes(width, "little", signed=True)
            samples += one * channels
        w.writeframes(bytes(samples))
    return out.getvalue()
