"""The lengths a collect's regex accepts: a "never" must be certain (no false alarm in check)."""

from __future__ import annotations

import itertools
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from fsapps.flows.regexlen import describe, entry_lengths

ATOMS = st.sampled_from([r"\d", "1", "[0-5]", ".", "9", r"\D"])
QUANTIFIERS = st.sampled_from(["", "?", "*", "+", "{2}", "{1,3}", "{0,2}", "{3,}"])


@st.composite
def patterns(draw: st.DrawFn) -> str:
    def piece() -> str:
        return draw(ATOMS) + draw(QUANTIFIERS)

    def seq() -> str:
        return "".join(piece() for _ in range(draw(st.integers(1, 3))))

    body = seq()
    if draw(st.booleans()):
        body = f"({body}|{seq()})" + draw(QUANTIFIERS)
    return ("^" if draw(st.booleans()) else "") + body + ("$" if draw(st.booleans()) else "")


CAP = 5


@settings(max_examples=300, deadline=None)
@given(patterns())
def test_every_length_that_can_match_is_among_the_accepted(pattern: str) -> None:
    accepted = entry_lengths(pattern, CAP)
    assert accepted is not None
    compiled = re.compile(pattern)
    for n in range(CAP + 1):
        if any(compiled.search("".join(s)) for s in itertools.product("019", repeat=n)):
            assert n in accepted, (pattern, n, sorted(accepted))


def test_anchored_patterns_give_their_exact_lengths() -> None:
    assert entry_lengths(r"^\d{4}$", 64) == {4}
    assert entry_lengths(r"^(\d{4}|\d{6,7})$", 64) == {4, 6, 7}
    assert entry_lengths(r"^1[3-9]\d{9}$", 64) == {11}
    assert describe(frozenset({4, 6, 7})) == "4 or 6 to 7"


def test_unanchored_patterns_take_longer_entries_and_backreferences_are_not_judged() -> None:
    assert entry_lengths(r"\d{4}", 8) == {4, 5, 6, 7, 8}
    assert entry_lengths(r"^\d{4}", 6) == {4, 5, 6}
    assert entry_lengths(r"^(\d)\1$", 8) is None
