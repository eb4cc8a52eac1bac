"""What a real switch's recordings hold: a tone's share of a stretch of a WAV file.

The tests' sounds are the switch's tone_stream tones, so a Goertzel filter at the
tone's frequency tells them apart (hold music, a caller's "voice") without a
signal-processing library.
"""

from __future__ import annotations

import array
import math
import wave
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Recording:
    rate: int
    channels: list[list[int]]  # 16-bit samples, one list per channel (stereo: read, then write)

    def stretch(self, channel: int, start: float, end: float) -> list[int]:
        samples = self.channels[channel]
        return samples[max(0, int(start * self.rate)) : max(0, int(end * self.rate))]

    @property
    def seconds(self) -> float:
        return len(self.channels[0]) / self.rate


def load(path: Path) -> Recording:
    with wave.open(str(path)) as w:
        assert w.getsampwidth() == 2, f"{path}: {8 * w.getsampwidth()}-bit samples, not 16"
        n, rate = w.getnchannels(), w.getframerate()
        frames = array.array("h", w.readframes(w.getnframes()))
    return Recording(rate, [list(frames[i::n]) for i in range(n)])


def rms(samples: list[int]) -> float:
    return math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0


def tone_level(samples: list[int], rate: int, freq: float, block: float = 0.05) -> float:
    """The loudest ``block``-second stretch's amplitude at ``freq`` (Goertzel), in sample
    units: a tone that sounds for part of the stretch (hold music's 300 ms notes) counts.
    Each block is Hann-windowed, so a loud tone 200 Hz away does not leak into ``freq``."""
    size = int(rate * block)
    window = [0.5 - 0.5 * math.cos(2 * math.pi * i / (size - 1)) for i in range(size)]
    coeff = 2 * math.cos(2 * math.pi * freq / rate)
    best = 0.0
    for at in range(0, len(samples) - size + 1, size):
        s1 = s2 = 0.0
        for x, w in zip(samples[at : at + size], window, strict=True):
            s1, s2 = x * w + coeff * s1 - s2, s1
        power = s1 * s1 + s2 * s2 - coeff * s1 * s2
        best = max(best, 4 * math.sqrt(max(power, 0.0)) / size)  # the window halves the amplitude
    return best
