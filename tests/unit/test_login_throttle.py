"""Login throttling, per user and per address, in a sliding window (pure: ``now`` is given)."""

from __future__ import annotations

from fsapps.web.throttle import Limits, LoginThrottle


def test_a_user_is_held_back_after_the_limit_until_the_oldest_failure_leaves_the_window() -> None:
    t = LoginThrottle(Limits(per_user=3, per_address=100, window=60))
    for i in range(3):
        assert t.retry_after("alice", f"10.0.0.{i}", now=100 + i) is None
        t.failed("alice", f"10.0.0.{i}", now=100 + i)
    assert t.retry_after("Alice", "10.9.9.9", now=103) == 57  # any address, any case
    assert t.retry_after("bob", "10.0.0.1", now=103) is None  # others are not held back
    assert t.retry_after("alice", "10.9.9.9", now=160) is None  # 100 left the window


def test_an_address_spraying_many_users_is_held_back() -> None:
    t = LoginThrottle(Limits(per_user=100, per_address=4, window=60))
    for i in range(4):
        t.failed(f"user{i}", "192.0.2.7", now=10)
    assert t.retry_after("someone-else", "192.0.2.7", now=11) == 59
    assert t.retry_after("someone-else", "192.0.2.8", now=11) is None


def test_success_clears_the_users_count_but_not_the_addresss() -> None:
    t = LoginThrottle(Limits(per_user=2, per_address=3, window=60))
    t.failed("alice", "192.0.2.7", now=0)
    t.failed("alice", "192.0.2.7", now=1)
    assert t.retry_after("alice", "192.0.2.8", now=2) is not None
    t.succeeded("alice")
    assert t.retry_after("alice", "192.0.2.8", now=2) is None
    t.failed("bob", "192.0.2.7", now=2)
    assert t.retry_after("carol", "192.0.2.7", now=3) is not None  # three from that address


def test_memory_is_bounded() -> None:
    t = LoginThrottle(Limits(per_user=1, per_address=1, window=60), max_keys=10)
    for i in range(1000):
        t.failed(f"u{i}", f"a{i}", now=0)
    assert len(t._failures) <= 10
