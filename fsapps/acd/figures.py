"""The floor's figures, as a supervisor and a wallboard read them: what an agent is doing
now and for how long, and a queue's day (waiting, longest wait, service level, abandoned).

Pure: the agent's row, the queue's visits and ``now`` in, figures out; no clock, no I/O.
The store reads the rows (fsapps.store.api), the API serves the figures (fsapps.web).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fsapps.acd.model import AgentState, AgentStatus

# What a person on the floor sees an agent doing, in the words of a wallboard: mod_callcenter's
# status and state together, with wrap-up (Waiting, but not offered until last_bridge_end +
# wrap_up_time: decide.py's availability test) told apart from ready.
ACTIVITIES = ("available", "ringing", "talking", "wrap_up", "idle", "on_break", "logged_out")

# Outcomes that count in the service level: callers who came to be served in this queue and
# were, or were not. A callback asked for, or a caller moved to another queue, is neither.
OFFERED = ("answered", "abandoned", "timed_out", "overflowed")


def activity(agent: Mapping[str, Any], now: float) -> tuple[str, float]:
    """(what the agent is doing, seconds they have been doing it) from their agent_state
    row (status, state, the last_* epochs, wrap_up_time). The start of each is the moment
    the ACD recorded for it: the status change for a break or a logout, the offer for
    ringing, the bridge for talking, its end for wrap-up and On Demand's idle; ready counts
    from the latest of the status change, the end of wrap-up and the last offer (an offer
    not answered puts the agent back to Waiting)."""
    status = agent.get("status") or AgentStatus.LOGGED_OUT
    state = agent.get("state") or AgentState.WAITING
    changed = float(agent.get("last_status_change") or 0)
    bridge_start = float(agent.get("last_bridge_start") or 0)
    bridge_end = float(agent.get("last_bridge_end") or 0)
    offered = float(agent.get("last_offered_call") or 0)
    wrap_up_ends = bridge_end + float(agent.get("wrap_up_time") or 0)

    if status == AgentStatus.LOGGED_OUT:
        kind, since = "logged_out", changed
    elif state in (AgentState.RECEIVING, AgentState.RESERVED):  # Reserved: about to ring
        kind, since = "ringing", offered
    elif state == AgentState.IN_A_QUEUE_CALL:
        kind, since = "talking", bridge_start
    elif status == AgentStatus.ON_BREAK:
        kind, since = "on_break", changed
    elif state == AgentState.IDLE:
        kind, since = "idle", bridge_end
    elif bridge_end and wrap_up_ends > now:
        kind, since = "wrap_up", bridge_end
    else:
        kind, since = "available", max(changed, wrap_up_ends if bridge_end else 0.0, offered)
    # A call no queue made (a transfer straight to them, a dial-out: fsapps.acd.direct_calls):
    # the agent talks, whatever the ACD says, unless a queue's call rings or holds them.
    direct = float(agent.get("direct_call_since") or 0)
    if direct and kind not in ("ringing", "talking"):
        kind, since = "talking", direct
    return kind, round(max(now - since, 0.0), 1) if since else 0.0


def day_start(now: float, timezone: str) -> float:
    """Midnight of ``now``'s day in the tenant's timezone, as an epoch: "today" on the floor."""
    try:
        zone = ZoneInfo(timezone)
    except (KeyError, ValueError):  # a timezone the host does not know: the day of UTC
        zone = ZoneInfo("UTC")
    local = datetime.fromtimestamp(now, zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


@dataclass(frozen=True)
class QueueDay:
    """A queue's visits that ended today: how many by outcome, and how many of the answered
    waited no longer than the queue's ``service-level-seconds``."""

    answered: int = 0
    answered_within: int = 0
    abandoned: int = 0
    offered: int = 0  # answered, abandoned, timed out or overflowed

    @property
    def service_level(self) -> float | None:
        """Percent of the offered answered within the service level; None with none offered."""
        return round(100.0 * self.answered_within / self.offered, 1) if self.offered else None


def queue_day(visits: Iterable[Mapping[str, Any]], service_level_seconds: float) -> QueueDay:
    """``visits``: the queue's queue_calls rows of today (outcome, wait_seconds)."""
    answered = within = abandoned = offered = 0
    for v in visits:
        outcome = v["outcome"]
        if outcome not in OFFERED:
            continue
        offered += 1
        if outcome == "answered":
            answered += 1
            within += float(v["wait_seconds"]) <= service_level_seconds
        elif outcome == "abandoned":
            abandoned += 1
    return QueueDay(answered, within, abandoned, offered)


def waiting_now(callers: Iterable[Mapping[str, Any]], now: float) -> tuple[int, float]:
    """(callers waiting for an agent, the longest of their waits so far): those Waiting or
    ringing an agent (Trying), not those talking."""
    waits = [max(now - float(m["joined_epoch"]), 0.0) for m in callers if m["state"] in ("Waiting", "Trying")]
    return len(waits), round(max(waits, default=0.0), 1)


def agents_by_activity(agents: Iterable[Mapping[str, Any]], now: float) -> dict[str, int]:
    """How many of ``agents`` (agent_state rows) are doing each of ACTIVITIES (zeros kept)."""
    out = dict.fromkeys(ACTIVITIES, 0)
    for a in agents:
        out[activity(a, now)[0]] += 1
    return out
