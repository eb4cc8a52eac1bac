"""What a CRM webhook says, and how it is signed. Pure: takes ``now``, does no I/O.

Four events, from the controller's own ACD events (fsapps.acd.notifier), each once:

* ``call.offered``: an agent's phone rings for a caller (the screen pop's fields with it);
* ``call.answered``: the agent answered;
* ``call.ended``: the caller's queue visit is over (its outcome), with the recording's link
  when the call was recorded (the API's GET .../recordings/{id}/audio);
* ``ticket.escalated``: the tickets' sweep found a ticket overdue (its number, subject,
  priority, assignee and due time).

The body is one JSON object; the headers carry ``X-Fsapps-Event``, ``X-Fsapps-Delivery``
(the same on every retry, for the receiver to drop repeats), ``X-Fsapps-Timestamp`` and
``X-Fsapps-Signature: sha256=<hex>``, the HMAC-SHA256 under the tenant's secret of
``<timestamp>.<body>`` (a receiver checks it, and the timestamp's age against replays).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fsapps.acd.notifier import AcdEvent, MemberChanged, OfferMade, TicketEscalated

_NAMESPACE = uuid.UUID("0f4b8a52-7d0e-4c55-9a5e-61c3b0a9d5e1")
SIGNATURE = "X-Fsapps-Signature"
# What the queue sets on every agent's leg (fsapps.acd.visit): not the screen pop's fields.
OWN_VARIABLES = (
    "leg_timeout",
    "ignore_early_media",
    "origination_caller_id_number",
    "origination_caller_id_name",
)


@dataclass(frozen=True)
class Delivery:
    tenant: str
    event: str  # call.offered | call.answered | call.ended | ticket.escalated
    id: str  # stable across retries
    body: dict[str, Any]


def _at(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def delivery_of(event: AcdEvent, api_url: str = "") -> Delivery | None:
    """The webhook delivery an ACD event makes (None: not one a CRM is told of).
    ``api_url``: the API's public address, for the recording's link ("": a path alone)."""
    body: dict[str, Any]
    if isinstance(event, OfferMade):
        v = dict(event.variables)
        fields = {k: val for k, val in v.items() if k not in OWN_VARIABLES and not k.startswith("fsapps_")}
        body = {"call": event.member, "queue": event.queue, "agent": event.agent,
                "number": v.get("origination_caller_id_number", ""),
                "name": v.get("origination_caller_id_name", ""), "screen_pop": fields}  # fmt: skip
        return _delivery(event.tenant, "call.offered", f"{event.member}:{event.leg}", event.at, body)
    if isinstance(event, MemberChanged) and event.what == "answered":
        body = {"call": event.member, "queue": event.queue, "agent": event.agent,
                "number": event.number, "wait_seconds": round(event.wait, 3)}  # fmt: skip
        return _delivery(event.tenant, "call.answered", f"{event.member}:{event.agent}", event.at, body)
    if isinstance(event, MemberChanged) and event.what in ("left", "abandoned"):
        body = {"call": event.member, "queue": event.queue, "agent": event.agent or None,
                "number": event.number, "outcome": event.outcome or event.what,
                "wait_seconds": round(event.wait, 3), "handle_seconds": round(event.handle, 3),
                "recording": None, "recording_url": None}  # fmt: skip
        if event.recording:
            body["recording"] = event.recording
            path = f"/api/v1/tenants/{event.tenant}/recordings/{event.recording}/audio"
            body["recording_url"] = api_url.rstrip("/") + path
        return _delivery(event.tenant, "call.ended", f"{event.member}:{event.at:.6f}", event.at, body)
    if isinstance(event, TicketEscalated):
        body = {"ticket": event.number, "subject": event.subject, "priority": event.priority,
                "agent": event.agent or None, "queue": event.queue or None,
                "due_at": _at(event.due_at)}  # fmt: skip
        # Escalated once per ticket (the sweep marks it): the number and the due time name it.
        return _delivery(
            event.tenant, "ticket.escalated", f"{event.number}:{event.due_at:.6f}", event.at, body
        )
    return None


def _delivery(tenant: str, kind: str, key: str, at: float, body: dict[str, Any]) -> Delivery:
    ident = str(uuid.uuid5(_NAMESPACE, f"{tenant}:{kind}:{key}"))
    head = {"id": ident, "event": kind, "tenant": tenant, "at": _at(at)}
    return Delivery(tenant, kind, ident, {**head, **body})


def encode(delivery: Delivery) -> bytes:
    return json.dumps(delivery.body, separators=(",", ":"), ensure_ascii=False).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def headers(delivery: Delivery, secret: str, body: bytes, now: float) -> dict[str, str]:
    ts = int(now)
    return {
        "Content-Type": "application/json",
        "User-Agent": "fsapps-webhooks/1",
        "X-Fsapps-Event": delivery.event,
        "X-Fsapps-Delivery": delivery.id,
        "X-Fsapps-Timestamp": str(ts),
        SIGNATURE: signature(secret, ts, body),
    }


def verify(secret: str, timestamp: str, body: bytes, given: str) -> bool:
    """What a receiver does (and the tests): the signature is the body's under the secret."""
    return timestamp.isdigit() and hmac.compare_digest(signature(secret, int(timestamp), body), given)
