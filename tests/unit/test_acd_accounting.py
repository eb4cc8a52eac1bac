"""A queue visit's records (fsapps.acd.accounting) and its recording's path and
applications (fsapps.acd.recording), as the queue application wrote and ran them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from fsapps import escape
from fsapps.acd import accounting, recording, visit_records
from fsapps.acd.notifier import Notifier
from fsapps.acd.visit_messages import VisitSummary
from fsapps.store.records import CallbackRequest, QueueCall, UsageRecord

JOINED = 1_800_000_000.0
CALL = "0b0c2f7e-1111-4222-8333-944445555666"
BASE = VisitSummary(
    tenant="acme", queue="support", call_uuid=CALL, caller="447700900101", outcome="abandoned",
    joined=JOINED, ended=JOINED + 42.12345, ring_seconds=6.00049, offers=1, recording=None,
)  # fmt: skip


def at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


@pytest.mark.parametrize("outcome", ["abandoned", "overflowed", "timed_out"])
def test_a_visit_that_ended_in_the_queue_is_one_row(outcome) -> None:
    (row,) = accounting.records(replace(BASE, outcome=outcome))
    assert isinstance(row, QueueCall)
    assert (row.outcome, row.wait_seconds, row.ring_seconds, row.talk_seconds, row.offers) == (
        outcome, 42.123, 6.0, 0.0, 1)  # fmt: skip
    assert (row.joined_at, row.ended_at, row.agent_id, row.caller) == (
        at(JOINED), at(JOINED + 42.12345), None, "447700900101")  # fmt: skip


def test_a_callback_keeps_the_callers_place_in_its_request_first() -> None:
    request, row = accounting.records(replace(BASE, outcome="callback"))
    assert isinstance(request, CallbackRequest) and isinstance(row, QueueCall)
    assert (request.number, request.queue, request.queue_entered_at, request.requested_at) == (
        "447700900101", "support", at(JOINED), at(JOINED + 42.12345))  # fmt: skip
    assert row.outcome == "callback"


def test_a_clock_that_went_back_never_gives_a_negative_wait() -> None:
    (row,) = accounting.records(replace(BASE, ended=JOINED - 3))
    assert (row.wait_seconds, row.ended_at) == (0, at(JOINED))


def test_an_answered_visit_is_the_same_records_as_a_controller_completing_it_writes() -> None:
    s = replace(BASE, outcome="answered", agent="acme_a2", bridged=JOINED + 8, ended=JOINED + 38, wrap_up=5.0,
                recording="/recordings/acme/x.wav", offers=2)  # fmt: skip
    row, usage = accounting.records(s)
    assert isinstance(row, QueueCall) and isinstance(usage, UsageRecord)
    assert (row, usage) == visit_records.answered(
        tenant="acme", queue="support", call_uuid=CALL, caller="447700900101", agent="acme_a2",
        joined=JOINED, bridged=JOINED + 8, ended=JOINED + 38, ring_seconds=6.00049, offers=2, wrap_up=5.0,
        recording="/recordings/acme/x.wav",
    )  # fmt: skip
    assert (row.talk_seconds, row.wait_seconds, usage.resource_id) == (30.0, 8.0, "acme_a2")


def test_account_writes_the_callback_request_on_its_own_then_the_row() -> None:
    writes: list[tuple] = []
    accounting.account(
        replace(BASE, outcome="callback"), 20, lambda *records: writes.append(records), Notifier()
    )
    assert [[type(r).__name__ for r in w] for w in writes] == [["CallbackRequest"], ["QueueCall"]]


def test_the_recordings_path_is_the_tenants_with_the_calls_own_uuid() -> None:
    template = "$${recordings_dir}/acme/${uuid}-${strftime(%Y%m%d)}.wav"
    path = recording.recording_path(template, "acme", CALL)
    assert path == "${recordings_dir}/acme/" + CALL + "-${strftime(%Y%m%d)}.wav"
    assert recording.start(path) == [
        ("set", "fsapps_recording=" + path),
        ("set", "RECORD_BRIDGE_REQ=true"),
        ("record_session", "${fsapps_recording}"),
    ]
    assert recording.stop("/recordings/acme/x.wav") == ("stop_record_session", "/recordings/acme/x.wav")
    for bad in ("$${recordings_dir}/other/${uuid}.wav", "$${recordings_dir}/acme/../x.wav",
                "$${recordings_dir}/acme/${system(id)}.wav"):  # fmt: skip
        with pytest.raises(escape.UnsafeValue):
            recording.recording_path(bad, "acme", CALL)
