"""What a tenant admin sets for the console, as pure rules (no I/O).

The supervisor floor's stuck-agent limits: how long an agent may do one thing before the
floor raises an alert. Ringing for a minute means the phone is not answering; a call of 20
minutes, a wrap-up of 3 or 5 minutes idle after a call deserve a look; a break of 30
minutes is over. Ready and logged out have no limit: waiting for calls is the job. A
tenant changes any of them (a sales floor's calls are longer than a help desk's)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# activity (fsapps.web.schemas.ACTIVITIES) -> seconds; the floor's page had these built in
STUCK_DEFAULTS: dict[str, int] = {
    "ringing": 60, "talking": 1200, "wrap_up": 180, "idle": 300, "on_break": 1800,
}  # fmt: skip
SHORTEST, LONGEST = 10, 24 * 3600  # under 10 s every ring alerts; a day is no limit at all


def stuck_limits(stored: Mapping[str, Any] | None) -> dict[str, int]:
    """The limits in force: the tenant's where it set one, the default elsewhere. A stored
    value out of range or for an activity no longer known is ignored, never trusted."""
    out = dict(STUCK_DEFAULTS)
    for activity, value in (stored or {}).items():
        if activity in out and isinstance(value, int) and SHORTEST <= value <= LONGEST:
            out[activity] = value
    return out
