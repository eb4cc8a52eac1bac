"""Rating usage into a statement: tables and hypothesis-generated usage that must reconcile."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fsapps.billing import statement
from fsapps.billing.rating import PlanError, month_bounds, parse_plan, rate
from fsapps.store.records import KINDS, RESOURCES, UNITS, UsageRecord

PLAN = parse_plan({
    "currency": "EUR",
    "components": [
        {"type": "seat", "monthly": "25.00"},
        {"type": "outcome", "kind": "handled_call", "outcomes": ["answered"], "rate": "0.40"},
        {"type": "usage", "resource": "agent", "kind": "handled_call", "unit": "seconds",
         "rate": "0.0010", "weight": "1"},
        {"type": "usage", "resource": "recording", "kind": "recording", "unit": "seconds",
         "rate": "0.0004", "weight": "0.5"},
    ],
})  # fmt: skip


NOV10 = datetime(2026, 11, 10, tzinfo=UTC)


def rec(
    resource="agent",
    kind="handled_call",
    unit="seconds",
    workload="60",
    outcome="answered",
    at=NOV10,
    tenant="acme",
) -> UsageRecord:
    return UsageRecord(
        tenant, resource, kind, at, at + timedelta(seconds=1), Decimal(workload), unit, outcome
    )


def test_a_statement_by_hand() -> None:
    usage = [
        rec(workload="125"),
        rec(workload="61", outcome="abandoned"),
        rec("recording", "recording", workload="300"),
        rec("fax", "fax_pages", "pages", "3", "received"),
    ]
    s = rate("acme", "2026-11", "UTC", PLAN, usage, seats=3)
    # 3 seats; one answered call; 186 agent seconds at 0.001 (0.186 -> 0.19);
    # 300 recording seconds at 0.0004, weight 0.5 (0.06).
    assert [ln.amount for ln in s.lines] == [
        Decimal("75.00"),
        Decimal("0.40"),
        Decimal("0.19"),
        Decimal("0.06"),
    ]
    assert s.total == Decimal("75.65")
    assert [(u.resource, u.records) for u in s.unrated] == [("fax", 1)]


def test_month_follows_the_tenant_timezone() -> None:
    start, _ = month_bounds("2026-11", "Asia/Shanghai")
    assert start.isoformat() == "2026-11-01T00:00:00+08:00"
    late = rec(at=datetime(2026, 10, 31, 17, 0, tzinfo=UTC))  # 01:00 on Nov 1 in Shanghai
    assert rate("acme", "2026-11", "Asia/Shanghai", PLAN, [late], seats=0).records == 1
    assert rate("acme", "2026-11", "UTC", PLAN, [late], seats=0).records == 0
    assert month_bounds("2026-12", "UTC")[1] == datetime(
        2027, 1, 1, tzinfo=month_bounds("2026-12", "UTC")[1].tzinfo
    )


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ({"components": [{"type": "seat", "monthly": "-1"}]}, "non-negative"),
        (
            {
                "components": [
                    {
                        "type": "usage",
                        "resource": "agent",
                        "kind": "handled_call",
                        "unit": "hours",
                        "rate": "1",
                    }
                ]
            },
            "unit: expected",
        ),
        ({"components": [{"type": "bonus"}]}, "expected seat, outcome or usage"),
        ({"components": [{"type": "outcome", "kind": "handled_call", "rate": "1"}]}, "needs outcomes"),
        ({"components": [{"type": "seat", "monthly": "lots"}]}, "not a number"),
    ],
)
def test_bad_plans(plan, message) -> None:
    with pytest.raises(PlanError, match=message):
        parse_plan(plan)


def test_files_agree_with_the_statement(tmp_path) -> None:
    s = rate("acme", "2026-11", "UTC", PLAN, [rec(), rec(workload="10")], seats=1)
    csv_path, json_path = statement.write(s, tmp_path)
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text())))
    assert rows[-1]["description"] == "Total" and Decimal(rows[-1]["amount"]) == s.total
    assert sum(Decimal(r["amount"]) for r in rows[:-1]) == s.total
    assert Decimal(json.loads(json_path.read_text())["total"]) == s.total


NOV1 = datetime(2026, 11, 1, tzinfo=UTC)


def _usage(res, kind, unit, w, outcome, hours, tenant) -> UsageRecord:
    return rec(res, kind, unit, str(w), outcome, NOV1 + timedelta(hours=hours), tenant)


usage_st = st.builds(
    _usage,
    st.sampled_from(RESOURCES),
    st.sampled_from(KINDS),
    st.sampled_from(UNITS),
    st.decimals(min_value=0, max_value=100000, places=3, allow_nan=False),
    st.sampled_from(["answered", "abandoned", "converted"]),
    st.integers(min_value=-48, max_value=24 * 31),  # spills over both month ends
    st.sampled_from(["acme", "bank"]),
)


@given(usage=st.lists(usage_st, max_size=60), seats=st.integers(0, 50))
@settings(max_examples=200, deadline=None)
def test_statements_reconcile_with_the_usage(usage, seats) -> None:
    s = rate("acme", "2026-11", "UTC", PLAN, usage, seats)
    start, end = month_bounds("2026-11", "UTC")
    mine = [r for r in usage if r.tenant_id == "acme" and start <= r.started_at < end]
    assert s.records == len(mine)
    # Each line's quantity is exactly the matching records' workload (or count).
    for comp, line in zip(PLAN.components, s.lines, strict=True):
        hits = [r for r in mine if comp.matches(r)]
        if comp.type == "usage":
            assert line.quantity == sum((r.workload for r in hits), Decimal(0))
        elif comp.type == "outcome":
            assert line.quantity == len(hits)
        else:
            assert line.quantity == seats
        assert line.amount == (line.quantity * line.unit_price * line.weight).quantize(
            Decimal("0.01"), "ROUND_HALF_UP"
        )
    # Nothing vanishes: every record is in a line or in unrated.
    rated = {r.event_id for r in mine for c in PLAN.components if c.matches(r)}
    assert sum(u.records for u in s.unrated) == len(mine) - len(rated)
    assert s.total == sum(ln.amount for ln in s.lines)
