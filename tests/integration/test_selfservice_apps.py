"""The self-service applications, end to end: the example tenants' YAML ->
rendered XML -> emulated call -> controller running the real node
applications -> PostgreSQL (a real server) and back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from fsapps.flows.simulate import simulate
from fsapps.store import selfservice
from fsapps.store.durable import DurableWriter
from fsapps.store.records import Tenant

ROOT = Path(__file__).resolve().parents[2] / "dialplan"
HB_OPEN, HB_CLOSED = datetime(2026, 11, 23, 10, 0), datetime(2026, 11, 23, 23, 0)  # Asia/Hong_Kong
CN_OPEN = datetime(2026, 11, 23, 10, 0)  # Asia/Shanghai
CARD = "4000123412341234"

LOOKUP_TABLES = """
CREATE TABLE lookup.{name} (tenant_id text NOT NULL, {columns});
ALTER TABLE lookup.{name} ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON lookup.{name} TO fsapps_tenant USING (tenant_id = fsapps_current_tenant());
GRANT SELECT ON lookup.{name} TO fsapps_tenant;
"""


@pytest.fixture
def bank(store, tmp_path):
    """Both example tenants in the database, their lookup tables, a durable writer."""
    with store.operator() as op:
        op.add_tenant(Tenant("harbourbank", "Harbour Bank", "harbourbank.example", "Asia/Hong_Kong"))
        op.add_tenant(Tenant("cablenet", "Cablenet", "cablenet.example", "Asia/Shanghai", "zh"))
        for name, columns in (
            ("cards", "card_no text, balance numeric, currency text"),
            ("accounts", "account_no text, balance numeric, due_date date"),
        ):
            for statement in LOOKUP_TABLES.format(name=name, columns=columns).split(";"):
                if statement.strip():
                    op.conn.execute(statement)
        op.conn.execute(
            "INSERT INTO lookup.cards VALUES ('harbourbank', %s, 5230.75, 'HKD'),"
            " ('cablenet', '4000999999999999', 1.00, 'CNY')",
            (CARD,),
        )
        op.conn.execute("INSERT INTO lookup.accounts VALUES ('cablenet', '12345678', 128.50, '2026-12-05')")
    writer = DurableWriter(store, tmp_path / "spool").start()
    yield store, writer
    writer.stop()


def run(bank, tenant: str, at: datetime, digits=(), **kw):
    store, writer = bank
    return simulate(
        ROOT,
        tenant,
        at=at,
        digits=list(digits),
        real_apps=True,
        store=store,
        records=writer,
        speed=20.0,
        **kw,
    )


def usage(store, tenant: str) -> list[dict]:
    with store.tenant(tenant) as t:
        return t._all(
            "SELECT resource_id, outcome, workload, call_uuid FROM usage_records ORDER BY started_at"
        )


def test_card_balance_is_looked_up_and_read_back_in_words(bank):
    found = {"tenant": "harbourbank", "flow": "main", "node": "find_card", "outcome": "found"}
    before = REGISTRY.get_sample_value("fsapps_ivr_sessions_total", found) or 0
    lookups = REGISTRY.get_sample_value(
        "fsapps_lookup_seconds_count", {"tenant": "harbourbank", "source": "table"}
    )
    trace = run(bank, "harbourbank", HB_OPEN, ("1", "1", CARD), hangup_after=40)
    assert REGISTRY.get_sample_value("fsapps_ivr_sessions_total", found) == before + 1
    assert (
        REGISTRY.get_sample_value("fsapps_lookup_seconds_count", {"tenant": "harbourbank", "source": "table"})
        == (lookups or 0) + 1
    )
    assert ("main.find_card", "found") in trace.branches
    at = trace.prompts.index("balance_is")
    assert trace.prompts[at + 1 : at + 3] == ["5230 dollars and 75 cents", "accounts_menu"]
    records = {r["resource_id"]: r["outcome"] for r in usage(bank[0], "harbourbank")}
    assert records == {"main.screen": "_", "main.find_card": "found", "main.say_balance": "_"}


def test_unknown_card_is_not_found(bank):
    trace = run(bank, "harbourbank", HB_OPEN, ("1", "1", "4000555555555555", "0", "0"))
    assert ("main.find_card", "not_found") in trace.branches
    assert "not_found" in trace.prompts


def test_another_tenants_row_is_not_found(bank):
    """The lookup runs in the tenant's scope: cablenet's card is invisible to the bank."""
    trace = run(bank, "harbourbank", HB_OPEN, ("1", "1", "4000999999999999", "0", "0"))
    assert ("main.find_card", "not_found") in trace.branches


def test_a_missing_lookup_table_takes_the_fallback(bank):
    """premium.recognise reads lookup.premium_customers, which does not exist: fallback, not a dead call."""
    trace = run(bank, "harbourbank", HB_OPEN, to="95556", caller="85290001111", hangup_after=20)
    assert "premium.not_premium" in trace.nodes
    assert ("premium.recognise", "found") not in trace.branches


def test_blacklisted_prefix_hears_the_notice_and_is_cut_off(bank):
    store, _ = bank
    with store.tenant("harbourbank") as t:
        selfservice.add_blacklist(t, "85291", "prefix", "fraud ring")
        selfservice.add_blacklist(t, "85291000000", "exact", "expired", datetime(2026, 1, 1, tzinfo=UTC))
    trace = run(bank, "harbourbank", HB_OPEN, caller="85291234567")
    assert trace.prompts[-1] == "blocked"
    assert trace.ended_at == "main.screen"
    assert trace.hangup_cause == "NORMAL_CLEARING"
    assert "welcome" not in trace.prompts
    other = run(bank, "harbourbank", HB_OPEN, ("9",) * 3, caller="85299999999", hangup_after=15)
    assert "welcome" in other.prompts


def test_an_expired_entry_no_longer_blocks(bank):
    store, _ = bank
    with store.tenant("harbourbank") as t:
        selfservice.add_blacklist(t, "85290000000", "exact", "was", datetime(2026, 1, 1, tzinfo=UTC))
    trace = run(bank, "harbourbank", HB_OPEN, caller="85290000000", hangup_after=10)
    assert "welcome" in trace.prompts and "blocked" not in trace.prompts


def test_outage_for_the_callers_area_is_announced_and_the_leave_digit_skips_it(bank):
    store, _ = bank
    start = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    with store.tenant("cablenet") as t:
        selfservice.post_outage(
            t, "prefix", "0755", "南山区光缆中断，预计下午三点恢复。", start, start + timedelta(hours=8)
        )
        selfservice.post_outage(t, "prefix", "020", "广州停机维护。", start, start + timedelta(hours=8))
    trace = run(bank, "cablenet", CN_OPEN, ("0",), caller="075588880000", hangup_after=12)
    assert "南山区光缆中断，预计下午三点恢复。" in trace.prompts
    assert ("main.outage", "leave") in trace.branches
    assert "welcome" in trace.prompts
    elsewhere = run(bank, "cablenet", CN_OPEN, caller="01088880000", hangup_after=8)
    assert not any("中断" in p or "停机" in p for p in elsewhere.prompts)
    assert ("main.outage", "_") in elsewhere.branches


def test_an_ended_outage_is_not_announced(bank):
    store, _ = bank
    start = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    with store.tenant("cablenet") as t:
        oid = selfservice.post_outage(t, "prefix", "0755", "旧的通知。", start, start + timedelta(days=30))
        assert selfservice.end_outage(t, oid, datetime(2026, 11, 22, tzinfo=UTC))
    trace = run(bank, "cablenet", CN_OPEN, caller="075588880000", hangup_after=8)
    assert "旧的通知。" not in trace.prompts


def test_cablenet_account_balance_by_collected_digits(bank):
    trace = run(
        bank, "cablenet", CN_OPEN, ("2", "12345678", "", "", ""), caller="01088880000", hangup_after=40
    )
    assert ("main.lookup", "found") in trace.branches
    assert "say zh CURRENCY pronounced 128.50" in trace.prompts


def test_callback_request_keeps_the_number_and_is_stored(bank):
    store, _ = bank
    trace = run(bank, "harbourbank", HB_CLOSED, ("2", "1", "1"), caller="85261234567")
    assert "callback_offer" in trace.prompts and "callback_confirm" in trace.prompts
    with store.tenant("harbourbank") as t:
        requests = selfservice.callback_requests(t)
    assert [(r["number"], str(r["call_uuid"]) != "") for r in requests] == [("85261234567", True)]


def test_declined_callback_stores_nothing(bank):
    store, _ = bank
    trace = run(bank, "harbourbank", HB_CLOSED, ("2", "1", "", ""), caller="85261234567")
    assert "callback_confirm" not in trace.prompts
    with store.tenant("harbourbank") as t:
        assert selfservice.callback_requests(t) == []


def test_caller_hanging_up_mid_prompt_still_writes_the_usage_record(bank):
    """The callback offer is cut short by the caller: the application ends cleanly, billed."""
    store, _ = bank
    trace = run(bank, "harbourbank", HB_CLOSED, ("2", "1"), caller="85261234567", hangup_after=16)
    assert trace.ended_at == "main.callback"
    records = {r["resource_id"]: r["outcome"] for r in usage(store, "harbourbank")}
    assert records["main.callback"] == "caller_hung_up"
    with store.tenant("harbourbank") as t:
        assert selfservice.callback_requests(t) == []
