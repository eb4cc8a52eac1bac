"""When a controller may take another's silence for a death (fsapps.acd.housekeeping):
not for GONE_AFTER after its own database connection came back, nor before it ever had
one; never kept from it for DEAD_AFTER in a row."""

from __future__ import annotations

from fsapps.acd.housekeeping import DEAD_AFTER, Judging, judges_peers
from fsapps.store.acd import GONE_AFTER


def test_not_before_a_connection_nor_within_gone_after_of_it() -> None:
    assert not judges_peers(None, 100.0)
    assert not judges_peers(100.0, 100.0 + GONE_AFTER - 0.01)
    assert judges_peers(100.0, 100.0 + GONE_AFTER)


def test_a_connection_replaced_again_and_again_keeps_it_from_judging_for_dead_after_at_most() -> None:
    assert not judges_peers(130.0, 130.5, unjudged_since=130.5 - DEAD_AFTER + 0.5)
    assert judges_peers(130.0, 130.5, unjudged_since=130.5 - DEAD_AFTER)


def test_a_first_beat_is_a_return() -> None:
    judging = Judging()
    assert not judging.at(1, 100.0)
    judging.went_through(100.0)
    assert not judging.at(1, 101.0)
    judging.went_through(101.0)
    assert judging.at(1, 100.0 + GONE_AFTER)


def test_each_return_from_an_outage_has_its_grace_however_many_came_before() -> None:
    """PostgreSQL back at 100, down again at 101 (beats fail: none goes through), back at 110
    on a third connection: its peers' locks are gone again, so no judging for GONE_AFTER."""
    judging = Judging()
    assert not judging.at(1, 100.0)
    judging.went_through(100.0)
    assert not judging.at(2, 100.0 + DEAD_AFTER)
    judging.went_through(100.0 + DEAD_AFTER)
    assert not judging.at(2, 100.0 + DEAD_AFTER + GONE_AFTER - 1)
    assert judging.at(2, 100.0 + DEAD_AFTER + GONE_AFTER)


def test_a_connection_replaced_between_beats_that_go_through_delays_judging_dead_after_at_most() -> None:
    judging = Judging()
    seen = []
    for second in range(int(DEAD_AFTER) + 2):
        seen.append(judging.at(second + 1, 100.0 + second))  # a new connection every beat
        judging.went_through(100.0 + second)
    assert seen == [False] * int(DEAD_AFTER) + [True, False]  # then another DEAD_AFTER at most
