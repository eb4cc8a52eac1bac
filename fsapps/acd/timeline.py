"""Where a queue caller's time goes, from the controller's socket to the agent's ring.

Each stage is stamped with the wall clock (seconds since the epoch), which on one host
reads as the switch's Event-Date-Timestamp does, so a bench can put the switch's own
events (the dialplan's ``socket``, the agent leg's CHANNEL_CREATE) on the same line:

    accepted   the controller accepted the switch's connection
    connected  the switch answered ``connect``
    queue      the queue node's application began (myevents, linger, the flow before it)
    joined     the caller's place is written (the visit's first variables, the join)
    pass       the dispatcher's pass that offered the caller began
    offered    that offer is committed (the agents reserved, the caller Trying)
    ring       the switch was told to ring the agent (``bridge``, or the leg's originate)

A caller's first offer is logged as one DEBUG line of the ``fsapps.acd.timeline`` logger.
Nothing is stamped unless that logger is enabled for DEBUG (``enabled()``): the path
under load pays one level check per call.
"""

from __future__ import annotations

import logging
import re
import time

LOG = logging.getLogger("fsapps.acd.timeline")
STAGES = ("accepted", "connected", "queue", "joined", "pass", "offered", "ring")
_LINE = re.compile(r"timeline (\S+) ((?:\w+=[0-9.]+ ?)+)")


def enabled() -> bool:
    return LOG.isEnabledFor(logging.DEBUG)


def stamp(marks: dict[str, float] | None, stage: str, at: float | None = None) -> None:
    """``stage``'s time (now by default) into ``marks``; the first stamp of a stage stands."""
    if marks is not None and stage not in marks:
        marks[stage] = time.time() if at is None else at


def emit(call: str, marks: dict[str, float]) -> None:
    stages = " ".join(f"{s}={marks[s]:.6f}" for s in STAGES if s in marks)
    LOG.debug("timeline %s %s", call, stages)


def parse(line: str) -> tuple[str, dict[str, float]] | None:
    """(call, stages) from a log line ``emit`` wrote, None for any other line."""
    found = _LINE.search(line)
    if found is None:
        return None
    stages = dict(part.split("=", 1) for part in found.group(2).split())
    return found.group(1), {k: float(v) for k, v in stages.items()}
