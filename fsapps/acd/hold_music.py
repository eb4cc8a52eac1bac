"""Stopping a hold clip: how often to break it and how long to wait. Pure.

Hold music plays in short clips (a controller that dies leaves at most one
before the dialplan hands the call on). To act on an offer, a digit or an
announcement, the clip is broken. Measured on 1.10.12: a ``uuid_break`` that
reaches the channel before the queued playback has begun is lost (the
execute clears CF_BREAK, switch_core_session.c), so the clip is broken again
until it completes, quickly at first; and never with ``all``, which drops a
playback still queued: that one would then never complete. A clip that
does not stop after every try is given up on: the call goes back to the
dialplan.
"""

from __future__ import annotations

from dataclasses import dataclass

# The caller's channel variable that names their queue's hold music (its moh-sound, or the
# default), set when they join: an agent's hold (AgentOperations.hold) plays it to them.
VARIABLE = "fsapps_hold_music"

BREAKS = 80  # uuid_breaks sent at most
QUICK_BREAKS = 10  # the first ones, each followed by a short wait
QUICK_WAIT = 0.02  # seconds: a queued playback begins within a few ms
SLOW_WAIT = 0.25
LAST_WAIT = 15.0  # after the last break, for the clip to complete at all


@dataclass
class ClipStop:
    """The breaks of one clip so far."""

    clip: int
    breaks: int = 0
    last_wait: bool = False

    def next_try(self) -> tuple[bool, float] | None:
        """(send a break now?, then wait that many seconds for the clip to complete), or
        None: it will not stop."""
        if self.breaks < BREAKS:
            self.breaks += 1
            return True, QUICK_WAIT if self.breaks <= QUICK_BREAKS else SLOW_WAIT
        if not self.last_wait:
            self.last_wait = True
            return False, LAST_WAIT
        return None
