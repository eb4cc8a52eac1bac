"""Prometheus collectors, one place: what the applications and the controller count.

Labels are tenant-scoped (principle 5) and bounded: tenant, flow, node and
outcome come from the rendered flows, never from callers' input.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

IVR_SESSIONS = Counter(
    "fsapps_ivr_sessions",
    "Flow nodes the controller ran, by how they ended (the branch taken, caller_hung_up, failed).",
    ["tenant", "flow", "node", "outcome"],
)
LOOKUP_SECONDS = Histogram(
    "fsapps_lookup_seconds",
    "Time a lookup took, retries included.",
    ["tenant", "source"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5),
)
LOOKUP_ERRORS = Counter(
    "fsapps_lookup_errors",
    "Lookups that failed (timeout, http status, database) after their retries.",
    ["tenant", "source", "error"],
)
