"""Tickets' pure rules: state moves, the SLA due time per priority, which tickets are
overdue and to escalate at ``now``, the number as keyed in, and what the phone says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fsapps import tickets

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_closed_is_final_and_solved_may_be_reopened() -> None:
    assert tickets.may_move("solved", "open") and tickets.may_move("pending", "open")
    assert not tickets.may_move("closed", "open") and not tickets.may_move("open", "new")
    assert tickets.may_move("closed", "closed")  # no change is no move


def test_the_due_time_is_the_tenants_for_the_priority_else_the_default() -> None:
    assert tickets.due_at(NOW, "urgent", {}) == NOW + timedelta(hours=4)
    assert tickets.due_at(NOW, "urgent", {"urgent": 30}) == NOW + timedelta(minutes=30)
    assert tickets.due_at(NOW, "low", {"urgent": 30}) == NOW + timedelta(days=7)


def test_overdue_ones_are_escalated_once_and_solved_ones_never() -> None:
    due = NOW - timedelta(minutes=1)
    rows = [
        {"id": 1, "state": "open", "due_at": due, "escalated_at": None},
        {"id": 2, "state": "pending", "due_at": NOW, "escalated_at": None},  # due this instant
        {"id": 3, "state": "new", "due_at": NOW + timedelta(seconds=1), "escalated_at": None},
        {"id": 4, "state": "solved", "due_at": due, "escalated_at": None},
        {"id": 5, "state": "open", "due_at": due, "escalated_at": due},
    ]
    assert tickets.to_escalate(rows, NOW) == [1, 2]
    assert tickets.to_escalate(rows, NOW + timedelta(seconds=1)) == [1, 2, 3]


def test_a_number_as_keyed_in() -> None:
    assert tickets.number_digits("1001#") == 1001
    assert tickets.number_digits(" 10 01 ") == 1001
    assert tickets.number_digits("") is None and tickets.number_digits("12a") is None
    assert tickets.number_digits("1" * 13) is None


def test_the_state_is_said_in_the_tenants_language() -> None:
    assert tickets.spoken_status(1001, "pending", "en") == "Ticket 1 0 0 1 is waiting for your reply."
    assert tickets.spoken_status(1001, "open", "zh") == "您的工单1001，正在处理。"
    assert tickets.spoken_not_found("42", "en") == "There is no ticket 4 2."
    assert tickets.spoken_not_found("", "zh") == "没有收到工单号。"


def test_pick_assignee_takes_the_fewest_open_then_the_longest_without_one_then_the_id() -> None:
    from datetime import UTC, datetime

    from fsapps.tickets import pick_assignee

    early, late = datetime(2026, 12, 1, 9, tzinfo=UTC), datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert pick_assignee([]) is None
    assert pick_assignee([{"agent": "b", "open": 1, "last_assigned": early},
                          {"agent": "c", "open": 0, "last_assigned": late}]) == "c"  # fmt: skip
    assert pick_assignee([{"agent": "b", "open": 1, "last_assigned": late},
                          {"agent": "c", "open": 1, "last_assigned": early}]) == "c"  # fmt: skip
    assert pick_assignee([{"agent": "b", "open": 1, "last_assigned": early},
                          {"agent": "c", "open": 1, "last_assigned": None}]) == "c"  # fmt: skip
    assert pick_assignee([{"agent": "b", "open": 0, "last_assigned": None},
                          {"agent": "a", "open": 0, "last_assigned": None}]) == "a"  # fmt: skip
