"""Prometheus collectors, one place: what the applications and the controller count.

Labels are tenant-scoped (principle 5) and bounded: tenant, flow, node and
outcome come from the rendered flows, never from callers' input.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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

# --- ACD (fsapps.acd), labelled by tenant and queue ---------------------------------

ACD_WAITING = Gauge(
    "fsapps_acd_callers_waiting", "Callers waiting in the queue (all controllers).", ["tenant", "queue"]
)
ACD_LONGEST_WAIT = Gauge("fsapps_acd_longest_wait_seconds", "The longest current wait.", ["tenant", "queue"])
ACD_AGENTS = Gauge(
    "fsapps_acd_agents",
    "Agents serving the queue, by status and state.",
    ["tenant", "queue", "status", "state"],
)
ACD_OFFERS = Counter("fsapps_acd_offers", "Agent legs rung for callers of the queue.", ["tenant", "queue"])
ACD_CALLS = Counter(
    "fsapps_acd_calls",
    "Queue visits by how they ended: answered, abandoned, overflowed, timed_out, callback, moved.",
    ["tenant", "queue", "outcome"],
)
ACD_ANSWERED_IN_SL = Counter(
    "fsapps_acd_answered_within_service_level",
    "Calls answered within the queue's service-level-seconds (divide by answered for the service level).",
    ["tenant", "queue"],
)
ACD_WAIT = Histogram(
    "fsapps_acd_wait_seconds",
    "Time in the queue by outcome (answered: the speed of answer; its mean is the ASA).",
    ["tenant", "queue", "outcome"],
    buckets=(1, 5, 10, 20, 30, 60, 120, 300, 600),
)
ACD_HANDLE = Histogram(
    "fsapps_acd_handle_seconds",
    "Talk plus wrap-up time of answered calls.",
    ["tenant", "queue"],
    buckets=(15, 30, 60, 120, 180, 300, 600, 1200),
)

# --- records (fsapps.store.durable) ----------------------------------------------------

RECORDS_QUARANTINED = Counter(
    "fsapps_records_quarantined",
    "Records set aside in <state_dir>/spool/quarantine.jsonl instead of PostgreSQL, by kind (usage, cdr,"
    " callback, survey, queue_call; line: a spool line that is no record) and reason (the SQLSTATE class"
    " PostgreSQL refused it with: 22 bad data, 23 a constraint such as a missing tenant; no_tenant; torn;"
    " unreadable).",
    ["kind", "reason"],
)
