"""Login throttling: too many failed passwords for one user, or from one address, and
further attempts are refused for a while without checking the password at all (a guess
costs the guesser time, not our CPU: argon2 is slow on purpose). Pure: the caller passes
``now`` (monotonic seconds).

Failures are counted in a sliding window per key. A success clears the user's count, not
the address's: one right password must not reset a spray of guesses at many users from
one address. Counts live in the process (each controller throttles on its own), bounded
by ``max_keys``: past it the oldest keys are forgotten.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    per_user: int = 5  # failures allowed per username in the window
    per_address: int = 20  # ... per client address
    window: float = 900.0  # seconds


class LoginThrottle:
    def __init__(self, limits: Limits | None = None, max_keys: int = 10000) -> None:
        self.limits = limits or Limits()
        self.max_keys = max_keys
        self._failures: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.limits.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def retry_after(self, username: str, address: str, now: float) -> float | None:
        """Seconds until an attempt is allowed again, or None: go ahead."""
        waits = []
        for key, limit in ((("user", username.lower()), self.limits.per_user),
                           (("address", address), self.limits.per_address)):  # fmt: skip
            times = self._recent(key, now)
            if len(times) >= limit:
                # Allowed again once the oldest failure that keeps it at the limit leaves the window.
                waits.append(times[len(times) - limit] + self.limits.window - now)
        return max(waits) if waits else None

    def failed(self, username: str, address: str, now: float) -> None:
        for key in (("user", username.lower()), ("address", address)):
            times = self._failures.setdefault(key, deque())
            times.append(now)
            self._failures.move_to_end(key)
            limit = max(self.limits.per_user, self.limits.per_address)
            while len(times) > limit:  # older ones no longer decide anything
                times.popleft()
        while len(self._failures) > self.max_keys:
            self._failures.popitem(last=False)

    def succeeded(self, username: str) -> None:
        self._failures.pop(("user", username.lower()), None)
