"""What the store keeps, as plain values: no database in sight."""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

RESOURCES = ("agent", "ivr", "recording", "fax", "voicemail", "dialer")
KINDS = (
    "handled_call", "ivr_session", "recording", "fax_pages", "voicemail", "outbound_attempt", "outbound_call",
)  # fmt: skip
UNITS = ("seconds", "pages", "bytes", "count")
ROLES = ("operator_admin", "tenant_admin", "supervisor", "agent", "qa")


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    domain: str
    timezone: str = "UTC"
    language: str = "en"
    billing_plan: dict[str, Any] = field(default_factory=lambda: {"currency": "EUR", "components": []})
    status: str = "active"


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    tenant_id: str | None
    disabled: bool = False
    language: str | None = None  # the console's, chosen for them; None: their browser's


@dataclass(frozen=True)
class UsageRecord:
    """One billable thing that happened: who, for which tenant, what, when, how much.

    ``event_id`` makes writing it idempotent: a record replayed from the
    spool after an outage lands once.
    """

    tenant_id: str
    resource: str
    kind: str
    started_at: datetime
    ended_at: datetime
    workload: Decimal
    unit: str
    outcome: str
    resource_id: str | None = None
    call_uuid: str | None = None
    event_id: str = field(default_factory=lambda: str(uuidlib.uuid4()))

    def __post_init__(self) -> None:
        if self.resource not in RESOURCES:
            raise ValueError(f"resource {self.resource!r} is not one of {', '.join(RESOURCES)}")
        if self.kind not in KINDS:
            raise ValueError(f"kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.unit not in UNITS:
            raise ValueError(f"unit {self.unit!r} is not one of {', '.join(UNITS)}")
        if self.ended_at < self.started_at:
            raise ValueError("a usage record cannot end before it starts")
        if Decimal(self.workload) < 0:
            raise ValueError("workload cannot be negative")

    def to_row(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id, "tenant_id": self.tenant_id, "resource": self.resource,
            "resource_id": self.resource_id, "kind": self.kind, "started_at": self.started_at,
            "ended_at": self.ended_at, "workload": Decimal(self.workload), "unit": self.unit,
            "outcome": self.outcome, "call_uuid": self.call_uuid,
        }  # fmt: skip


@dataclass(frozen=True)
class Cdr:
    """One leg of a call, as CHANNEL_HANGUP_COMPLETE described it."""

    event_id: str
    tenant_id: str
    call_uuid: str
    leg_uuid: str
    leg: str  # "a" (the call's first leg) or "b"
    direction: str
    caller: str | None
    destination: str | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime
    wait_seconds: int
    billsec: int
    duration: int
    hangup_cause: str
    queue: str | None = None
    agent_id: str | None = None
    recording: str | None = None

    def to_row(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class CallbackRequest:
    """A caller asked to be called back; ``queue_entered_at`` keeps their place."""

    tenant_id: str
    number: str
    requested_at: datetime
    call_uuid: str | None = None
    queue: str | None = None
    queue_entered_at: datetime | None = None
    event_id: str = field(default_factory=lambda: str(uuidlib.uuid4()))

    def to_row(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Voicemail:
    """A message a caller left in a tenant's voicemail box (mod_voicemail's leave-message)."""

    tenant_id: str
    box: str
    path: str
    left_at: datetime
    seconds: int = 0
    call_uuid: str | None = None
    caller_number: str = ""
    caller_name: str = ""
    event_id: str = field(default_factory=lambda: str(uuidlib.uuid4()))

    def to_row(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class TicketRequest:
    """A ticket a voicemail or a callback request asks for (the flow's node says so, and
    with which queue, skill and priority); ``event_id``: derived from the voicemail's or the
    request's, so it opens one ticket however often it is written."""

    tenant_id: str
    source: str  # voicemail | callback
    subject: str
    requested_at: datetime
    number: str = ""
    body: str = ""
    call_uuid: str | None = None
    queue: str | None = None
    skill: str | None = None
    priority: str = "normal"
    voicemail: str | None = None  # the Voicemail's event id
    event_id: str = field(default_factory=lambda: str(uuidlib.uuid4()))


@dataclass(frozen=True)
class QueueCall:
    """A caller's visit to a queue (fsapps.acd): waits, ring, talk, wrap-up, outcome."""

    tenant_id: str
    queue: str
    joined_at: datetime
    ended_at: datetime
    wait_seconds: float
    outcome: str
    call_uuid: str | None = None
    agent_id: str | None = None
    caller: str | None = None
    ring_seconds: float = 0
    talk_seconds: float = 0
    wrap_up_seconds: float = 0
    offers: int = 0
    recording: str | None = None
    event_id: str = field(default_factory=lambda: str(uuidlib.uuid4()))

    def to_row(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class SurveyAnswer:
    """One answer (1-5, or None when asked and not answered) to one survey question."""

    tenant_id: str
    flow: str
    question: str
    score: int | None
    answered_at: datetime
    call_uuid: str | None = None
    agent_id: str | None = None
    queue: str | None = None
    event_id: str = field(default_factory=lambda: str(uuidlib.uuid4()))

    def __post_init__(self) -> None:
        if self.score is not None and not 1 <= self.score <= 5:
            raise ValueError(f"a survey score is 1-5, not {self.score}")

    def to_row(self) -> dict[str, Any]:
        return dict(self.__dict__)
