"""Values written out for TTS: pure (their escaping is tests/unit/test_escape.py's)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fsapps.apps.spoken import NotSayable, spoken


@pytest.mark.parametrize(
    ("value", "kind", "language", "currency", "words"),
    [
        ("5230.75", "money", "en", "HKD", "5230 dollars and 75 cents"),
        ("1.01", "money", "en", "USD", "1 dollar and 1 cent"),
        ("12", "money", "en", "GBP", "12 pounds"),
        ("-3.50", "money", "en", "EUR", "minus 3 euros and 50 cents"),
        ("128.50", "money", "zh", "CNY", "128元5角"),
        ("128.05", "money", "zh", "CNY", "128元5分"),
        ("2026-12-05", "date", "en", "USD", "December 5, 2026"),
        ("2026-12-05", "date", "zh", "CNY", "2026年12月5日"),
        ("2026-12-05T10:00:00", "date", "en", "USD", "December 5, 2026"),
        ("12345678", "digits", "en", "USD", "1 2 3 4 5 6 7 8"),
        ("1,250.50", "number", "en", "USD", "1250.5"),
        ("shipped", "text", "en", "USD", "shipped"),
    ],
)
def test_values_in_words(value, kind, language, currency, words) -> None:
    assert spoken(value, kind, language, currency) == words


@pytest.mark.parametrize(
    ("value", "kind"),
    [("soon", "date"), ("twelve", "money"), ("1", "colour"), ("NaN", "money"), ("Infinity", "number")],
)
def test_what_is_not_its_kind_is_refused(value, kind) -> None:
    with pytest.raises(NotSayable):
        spoken(value, kind)


@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False))
def test_money_in_words_keeps_the_amount(amount: Decimal) -> None:
    en = spoken(str(amount), "money", "en", "USD")
    units = re.match(r"(\d+) dollars?", en)
    cents = re.search(r"(\d+) cents?$", en)
    assert units is not None
    assert int(units.group(1)) * 100 + (int(cents.group(1)) if cents else 0) == int(amount * 100)
    zh = re.fullmatch(r"(\d+)元(?:(\d)角)?(?:(\d)分)?", spoken(str(amount), "money", "zh"))
    assert zh is not None
    assert int(zh.group(1)) * 100 + int(zh.group(2) or 0) * 10 + int(zh.group(3) or 0) == int(amount * 100)
