"""Values as words a TTS voice reads well, in the tenant's language: pure.

FreeSWITCH's ``say`` needs a sound pack per language (mod_say_* plays
recorded digits); the readback node speaks through TTS instead, so money
and dates must be written out the way a person would say them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
CURRENCY_EN = {
    "USD": ("dollar", "dollars", "cent", "cents"),
    "EUR": ("euro", "euros", "cent", "cents"),
    "GBP": ("pound", "pounds", "penny", "pence"),
    "CNY": ("yuan", "yuan", "fen", "fen"),
    "HKD": ("dollar", "dollars", "cent", "cents"),
}
KINDS = ("text", "number", "digits", "money", "date")


class NotSayable(ValueError):
    """A value that is not what its kind says (a date that is not a date)."""


def spoken(value: str, kind: str, language: str = "en", currency: str = "USD") -> str:
    value = value.strip()
    if kind == "text":
        return value
    if kind == "digits":
        return (" " if language == "en" else "").join(c for c in value if not c.isspace())
    if kind == "number":
        return str(_decimal(value).normalize()) if value else value
    if kind == "money":
        return _money(_decimal(value), language, currency)
    if kind == "date":
        try:
            d = date.fromisoformat(value[:10])
        except ValueError:
            raise NotSayable(f"{value!r} is not a date (expected YYYY-MM-DD)") from None
        if language == "zh":
            return f"{d.year}年{d.month}月{d.day}日"
        return f"{MONTHS_EN[d.month - 1]} {d.day}, {d.year}"
    raise NotSayable(f"unknown kind {kind!r}")


def _decimal(value: str) -> Decimal:
    try:
        number = Decimal(value.replace(",", ""))
    except InvalidOperation:
        raise NotSayable(f"{value!r} is not a number") from None
    if not number.is_finite():  # PostgreSQL's numeric holds NaN and Infinity; nobody says them
        raise NotSayable(f"{value!r} is not a number")
    return number


def _money(amount: Decimal, language: str, currency: str) -> str:
    negative = amount < 0
    cents_total = int((abs(amount) * 100).to_integral_value())
    units, cents = divmod(cents_total, 100)
    if language == "zh":
        jiao, fen = divmod(cents, 10)
        text = f"{units}元" + (f"{jiao}角" if jiao else "") + (f"{fen}分" if fen else "")
        return ("负" if negative else "") + text
    one, many, sub_one, sub_many = CURRENCY_EN.get(currency, CURRENCY_EN["USD"])
    parts = [f"{units} {one if units == 1 else many}"]
    if cents:
        parts.append(f"{cents} {sub_one if cents == 1 else sub_many}")
    return ("minus " if negative else "") + " and ".join(parts)
