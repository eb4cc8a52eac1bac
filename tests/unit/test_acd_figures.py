"""The floor's figures from the ACD's rows: what an agent does and for how long, a queue's
day (service level against the offered, abandoned), the callers waiting now."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fsapps.acd.figures import ACTIVITIES, activity, agents_by_activity, day_start, queue_day, waiting_now

NOW = 1_800_000_000.0


def row(**kw):
    base = {"status": "Available", "state": "Waiting", "last_status_change": NOW - 600, "last_bridge_start": 0,
            "last_bridge_end": 0, "last_offered_call": 0, "wrap_up_time": 0}  # fmt: skip
    return base | kw


@pytest.mark.parametrize(
    ("agent", "want"),
    [
        (row(status="Logged Out", last_status_change=NOW - 3600), ("logged_out", 3600.0)),
        (row(status="On Break", last_status_change=NOW - 1200), ("on_break", 1200.0)),
        # ringing counts from the offer, talking from the bridge: the status change is older
        (row(state="Receiving", last_offered_call=NOW - 7), ("ringing", 7.0)),
        (row(state="Reserved", last_offered_call=NOW - 1), ("ringing", 1.0)),
        (row(state="In a queue call", last_bridge_start=NOW - 95.5), ("talking", 95.5)),
        # a break taken during a call: still talking until the call ends
        (row(status="On Break", state="In a queue call", last_bridge_start=NOW - 30), ("talking", 30.0)),
        # wrap-up: Waiting, but not offered until last_bridge_end + wrap_up_time
        (row(last_bridge_end=NOW - 10, wrap_up_time=30), ("wrap_up", 10.0)),
        # ... and ready once it is over, counted from its end
        (row(last_bridge_end=NOW - 40, wrap_up_time=30), ("available", 10.0)),
        (row(status="Available (On Demand)", state="Idle", last_bridge_end=NOW - 12), ("idle", 12.0)),
        # an offer not answered: ready again since it (no record of the ring's end)
        (row(last_offered_call=NOW - 25), ("available", 25.0)),
        (row(), ("available", 600.0)),
        # a clock a little behind the row's: never negative
        (row(status="On Break", last_status_change=NOW + 2), ("on_break", 0.0)),
        # no record at all (never logged in): no time to give
        (row(status="Logged Out", last_status_change=0), ("logged_out", 0.0)),
    ],
)
def test_what_an_agent_is_doing_and_since_when(agent, want) -> None:
    assert activity(agent, NOW) == want


def test_agents_are_counted_by_activity_with_every_activity_present() -> None:
    agents = [row(), row(status="On Break"), row(state="In a queue call", last_bridge_start=NOW - 3), row()]
    counts = agents_by_activity(agents, NOW)
    assert list(counts) == list(ACTIVITIES)
    assert counts == {"available": 2, "ringing": 0, "talking": 1, "wrap_up": 0, "idle": 0, "on_break": 1,
                      "logged_out": 0}  # fmt: skip


def test_the_service_level_is_answered_within_its_seconds_over_the_callers_offered() -> None:
    visits = [
        {"outcome": "answered", "wait_seconds": 5},
        {"outcome": "answered", "wait_seconds": 20},  # on the limit: within
        {"outcome": "answered", "wait_seconds": 20.5},
        {"outcome": "abandoned", "wait_seconds": 3},
        {"outcome": "timed_out", "wait_seconds": 600},
        {"outcome": "callback", "wait_seconds": 40},  # asked to be called back: not offered here
        {"outcome": "moved", "wait_seconds": 9},  # sent to another queue: neither
    ]
    day = queue_day(visits, 20)
    assert (day.answered, day.answered_within, day.abandoned, day.offered) == (3, 2, 1, 5)
    assert day.service_level == 40.0
    assert queue_day([{"outcome": "callback", "wait_seconds": 1}], 20).service_level is None


def test_waiting_counts_callers_not_yet_talking_and_their_longest_wait() -> None:
    members = [{"state": "Waiting", "joined_epoch": NOW - 12}, {"state": "Trying", "joined_epoch": NOW - 70.25},
               {"state": "Answered", "joined_epoch": NOW - 900}]  # fmt: skip
    assert waiting_now(members, NOW) == (2, 70.2)
    assert waiting_now([], NOW) == (0, 0.0)


def test_today_begins_at_midnight_in_the_tenants_timezone() -> None:
    now = datetime(2026, 11, 23, 17, 30, tzinfo=UTC).timestamp()  # 01:30 on the 24th in Shanghai
    assert day_start(now, "Asia/Shanghai") == datetime(2026, 11, 23, 16, 0, tzinfo=UTC).timestamp()
    assert day_start(now, "UTC") == datetime(2026, 11, 23, 0, 0, tzinfo=UTC).timestamp()
    assert day_start(now, "Not/AZone") == day_start(now, "UTC")


def test_the_service_level_target_is_a_queue_setting_in_percent() -> None:
    import jsonschema

    from fsapps.acd.config import queue_settings
    from fsapps.flows.schema import TENANT

    queues = {"type": "object", "properties": {"queues": TENANT["properties"]["queues"]}}
    jsonschema.validate({"queues": {"support": {"service-level-target": 95}}}, queues)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"queues": {"support": {"service-level-target": 101}}}, queues)
    assert queue_settings({"service-level-target": 95}).service_level_target == 95
    assert queue_settings({}).service_level_target == 80  # 80/20, the call center's usual
