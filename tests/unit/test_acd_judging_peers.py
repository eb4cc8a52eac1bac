"""When a controller may take another's silence for a death (fsapps.acd.housekeeping):
not for GONE_AFTER after its own database connection came back, nor before it ever had
one; never kept from it for DEAD_AFTER in a row."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from fsapps.acd.housekeeping import DEAD_AFTER, judges_peers
from fsapps.store.acd import GONE_AFTER


def test_not_before_a_connection_nor_within_gone_after_of_it() -> None:
    assert not judges_peers(None, 100.0)
    assert not judges_peers(100.0, 100.0 + GONE_AFTER - 0.01)
    assert judges_peers(100.0, 100.0 + GONE_AFTER)


def test_a_connection_replaced_again_and_again_keeps_it_from_judging_for_dead_after_at_most() -> None:
    assert not judges_peers(130.0, 130.5, unjudged_since=130.5 - DEAD_AFTER + 0.5)
    assert judges_peers(130.0, 130.5, unjudged_since=130.5 - DEAD_AFTER)


@given(  # whole seconds: the differences below are exact
    back=st.integers(0, 10**6), after=st.integers(0, 100), unjudged=st.one_of(st.none(), st.integers(0, 100))
)
def test_judging_is_the_grace_over_or_the_cap_reached(back: int, after: int, unjudged: int | None) -> None:
    now = back + after
    since = None if unjudged is None else now - unjudged
    expected = after >= GONE_AFTER or (unjudged is not None and unjudged >= DEAD_AFTER)
    assert judges_peers(back, now, since) == expected
