"""The floor's stuck-agent limits in force: the tenant's where it set one, the defaults
elsewhere, and a stored value that is out of range or names no activity ignored."""

from __future__ import annotations

from fsapps.console_settings import STUCK_DEFAULTS, stuck_limits


def test_no_setting_gives_the_defaults() -> None:
    want = {"ringing": 60, "talking": 1200, "wrap_up": 180, "idle": 300, "on_break": 1800}
    assert stuck_limits(None) == want
    assert stuck_limits({}) == STUCK_DEFAULTS


def test_the_tenants_limits_replace_the_defaults_they_name() -> None:
    assert stuck_limits({"talking": 600, "on_break": 900}) == {
        "ringing": 60, "talking": 600, "wrap_up": 180, "idle": 300, "on_break": 900}  # fmt: skip


def test_a_stored_value_out_of_range_or_unknown_is_ignored() -> None:
    got = stuck_limits({"ringing": 5, "talking": 10**9, "wrap_up": "90", "available": 30, "idle": 10})
    assert got == {"ringing": 60, "talking": 1200, "wrap_up": 180, "idle": 10, "on_break": 1800}
