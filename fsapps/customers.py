"""The CRM's pure rules: a customer's numbers as the switch shows callers' numbers, and
their custom fields against the tenant admin's definitions. No I/O.

Numbers: the blacklist, the lookup node and the queues compare the caller ID exactly as
FreeSWITCH gives it (``caller_id_number``: digits, ``*``, ``#``, an optional leading
``+``; the API's blacklist takes only that form, fsapps.web.schemas.NUMBER). A person
types "+1 (555) 010-0123"; what is kept is "+15550100123", the form a caller ID from the
same phone has, so the screen pop and the owner's routing find it.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

NUMBER = re.compile(r"^\+?[0-9*#]{1,32}$")  # as fsapps.web.schemas.NUMBER and the blacklist's CHECK
_SEPARATORS = re.compile(r"[\s().\-/]")  # what people write between digits
FIELD_TYPES = ("text", "number", "boolean", "date")


def normalise_number(typed: str) -> str:
    """The caller-ID form of a number as typed; ValueError when it is not a number."""
    number = _SEPARATORS.sub("", typed)
    if not NUMBER.fullmatch(number):
        raise ValueError(f"{typed!r} is not a phone number (digits, * and #, an optional leading +)")
    return number


def normalise_numbers(typed: list[str]) -> list[str]:
    """Each number's caller-ID form, once each, in the order given."""
    out: list[str] = []
    for n in typed:
        number = normalise_number(n)
        if number not in out:
            out.append(number)
    return out


def field_problems(definitions: dict[str, str], fields: dict[str, Any]) -> list[str]:
    """What is wrong with a customer's custom fields, given the tenant's definitions
    (name -> type); empty when they are right. A null value clears a field."""
    problems = []
    for name, value in fields.items():
        kind = definitions.get(name)
        if kind is None:
            problems.append(f"{name}: not one of the tenant's customer fields")
        elif value is not None and not _is(kind, value):
            problems.append(f"{name}: expected {kind}")
    return problems


def _is(kind: str, value: Any) -> bool:
    if kind == "text":
        return isinstance(value, str) and len(value) <= 10_000
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if isinstance(value, str):  # date: ISO 8601, a day
        try:
            date.fromisoformat(value)
        except ValueError:
            return False
        return len(value) == 10
    return False
