"""Virtual time for the emulator.

Everything the emulator reports (event timestamps, CDR durations, recording
lengths) is in virtual seconds; ``speed`` compresses how long that takes on
the wall clock, so a test can play a 30 s prompt in 0.3 s and still see a
30 s ``billsec``.
"""

from __future__ import annotations

import time

import gevent


class SimClock:
    def __init__(self, speed: float = 1.0, start: float | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._mono0 = time.monotonic()
        self._epoch0 = time.time() if start is None else start

    def now(self) -> float:
        """Virtual epoch seconds."""
        return self._epoch0 + (time.monotonic() - self._mono0) * self.speed

    def micros(self) -> int:
        return int(self.now() * 1_000_000)

    def to_wall(self, seconds: float) -> float:
        return max(seconds, 0.0) / self.speed

    def sleep(self, seconds: float) -> None:
        gevent.sleep(self.to_wall(seconds))
