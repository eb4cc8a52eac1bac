"""Quality assurance's scoring (fsapps.qa): checked criteria and answers, and the weighted
score's invariants for any scorecard (hypothesis): within 0-100, 100 for full marks, 0
for none or a critical failure, unchanged by scaling every weight, never lowered by a
better answer, and a heavier criterion moving it more."""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from fsapps import qa


def _criterion(draw: st.DrawFn, critical: bool | None = None) -> dict[str, object]:
    kind = draw(st.sampled_from(qa.TYPES))
    c: dict[str, object] = {"label": draw(st.text(min_size=1, max_size=20).filter(str.strip)),
                            "weight": draw(st.integers(1, qa.MAX_WEIGHT)), "type": kind,
                            "critical": draw(st.booleans()) if critical is None else critical}  # fmt: skip
    if kind == "scale":
        c["max"] = draw(st.integers(1, qa.MAX_SCALE))
    return c


@st.composite
def cards(draw: st.DrawFn, critical: bool | None = None) -> list[qa.Criterion]:
    n = draw(st.integers(1, 12))
    return qa.criteria([_criterion(draw, critical) for _ in range(n)])


def _value(draw: st.DrawFn, c: qa.Criterion, applicable: bool = False) -> bool | int | None:
    if not applicable and draw(st.booleans()) and draw(st.booleans()):
        return None
    return draw(st.booleans()) if c.type == "yes_no" else draw(st.integers(0, c.max))


Values = list[bool | int | None]


@st.composite
def scored(draw: st.DrawFn, critical: bool | None = None) -> tuple[list[qa.Criterion], Values]:
    cs = draw(cards(critical))
    values = [_value(draw, c) for c in cs]
    if all(v is None for v in values):
        values[0] = _value(draw, cs[0], applicable=True)
    return cs, values


def full(c: qa.Criterion) -> bool | int:
    return True if c.type == "yes_no" else c.max


def nothing(c: qa.Criterion) -> bool | int:
    return False if c.type == "yes_no" else 0


@given(scored())
def test_the_score_is_within_0_and_100_with_two_decimals(case) -> None:
    cs, values = case
    s = qa.score(cs, values)
    assert Decimal(0) <= s.score <= Decimal(100)
    assert s.score == s.score.quantize(Decimal("0.01"))
    applicable = [c for c, v in zip(cs, values, strict=True) if v is not None]
    assert s.possible == sum(c.weight for c in applicable)
    failed = any(c.critical and not v for c, v in zip(cs, values, strict=True) if v is not None)
    assert s.critical_failed == failed
    if not failed:  # the exact weighted mean, rounded half up
        exact = sum((Fraction(c.weight) * Fraction(int(v)) / c.max
                     for c, v in zip(cs, values, strict=True) if v is not None), Fraction(0))  # fmt: skip
        assert abs(Fraction(str(s.score)) - exact * 100 / s.possible) <= Fraction(1, 200)


@given(cards())
def test_full_marks_score_100_and_none_score_0(cs) -> None:
    assert qa.score(cs, [full(c) for c in cs]).score == Decimal("100.00")
    assert qa.score(cs, [nothing(c) for c in cs]).score == Decimal("0.00")


@given(scored(), st.integers(2, 7))
def test_scaling_every_weight_leaves_the_score(case, k) -> None:
    cs, values = case
    assume(all(c.weight * k <= qa.MAX_WEIGHT for c in cs))
    heavier = [qa.Criterion(c.label, c.weight * k, c.type, c.max, c.critical) for c in cs]
    assert qa.score(heavier, values).score == qa.score(cs, values).score


@given(scored(critical=False), st.data())
def test_a_better_answer_never_lowers_the_score(case, data) -> None:
    cs, values = case
    i = data.draw(st.sampled_from([i for i, v in enumerate(values) if v is not None]))
    better = list(values)
    better[i] = full(cs[i])
    assert qa.score(cs, better).score >= qa.score(cs, values).score


