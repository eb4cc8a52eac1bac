"""The records of an answered visit, from the notes a hanging-up channel carries."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fsapps.acd import visit_records
from fsapps.acd.noted_visits import noted_records
from fsapps.acd.visit import BRIDGE_AGENT, BRIDGE_ENDED, BRIDGE_JOINED, BRIDGE_STARTED, BRIDGE_UNTOLD
from fsapps.acd.visit_messages import (
    Arrived,
    Bridged,
    CaughtUp,
    Failed,
    Forget,
    Offered,
    Placed,
    SetVariables,
    Unbridged,
)
from tests.unit.test_acd_visit import A1, A2, SETUP, Run

CALL = "6b0f7b2e-3c1f-4d0e-9a51-0c2d9e8f7a11"


def hangup(**variables: str) -> dict[str, str]:
    fields = {
        "Event-Name": "CHANNEL_HANGUP_COMPLETE", "Unique-ID": CALL, "Caller-Caller-ID-Number": "15550608",
        "variable_fsapps_tenant": "claims", "variable_fsapps_queue": "sales",
        f"variable_{BRIDGE_AGENT}": "a1", f"variable_{BRIDGE_JOINED}": "1000.000000",
        f"variable_{BRIDGE_STARTED}": "1012.500000", f"variable_{BRIDGE_ENDED}": "1072.750000",
        f"variable_{BRIDGE_UNTOLD}": "true",
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


def test_an_answer_that_was_written_or_a_conversation_with_no_end_is_left_to_others() -> None:
    """Written: reconciliation completes it (with its agent's wrap-up). No end: the caller
    hung up while the visit's own controller held them, which accounts for it."""
    assert noted_records(hangup(**{BRIDGE_UNTOLD: ""})) is None
    assert noted_records(hangup(**{BRIDGE_ENDED: "", "end_uepoch": "1042250000"})) is None


@pytest.mark.parametrize("bad", ["nan", "inf", "-5", "0", "soon", "1e400", "1e12"])
def test_a_noted_time_that_is_no_moment_is_not_recorded(bad: str) -> None:
    assert noted_records(hangup(**{BRIDGE_ENDED: bad})) is None
    assert noted_records(hangup(**{BRIDGE_JOINED: bad})) is None


def test_other_events_note_nothing() -> None:
    assert noted_records({**hangup(), "Event-Name": "CHANNEL_HANGUP"}) is None


moments = st.floats(min_value=1e9, max_value=4e9, allow_nan=False, allow_infinity=False)
spans = st.floats(min_value=0.001, max_value=1e4, allow_nan=False)


@given(joined=moments, wait=spans, talk=spans)
def test_the_records_carry_the_ids_of_the_visit_that_noted_them(joined: float, wait: float, talk: float) -> None:
    """A visit whose answer failed, handed back with its conversation noted: the records
    read from its notes carry the ids its own accounting would give them (from its joined
    time as the database gave it), so every controller's copy, and the completion of a
    caller who comes back, land once."""
    bridged, ended = joined + wait, joined + wait + talk
    r = Run(replace(SETUP, call_uuid=CALL))
    r.send(Arrived())
    r.send(Placed(joined, ""))
    r.send(CaughtUp(r.token))
    r.send(Offered((A1, A2), 6))
    r.done("Play")
    r.send(Bridged(A2.leg, bridged), bridged)
    r.send(Failed("PoolTimeout"))  # the answer not taken
    r.send(Unbridged(A2.leg, ended), ended)
    out = r.done("Ring", "SUCCESS")
    assert out[0] == Forget() and isinstance(out[1], SetVariables)
    fields = hangup(**dict(out[1].values))
    got = noted_records(fields)
    assert got is not None
    ids = [visit_records.visit_event_id(CALL, joined, what) for what in ("queue_call", "agent_usage")]
    assert [r.event_id for r in got] == ids
    assert (got[1].resource_id, got[0].queue, got[0].tenant_id) == ("acme_a2", "sales", "claims")
    assert abs(float(got[0].talk_seconds) - talk) < 0.002
