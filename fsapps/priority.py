"""The controller's CPU scheduling: ``controller.priority`` in operator.yaml.

FreeSWITCH makes itself real-time when it starts: with no priority flag it
takes SCHED_FIFO priority 1 for every thread, and nice -10 where that fails
(switch_core.c, set_auto_priority -> set_realtime_priority). On a host that
the switch shares with a controller at normal priority, the switch's threads
run first whenever they are runnable, and the controller gets only what they
leave: under load it waits for a core more than it runs, and each caller's
offer waits with it. mod_callcenter never meets this, being inside the
switch.

``realtime`` puts the controller beside the switch: SCHED_RR at priority 1.
RR rather than FIFO, so that a controller kept busy yields its core to the
switch's threads at the end of each time slice (sched_rr_timeslice_ms,
100 ms by default) instead of holding it until it blocks. Threads and
processes the controller starts afterwards inherit it, among them the
embedded PostgreSQL's server and its backends, which is why ``fsapps serve``
applies it before anything else. An external PostgreSQL on the same host
needs the same from its service manager (systemd: CPUSchedulingPolicy=rr,
CPUSchedulingPriority=1).

It needs CAP_SYS_NICE (root, or systemd's AmbientCapabilities); without it
the controller runs at normal priority and says so.
"""

from __future__ import annotations

import os

PRIORITIES = ("normal", "realtime")
REALTIME_PRIORITY = 1  # FreeSWITCH's own (switch_types.h, SWITCH_PRI_LOW)


def apply(priority: str) -> str | None:
    """Schedule this process as ``priority`` says; returns why it could not, or None."""
    if priority not in PRIORITIES:
        raise ValueError(f"priority: expected one of {', '.join(PRIORITIES)}, got {priority!r}")
    if priority == "normal":
        return None
    try:
        os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(REALTIME_PRIORITY))
    except OSError as exc:
        return f"cannot take real-time priority (SCHED_RR {REALTIME_PRIORITY}): {exc.strerror}"
    return None


def describe(pid: int = 0) -> str:
    """How ``pid`` (0: this process) is scheduled, as chrt prints it: "SCHED_RR 1"."""
    policy = os.sched_getscheduler(pid)
    names = {os.SCHED_OTHER: "SCHED_OTHER", os.SCHED_FIFO: "SCHED_FIFO", os.SCHED_RR: "SCHED_RR"}
    return f"{names.get(policy, str(policy))} {os.sched_getparam(pid).sched_priority}"