@given(st.integers(1, 50), st.integers(1, 50))
def test_the_heavier_criterion_counts_more(light, heavy) -> None:
    assume(light < heavy)
    cs = qa.criteria([{"label": "light", "weight": light}, {"label": "heavy", "weight": heavy}])
    met_light = qa.score(cs, [True, False]).score
    met_heavy = qa.score(cs, [False, True]).score
    assert met_light < met_heavy
    assert abs(met_light + met_heavy - 100) <= Decimal("0.01")  # each rounded half up


@given(scored(), st.data())
def test_a_critical_criterion_that_earns_nothing_zeroes_everything(case, data) -> None:
    cs, values = case
    i = data.draw(st.integers(0, len(cs) - 1))
    cs = [*cs[:i], qa.Criterion(cs[i].label, cs[i].weight, cs[i].type, cs[i].max, True), *cs[i + 1 :]]
    values = [*values[:i], nothing(cs[i]), *values[i + 1 :]]
    s = qa.score(cs, values)
    assert (s.score, s.critical_failed) == (Decimal("0.00"), True)


def test_not_applicable_leaves_the_total_and_a_worked_example() -> None:
    cs = qa.criteria([
        {"label": "Greeting", "weight": 1},
        {"label": "Empathy", "weight": 2, "type": "scale", "max": 4},
        {"label": "Verified identity", "weight": 3, "critical": True},
        {"label": "Offered more help", "weight": 4},
    ])  # fmt: skip
    # 1 + 2*3/4 + 3 = 5.5 of 1 + 2 + 3 = 6 (the last not applicable): 91.666... -> 91.67
    s = qa.score(cs, [True, 3, True, None])
    assert (s.score, s.possible, s.critical_failed) == (Decimal("91.67"), 6, False)
    assert qa.score(cs, [True, 4, False, True]).score == Decimal("0.00")  # identity not verified
    assert qa.score(cs, [True, 4, None, True]).critical_failed is False  # N/A is no failure


@pytest.mark.parametrize(("raw", "why"), [
    ([], "1 to 50 criteria"),
    ([{"label": " "}], "criterion 1: a label"),
    ([{"label": "a", "weight": 0}], "criterion 1 (a): a weight is a whole number 1-100"),
    ([{"label": "a", "weight": 2.5}], "a weight is a whole number"),
    ([{"label": "a", "weight": True}], "a weight is a whole number"),
    ([{"label": "a"}, {"label": "b", "type": "stars"}], "criterion 2 (b): the type is one of yes_no, scale"),
    ([{"label": "a", "type": "scale"}], "a scale goes from 0 to a max of 1-10"),
    ([{"label": "a", "type": "scale", "max": 11}], "a scale goes from 0 to a max of 1-10"),
    ([{"label": "a", "max": 5}], "a yes/no criterion has no scale"),
    ([{"label": "a", "critical": "yes"}], "critical is true or false"),
])  # fmt: skip
def test_a_bad_scorecard_says_which_criterion_and_why(raw, why) -> None:
    with pytest.raises(ValueError, match=re.escape(why)):
        qa.criteria(raw)


@pytest.mark.parametrize(("raw", "why"), [
    ([{"value": True}], "the scorecard has 2 criteria: answer each"),
    ([{"value": 1}, {"value": 2}], "criterion 1 (Greeting): yes"),
    ([{"value": True}, {"value": 5}], "criterion 2 (Empathy): 0 to 4"),
    ([{"value": True}, {"value": -1}], "0 to 4"),
    ([{"value": True}, {"value": True}], "0 to 4"),
    ([{"value": None}, {"value": None}], "nothing to score"),
    ([{"value": True, "note": "x" * 2001}, {"value": 1}], "a note of at most 2000"),
])  # fmt: skip
def test_bad_answers_say_which_criterion_and_why(raw, why) -> None:
    cs = qa.criteria([{"label": "Greeting"}, {"label": "Empathy", "type": "scale", "max": 4}])
    with pytest.raises(ValueError, match=re.escape(why)):
        qa.answers(cs, raw)


def test_answers_are_kept_as_given_with_their_notes() -> None:
    cs = qa.criteria([{"label": "Greeting"}, {"label": "Empathy", "type": "scale", "max": 4}])
    got = qa.answers(cs, [{"value": False, "note": "no name given"}, {"value": 0}])
    assert got == [{"value": False, "note": "no name given"}, {"value": 0, "note": ""}]
