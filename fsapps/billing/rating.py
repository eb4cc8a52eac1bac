"""Rating: usage records and a tenant's billing plan -> a monthly statement. Pure.

A plan is a list of components, combined freely:

    {"currency": "EUR", "components": [
        {"type": "seat", "monthly": "25.00"},                       # per agent seat a month
        {"type": "outcome", "kind": "handled_call",                  # per successful outcome
         "outcomes": ["answered", "converted"], "rate": "0.40"},
        {"type": "usage", "resource": "agent", "kind": "handled_call",  # per unit of work,
         "unit": "seconds", "rate": "0.0010", "weight": "1"}]}         # weighted

Money is Decimal, each line rounded half-up to the currency's minor unit;
the total is the sum of the rounded lines, so lines always add up. Every
record in the month lands in at least one line or in ``unrated``: nothing
disappears silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from fsapps.store.records import KINDS, RESOURCES, UNITS, UsageRecord

MINOR_UNITS = {"JPY": 0, "KRW": 0, "BHD": 3, "KWD": 3}  # ISO 4217 exponents that are not 2


class PlanError(ValueError):
    """A billing plan that cannot be used; the message says which component and why."""


@dataclass(frozen=True)
class Component:
    type: str  # seat | outcome | usage
    rate: Decimal
    resource: str | None = None
    kind: str | None = None
    unit: str | None = None
    outcomes: tuple[str, ...] = ()
    weight: Decimal = Decimal(1)
    label: str = ""

    def matches(self, r: UsageRecord) -> bool:
        if self.type == "outcome":
            return (
                r.kind == self.kind
                and r.outcome in self.outcomes
                and (self.resource is None or r.resource == self.resource)
            )
        if self.type == "usage":
            return r.resource == self.resource and r.kind == self.kind and r.unit == self.unit
        return False


@dataclass(frozen=True)
class Plan:
    currency: str
    components: tuple[Component, ...]

    @property
    def quantum(self) -> Decimal:
        return Decimal(1).scaleb(-MINOR_UNITS.get(self.currency, 2))


def _money(value: Any, where: str) -> Decimal:
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise PlanError(f"{where}: {value!r} is not a number") from None
    if not d.is_finite() or d < 0:
        raise PlanError(f"{where}: {value!r} must be a finite, non-negative number")
    return d


def parse_plan(data: Mapping[str, Any]) -> Plan:
    currency = str(data.get("currency", "EUR")).upper()
    comps = []
    for i, c in enumerate(data.get("components", [])):
        where = f"components[{i}]"
        kind = c.get("type")
        if kind == "seat":
            comps.append(
                Component("seat", _money(c.get("monthly"), f"{where}.monthly"), label=c.get("label", ""))
            )
        elif kind == "outcome":
            if c.get("kind") not in KINDS:
                raise PlanError(f"{where}.kind: expected one of {', '.join(KINDS)}")
            outcomes = c.get("outcomes") or ([c["outcome"]] if c.get("outcome") else [])
            if not outcomes:
                raise PlanError(f"{where}: an outcome component needs outcomes")
            resource = c.get("resource")
            if resource is not None and resource not in RESOURCES:
                raise PlanError(f"{where}.resource: expected one of {', '.join(RESOURCES)}")
            comps.append(
                Component(
                    "outcome",
                    _money(c.get("rate"), f"{where}.rate"),
                    resource=resource,
                    kind=c["kind"],
                    outcomes=tuple(outcomes),
                    label=c.get("label", ""),
                )
            )
        elif kind == "usage":
            for key, allowed in (("resource", RESOURCES), ("kind", KINDS), ("unit", UNITS)):
                if c.get(key) not in allowed:
                    raise PlanError(f"{where}.{key}: expected one of {', '.join(allowed)}")
            weight = _money(c.get("weight", 1), f"{where}.weight")
            comps.append(
                Component(
                    "usage",
                    _money(c.get("rate"), f"{where}.rate"),
                    resource=c["resource"],
                    kind=c["kind"],
                    unit=c["unit"],
                    weight=weight,
                    label=c.get("label", ""),
                )
            )
        else:
            raise PlanError(f"{where}.type: expected seat, outcome or usage, got {kind!r}")
    return Plan(currency, tuple(comps))


@dataclass(frozen=True)
class Line:
    description: str
    component: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    weight: Decimal
    amount: Decimal
    records: int  # usage records behind this line (0 for seats)


@dataclass(frozen=True)
class Unrated:
    resource: str
    kind: str
    unit: str
    records: int
    workload: Decimal


@dataclass(frozen=True)
class Statement:
    tenant_id: str
    month: str
    period_start: datetime
    period_end: datetime
    currency: str
    lines: tuple[Line, ...]
    total: Decimal
    records: int  # usage records in the period
    unrated: tuple[Unrated, ...] = field(default=())


def month_bounds(month: str, timezone: str) -> tuple[datetime, datetime]:
    """[first instant, first instant of the next month) in the tenant's timezone."""
    try:
        year, mon = (int(x) for x in month.split("-"))
        start = datetime(year, mon, 1, tzinfo=ZoneInfo(timezone))
    except (ValueError, KeyError) as exc:
        raise PlanError(f"month {month!r}: expected YYYY-MM") from exc
    end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=ZoneInfo(timezone))
    return start, end


def _describe(c: Component) -> str:
    if c.label:
        return c.label
    if c.type == "seat":
        return "Agent seats, monthly"
    if c.type == "outcome":
        return f"{c.kind} with outcome {'/'.join(c.outcomes)}"
    return f"{c.resource} {c.kind}, per {c.unit.rstrip('s') if c.unit else ''}"


def rate(
    tenant_id: str,
    month: str,
    timezone: str,
    plan: Plan,
    usage: Iterable[UsageRecord],
    seats: int,
) -> Statement:
    start, end = month_bounds(month, timezone)
    recs = [r for r in usage if r.tenant_id == tenant_id and start <= r.started_at < end]
    q = plan.quantum
    lines: list[Line] = []
    rated: set[str] = set()
    for c in plan.components:
        if c.type == "seat":
            qty = Decimal(seats)
            amount = (qty * c.rate).quantize(q, ROUND_HALF_UP)
            lines.append(Line(_describe(c), "seat", qty, "seat", c.rate, Decimal(1), amount, 0))
            continue
        hits = [r for r in recs if c.matches(r)]
        rated.update(r.event_id for r in hits)
        if c.type == "outcome":
            qty = Decimal(len(hits))
            unit = "outcome"
        else:
            qty = sum((Decimal(r.workload) for r in hits), Decimal(0))
            unit = c.unit or ""
        amount = (qty * c.rate * c.weight).quantize(q, ROUND_HALF_UP)
        lines.append(Line(_describe(c), c.type, qty, unit, c.rate, c.weight, amount, len(hits)))
    groups: dict[tuple[str, str, str], list[UsageRecord]] = {}
    for r in recs:
        if r.event_id not in rated:
            groups.setdefault((r.resource, r.kind, r.unit), []).append(r)
    unrated = tuple(
        Unrated(res, kind, unit, len(items), sum((Decimal(i.workload) for i in items), Decimal(0)))
        for (res, kind, unit), items in sorted(groups.items())
    )
    total = sum((ln.amount for ln in lines), Decimal(0)).quantize(q)
    return Statement(tenant_id, month, start, end, plan.currency, tuple(lines), total, len(recs), unrated)
