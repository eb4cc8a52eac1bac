"""The desk's SQL: the caller an agent is talking to, the calls handed from one agent to
another (fsapps.web.desk), and a customer's recorded calls. Every function takes a
``TenantScope``: row-level security keeps it to the tenant's rows."""

from __future__ import annotations

from typing import Any

from fsapps.store.db import TenantScope


def caller_of(t: TenantScope, agent: str) -> dict[str, Any] | None:
    """The tenant's caller ``agent`` is on a queue call with: member, queue, number, name."""
    return t._one(
        "SELECT m.uuid AS member, m.queue, coalesce(m.cid_number, '') AS number,"
        " coalesce(m.cid_name, '') AS name"
        " FROM agent_state a JOIN queue_members m ON m.uuid = a.offered_member"
        " WHERE a.agent_id = %s AND a.state = 'In a queue call'",
        (agent,),
    )


def add_handover(t: TenantScope, caller: dict[str, Any], by: str, to: str, how: str,
                 customer_id: int | None) -> None:  # fmt: skip
    t.conn.execute(
        "INSERT INTO call_handovers (tenant_id, member, queue, number, name, from_agent, to_agent, how,"
        " customer_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (t.tenant_id, caller["member"], caller["queue"], caller["number"], caller["name"], by, to, how,
         customer_id),
    )  # fmt: skip


def handovers_to(t: TenantScope, agent: str, within_hours: float) -> list[dict[str, Any]]:
    """The latest handover to ``agent`` of each caller in the last ``within_hours``, newest
    first (whether the call still lasts is the switch's to say); ``consulting``: the caller's
    row still says its agent consults, ``with_from``: the agent who handed it on is still on
    a queue call with the caller (a consult cancelled: the caller is back with them)."""
    return t._all(
        "SELECT * FROM (SELECT DISTINCT ON (h.member) h.member, h.queue, h.number, h.name, h.from_agent,"
        " h.how, h.customer_id, h.at,"
        " coalesce((SELECT m.transfer->>'step' = 'consulting' FROM queue_members m WHERE m.uuid = h.member),"
        "   false) AS consulting,"
        " EXISTS (SELECT 1 FROM agent_state a WHERE a.agent_id = h.from_agent AND a.offered_member = h.member"
        "   AND a.state = 'In a queue call') AS with_from"
        " FROM call_handovers h"
        " WHERE h.to_agent = %s AND h.at > now() - make_interval(secs => %s)"
        " ORDER BY h.member, h.at DESC) latest ORDER BY at DESC LIMIT 20",
        (agent, within_hours * 3600),
    )


def customer_recording(t: TenantScope, customer_id: int, recording_id: str) -> str | None:
    """The stored path of a recorded queue call of one of the customer's numbers (None:
    no such recording of theirs)."""
    row = t._one(
        "SELECT q.recording FROM queue_calls q WHERE q.event_id = %s::uuid AND q.recording IS NOT NULL"
        " AND q.caller IN (SELECT number FROM customer_numbers WHERE customer_id = %s)",
        (recording_id, customer_id),
    )
    return None if row is None else str(row["recording"])
