"""The records of an answered visit, from the notes a hanging-up channel carries."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fsapps.acd import visit_records
from fsapps.acd.noted_visits import noted_records
from fsapps.acd.visit import BRIDGE_AGENT, BRIDGE_ENDED, BRIDGE_JOINED, BRIDGE_STARTED

CALL = "6b0f7b2e-3c1f-4d0e-9a51-0c2d9e8f7a11"


def hangup(**variables: str) -> dict[str, str]:
    fields = {
        "Event-Name": "CHANNEL_HANGUP_COMPLETE", "Unique-ID": CALL, "Caller-Caller-ID-Number": "15550608",
        "variable_fsapps_tenant": "claims", "variable_fsapps_queue": "sales",
        f"variable_{BRIDGE_AGENT}": "a1", f"variable_{BRIDGE_JOINED}": "1000.000000",
        f"variable_{BRIDGE_STARTED}": "1012.500000", f"variable_{BRIDGE_ENDED}": "1072.750000",
    }  # fmt: skip
    fields.update({f"variable_{k}": v for k, v in variables.items()})
    return fields


def test_a_noted_visit_is_recorded_as_answered_by_its_agent_for_the_time_they_talked() -> None:
    got = noted_records(hangup())
    assert got is not None
    row, usage = got
    assert (row.tenant_id, row.queue, row.call_uuid, row.caller, row.outcome, row.agent_id) == (
        "claims", "sales", CALL, "15550608", "answered", "a1",
    )  # fmt: skip
    assert (row.wait_seconds, row.talk_seconds, row.wrap_up_seconds) == (12.5, 60.25, 0.0)
    assert (usage.resource, usage.resource_id, usage.kind, usage.workload) == (
        "agent", "a1", "handled_call", Decimal("60.250"),
    )  # fmt: skip


@pytest.mark.parametrize("missing", [BRIDGE_AGENT, BRIDGE_ENDED, BRIDGE_STARTED, BRIDGE_JOINED,
                                     "fsapps_tenant", "fsapps_queue"])  # fmt: skip
def test_a_visit_noted_in_part_is_not_recorded(missing: str) -> None:
    assert noted_records(hangup(**{missing: ""})) is None


@pytest.mark.parametrize("bad", ["nan", "inf", "-5", "0", "soon", "1e400"])
def test_a_noted_time_that_is_no_moment_is_not_recorded(bad: str) -> None:
    assert noted_records(hangup(**{BRIDGE_ENDED: bad})) is None
    assert noted_records(hangup(**{BRIDGE_JOINED: bad})) is None


def test_other_events_note_nothing() -> None:
    assert noted_records({**hangup(), "Event-Name": "CHANNEL_HANGUP"}) is None


moments = st.floats(min_value=1.0, max_value=4e9, allow_nan=False, allow_infinity=False)


@given(joined=moments, talk=st.floats(min_value=0, max_value=1e5), wait=st.floats(min_value=0, max_value=1e5))
def test_the_records_carry_the_ids_the_visit_s_own_completion_gives_them(
    joined: float, talk: float, wait: float
) -> None:
    """Written by every controller that sees the hangup, and by a completion racing it (the
    caller coming back as they hang up): the same ids each time, so the records land once."""
    bridged, ended = joined + wait, joined + wait + talk
    # As the visit writes its notes on the channel (fsapps.acd.visit Visit._noted).
    notes = {BRIDGE_JOINED: f"{joined:.6f}", BRIDGE_STARTED: f"{bridged:.6f}", BRIDGE_ENDED: f"{ended:.6f}"}
    got = noted_records(hangup(**notes))
    assert got is not None
    # As the controller the caller comes back to completes it, from the same notes.
    own = visit_records.answered(
        tenant="claims", queue="sales", call_uuid=CALL, caller="15550608", agent="a1",
        joined=float(notes[BRIDGE_JOINED]), bridged=float(notes[BRIDGE_STARTED]), ended=float(notes[BRIDGE_ENDED]),
    )  # fmt: skip
    assert [r.event_id for r in got] == [r.event_id for r in own]
    assert got == own
