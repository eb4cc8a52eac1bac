"""The CRM's pure rules: numbers in the caller-ID form, custom fields by their definitions."""

from __future__ import annotations

import pytest

from fsapps.customers import field_problems, normalise_number, normalise_numbers


@pytest.mark.parametrize(("typed", "kept"), [
    ("+1 (555) 010-0123", "+15550100123"), ("021-6432 1234", "02164321234"), ("555.0199", "5550199"),
    ("+8613800000000", "+8613800000000"), ("*86", "*86"), ("1000/2", "10002"),
])  # fmt: skip
def test_a_number_is_kept_as_the_switch_shows_a_callers(typed: str, kept: str) -> None:
    assert normalise_number(typed) == kept


@pytest.mark.parametrize("typed", ["", " ", "call me", "++15550100", "1555\x000100", "+" + "1" * 33, "١٢٣"])
def test_what_is_not_a_number_is_refused(typed: str) -> None:
    with pytest.raises(ValueError, match="not a phone number"):
        normalise_number(typed)


def test_numbers_are_kept_once_in_the_order_given() -> None:
    assert normalise_numbers(["+1 555 0100", "5550199", "+15550100"]) == ["+15550100", "5550199"]


def test_custom_fields_must_be_defined_and_of_their_type() -> None:
    defs = {"plan": "text", "lines": "number", "vip": "boolean", "since": "date"}
    assert field_problems(defs, {"plan": "gold", "lines": 2.5, "vip": False, "since": "2024-02-29"}) == []
    assert field_problems(defs, {"plan": None}) == []  # null clears
    assert field_problems(defs, {"colour": "red"}) == ["colour: not one of the tenant's customer fields"]
    assert field_problems(defs, {"lines": True, "vip": "yes", "since": "2024-02-30", "plan": 3}) == [
        "lines: expected number", "vip: expected boolean", "since: expected date", "plan: expected text"]
    assert field_problems(defs, {"since": "20240229"}) == ["since: expected date"]
