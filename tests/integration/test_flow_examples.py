"""The example tenants in dialplan/, end to end: YAML -> XML -> emulated call -> controller.

Every branch written in their flows must be taken by at least one of the
calls below: the set of branches is read from the YAML, so a branch added
without a call that takes it fails here. The controller answers from a
script (fsapps.flows.simulate), so prompts its applications would play
(survey questions, callback offers) are not expected here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import gevent.pool
import pytest

from fsapps.flows.check import check
from fsapps.flows.simulate import Trace, simulate

ROOT = Path(__file__).resolve().parents[2] / "dialplan"


@dataclass(frozen=True)
class Call:
    tenant: str
    to: str
    at: str  # in the tenant's timezone
    digits: tuple[str, ...] = ()
    branches: dict[str, str] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)
    controller_up: bool = True
    ends_at: str | None = None  # flow.node where the call ends
    hears: tuple[str, ...] = ()  # prompts it must hear, in order (others may come between)


CN_OPEN, CN_CLOSED = "2026-11-23 10:00", "2026-11-23 22:00"  # a Monday, Asia/Shanghai
HB_OPEN, HB_CLOSED = "2026-11-23 10:00", "2026-11-23 23:00"
LONDON_OPEN, LONDON_LUNCH, XMAS = "2026-11-23 10:00", "2026-11-23 12:30", "2026-12-25 10:00"
ACCOUNT = "12345678"
CARD = "4000123412341234"

CALLS = [
    # cablenet: outage notice, service menu, balance by account number, faults, feedback, voicemail
    Call("cablenet", "96171", CN_OPEN, ("1",), ends_at="main.bye", hears=("welcome", "main_menu", "goodbye")),
    Call(
        "cablenet", "96171", CN_OPEN, ("2", ACCOUNT, "4", "9", "4", "", "", "4", "7", "7", "0"),
        branches={"outage": "leave"}, variables={"cn_balance": "128.50", "cn_due_date": "2026-12-05"},
        ends_at="main.bye", hears=("enter_account", "balance_is", "say zh CURRENCY pronounced 128.50", "due_date_is"),
    ),
    Call("cablenet", "96171", CN_OPEN, ("2", ACCOUNT, "2", "1", "1", "1", "", "", ""),
         branches={"lookup": "not_found"}, ends_at="main.bye", hears=("account_not_found", "account_invalid")),
    Call("cablenet", "96171", CN_OPEN, ("2", ACCOUNT, "9", "9", "9"), controller_up=False,
         ends_at="main.bye", hears=("account_not_found", "invalid", "goodbye")),
    Call("cablenet", "96171", CN_OPEN, ("3",), ends_at="main.bye", hears=("fault_intro", "goodbye")),
    Call("cablenet", "96171", CN_OPEN, ("3",), branches={"fault_queue": "timeout"},
         ends_at="main.after_hours_box", hears=("fault_intro", "closed")),
    Call("cablenet", "96171", CN_OPEN, ("3",), branches={"fault_queue": "callback"}, ends_at="main.bye"),
    Call("cablenet", "96171", CN_OPEN, ("1",), branches={"business": "callback"}, ends_at="main.bye"),
    Call("cablenet", "96171", CN_OPEN, ("4", "1"), ends_at="main.bye", hears=("feedback_menu", "goodbye")),
    Call("cablenet", "96171", CN_OPEN, ("4", "1"), branches={"complaint": "timeout"},
         ends_at="main.suggestion_box", hears=("suggestion_intro",)),
    Call("cablenet", "4008096171", CN_OPEN, ("4", "2"), ends_at="main.suggestion_box"),
    Call("cablenet", "96171", CN_OPEN, ("1",), branches={"business": "timeout"}, ends_at="main.after_hours_box"),
    Call("cablenet", "96171", CN_CLOSED, (), ends_at="main.after_hours_box", hears=("welcome", "closed")),
    # harbourbank: multi-level menu, card balance, lost cards, loans, insurer via the carrier, priority line
    Call("harbourbank", "95555", HB_OPEN, ("1", "1", CARD, "2"), variables={"hb_balance": "5230.75"},
         ends_at="main.bye", hears=("enter_card", "accounts_menu")),
    Call("harbourbank", "95555", HB_OPEN, ("1", "1", CARD, "0", "0"), branches={"say_balance": "missing"},
         ends_at="main.bye", hears=("enter_card", "not_found")),
    Call("harbourbank", "95555", HB_OPEN, ("1", "1", CARD, "0", "0"), branches={"find_card": "not_found"},
         ends_at="main.bye", hears=("not_found",)),
    Call("harbourbank", "95555", HB_OPEN, ("1", "1", "12", "12", "", "", "", "", "", "", ""),
         ends_at="main.bye", hears=("card_invalid", "goodbye")),
    Call("harbourbank", "95555", HB_OPEN, ("1", "7", "7", "9", "9", "9"), ends_at="main.bye"),
    Call("harbourbank", "95555", HB_OPEN, ("1", "2"), branches={"lost_card": "timeout"},
         ends_at="main.bye", hears=("accounts_menu", "goodbye")),
    Call("harbourbank", "95555", HB_OPEN, ("2", "1"), ends_at="main.bye", hears=("loans_menu", "goodbye")),
    Call("harbourbank", "95555", HB_OPEN, ("2", "1"), branches={"mortgage_queue": "timeout"}, ends_at="main.bye"),
    Call("harbourbank", "95555", HB_CLOSED, ("2", "1"), ends_at="main.bye", hears=("agents_closed",)),
    Call("harbourbank", "95555", HB_OPEN, ("2", "2"), ends_at="main.loans_queue"),
    Call("harbourbank", "95555", HB_OPEN, ("2", "3", "0", "", "", "", "", ""), ends_at="main.bye"),
    Call("harbourbank", "95555", HB_OPEN, ("2", "", "", "8", "8"), ends_at="main.bye"),
    Call("harbourbank", "95555", HB_OPEN, ("0",), ends_at="main.bye"),
    Call("harbourbank", "95555", HB_OPEN, ("0",), branches={"general_queue": "timeout"}, ends_at="main.bye"),
    Call("harbourbank", "95555", HB_OPEN, ("0",), branches={"general_queue": "callback"}, ends_at="main.bye"),
    Call("harbourbank", "95555", HB_CLOSED, ("0",), ends_at="main.bye", hears=("agents_closed", "goodbye")),
    Call("harbourbank", "95555", HB_OPEN, ("", "", ""), ends_at="main.bye"),
    Call("harbourbank", "95555", HB_OPEN, ("5", "5", "5"), ends_at="main.bye", hears=("invalid", "goodbye")),
    Call("harbourbank", "95556", HB_OPEN, (), ends_at="premium.bye", hears=("premium_welcome",)),
    Call("harbourbank", "95556", HB_OPEN, ("0",), branches={"desk": "timeout"}, ends_at="main.bye"),
    Call("harbourbank", "95556", HB_OPEN, ("0",), branches={"recognise": "not_found"}, ends_at="main.bye",
         hears=("not_premium", "welcome")),
    # with every controller down: the priority line falls back to the main menu, the queue to the backup centre
    Call("harbourbank", "95556", HB_OPEN, ("0",), controller_up=False, ends_at="main.bye",
         hears=("not_premium", "welcome", "goodbye")),
    # shopwise and travelgo: one outsourced team behind two clients' numbers
    Call("shopwise", "08001234567", LONDON_OPEN, ("1", "123456789"), variables={"sw_status": "shipped"},
         ends_at="main.bye", hears=("order_number", "order_status", "goodbye")),
    Call("shopwise", "08001234567", LONDON_OPEN, ("1", "123456789"), branches={"find_order": "not_found"},
         ends_at="main.bye", hears=("order_unknown",)),
    Call("shopwise", "08001234567", LONDON_OPEN, ("1", "123456789"), controller_up=False, ends_at="main.orders"),
    Call("shopwise", "08001234567", LONDON_OPEN, ("1", "1", "1", "1"), ends_at="main.bye"),
    Call("shopwise", "08001234567", LONDON_OPEN, ("2",), ends_at="main.bye"),
    Call("shopwise", "08001234567", LONDON_OPEN, ("2",), branches={"returns": "timeout"}, ends_at="main.bye"),
    Call("shopwise", "08001234567", LONDON_OPEN, ("0",), branches={"orders": "timeout"}, ends_at="main.bye"),
    Call("shopwise", "08001234567", LONDON_OPEN, ("", "", ""), ends_at="main.bye"),
    Call("shopwise", "08001234567", LONDON_OPEN, ("7", "7", "7"), ends_at="main.bye"),
    Call("shopwise", "08001234567", LONDON_LUNCH, (), ends_at="main.bye", hears=("closed",)),
    Call("travelgo", "08007654321", LONDON_OPEN, ("1",), ends_at="main.bye", hears=("menu", "goodbye")),
    Call("travelgo", "08007654321", LONDON_OPEN, ("1",), branches={"bookings": "callback"}, ends_at="main.bye"),
    Call("travelgo", "08007654321", LONDON_OPEN, ("2",), ends_at="main.bye", hears=("emergency",)),
    Call("travelgo", "08007654321", LONDON_OPEN, ("", ""), ends_at="main.bye"),
    Call("travelgo", "08007654321", LONDON_OPEN, ("5", "5"), ends_at="main.bye"),
    Call("travelgo", "08007654321", XMAS, ("2",), ends_at="main.bye", hears=("closed", "emergency")),
    Call("travelgo", "08007654321", XMAS, ("",), ends_at="main.message"),
    Call("travelgo", "08007654321", XMAS, ("9",), ends_at="main.message"),
]  # fmt: skip


def run(call: Call) -> Trace:
    return simulate(
        ROOT, call.tenant, to=call.to, caller="13800000001", digits=list(call.digits),
        at=datetime.fromisoformat(call.at), branches=call.branches, variables=call.variables,
        speed=50.0, hangup_after=900.0, controller_up=call.controller_up,
    )  # fmt: skip


@pytest.fixture(scope="module")
def traces() -> list[Trace]:
    pool = gevent.pool.Pool(8)
    return list(pool.imap(run, CALLS))


def all_branches() -> set[tuple[str, str, str]]:
    project = check(ROOT)
    assert project.problems == []
    return {
        (t.id, f"{f.name}.{n.id}", branch)
        for t in project.tenants
        for f in t.flows.values()
        for n in f.nodes.values()
        for branch in n.children
    }


def test_every_branch_of_every_example_flow_is_taken(traces: list[Trace]) -> None:
    taken = {
        (t.tenant, node, b) for t in traces for node, branches in t.branches for b in branches.split("|")
    }
    missing = sorted(all_branches() - taken)
    assert missing == [], "\n".join(" ".join(m) for m in missing)


@pytest.mark.parametrize("index", range(len(CALLS)), ids=[f"{c.tenant}-{i}" for i, c in enumerate(CALLS)])
def test_each_call_ends_where_expected_and_hears_its_prompts(traces: list[Trace], index: int) -> None:
    call, trace = CALLS[index], traces[index]
    assert trace.ended_at == call.ends_at, "\n".join(trace.lines())
    heard = iter(trace.prompts)
    missing = [p for p in call.hears if not any(p == h for h in heard)]
    assert missing == [], "\n".join(trace.lines())
