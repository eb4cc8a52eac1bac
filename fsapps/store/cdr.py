"""A CDR from a CHANNEL_HANGUP_COMPLETE event: pure, no I/O.

The rendered dialplan marks a tenant's calls with ``fsapps_tenant``;
applications add ``fsapps_queue``, ``fsapps_agent`` and ``fsapps_recording``.
Legs of one call share ``call_uuid``: the first leg's uuid, which FreeSWITCH
puts on a bridged leg as ``originating_leg_uuid``
(switch_ivr_originate.c:3206).
"""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal

from fsapps.store.records import Cdr, UsageRecord


def _when(us: str | None) -> datetime | None:
    if not us or us == "0":
        return None
    return datetime.fromtimestamp(int(us) / 1_000_000, tz=UTC)


def _int(v: str | None) -> int:
    try:
        return int(v or 0)
    except ValueError:
        return 0


def outbound_usage(cdr: Cdr, fields: Mapping[str, str]) -> UsageRecord | None:
    """An agent's dial-out (fsapps.acd.operations.dial_out), from the CDR of the number's
    leg: agent/outbound_call, its billed seconds, answered or the hangup cause. Its id
    comes from the leg's, so a CDR replayed from the spool makes the record once."""
    agent = fields.get("variable_fsapps_outbound_agent")
    if not agent:
        return None
    event_id = str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, f"outbound_call:{cdr.leg_uuid}"))
    return UsageRecord(
        tenant_id=cdr.tenant_id, resource="agent", kind="outbound_call", resource_id=agent,
        started_at=cdr.started_at, ended_at=cdr.ended_at, workload=Decimal(cdr.billsec), unit="seconds",
        outcome="answered" if cdr.answered_at is not None else cdr.hangup_cause.lower(),
        call_uuid=cdr.call_uuid, event_id=event_id,
    )  # fmt: skip


def cdr_from_event(fields: Mapping[str, str]) -> Cdr | None:
    """None for a channel no tenant claims (or an event that is not a hangup)."""
    if fields.get("Event-Name") != "CHANNEL_HANGUP_COMPLETE":
        return None

    def var(name: str) -> str | None:
        return fields.get("variable_" + name) or None

    tenant = var("fsapps_tenant")
    leg_uuid = fields.get("Unique-ID")
    started = _when(var("start_uepoch"))
    ended = _when(var("end_uepoch"))
    if not tenant or not leg_uuid or started is None or ended is None:
        return None
    origin = var("fsapps_call_uuid") or var("originating_leg_uuid")
    return Cdr(
        event_id=leg_uuid,
        tenant_id=tenant,
        call_uuid=origin or leg_uuid,
        leg_uuid=leg_uuid,
        leg="b" if origin and origin != leg_uuid else "a",
        direction="outbound" if fields.get("Call-Direction") == "outbound" else "inbound",
        caller=fields.get("Caller-Caller-ID-Number"),
        # The number the caller dialled: the rendered flow transfers the call between
        # internal extensions (fx__<flow>__<node>), which Caller-Destination-Number follows.
        destination=fields.get("variable_fsapps_access_number") or fields.get("Caller-Destination-Number"),
        started_at=started,
        answered_at=_when(var("answer_uepoch")),
        ended_at=ended,
        wait_seconds=_int(var("fsapps_wait_seconds") or var("waitsec")),
        billsec=_int(var("billsec")),
        duration=_int(var("duration")),
        hangup_cause=fields.get("Hangup-Cause") or var("hangup_cause") or "NORMAL_CLEARING",
        queue=var("fsapps_queue"),
        agent_id=var("fsapps_agent"),
        recording=var("fsapps_recording"),
    )
