"""Quality assurance's pure rules (S2.6 质检席): a scorecard's criteria, an evaluation's
answers checked against them, and the weighted score. No I/O, no clock.

A scorecard is a list of criteria, each with a label, a weight (a whole number, 1-100)
and a type:

* ``yes_no``: met or not (``true`` earns the weight, ``false`` nothing);
* ``scale``: 0 to ``max`` points (``max`` 1-10), earning ``weight * points / max``.

An answer of ``null`` is "not applicable" (a greeting on a transferred-in call): that
criterion's weight leaves the total, as Genesys Cloud and NICE CXone count N/A. At least
one criterion must apply.

A criterion marked ``critical`` that earns nothing (``false``, or 0 on its scale) makes
the whole evaluation score 0 ("fatal error" / "critical question" in Genesys and NICE:
one compliance failure outweighs everything done well).

The score is 100 x the points earned / the points possible, to two decimal places
(half up), so always within 0-100.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

TYPES = ("yes_no", "scale")
MAX_CRITERIA = 50
MAX_WEIGHT = 100
MAX_SCALE = 10
MAX_LABEL = 200
MAX_NOTE = 2000


@dataclass(frozen=True)
class Criterion:
    label: str
    weight: int
    type: str  # yes_no | scale
    max: int = 1  # a scale's top (yes_no: 1)
    critical: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "weight": self.weight, "type": self.type, "max": self.max,
                "critical": self.critical}  # fmt: skip


@dataclass(frozen=True)
class Score:
    score: Decimal  # 0.00-100.00
    critical_failed: bool
    earned: Fraction  # weighted points earned (before a critical failure zeroes the score)
    possible: int  # weighted points of the criteria that apply


def criteria(raw: list[dict[str, Any]]) -> list[Criterion]:
    """A scorecard's criteria as sent (label, weight, type, max, critical); ValueError
    saying which criterion is wrong and why."""
    if not 1 <= len(raw) <= MAX_CRITERIA:
        raise ValueError(f"a scorecard has 1 to {MAX_CRITERIA} criteria, not {len(raw)}")
    out = []
    for n, c in enumerate(raw, 1):
        label = str(c.get("label", "")).strip()
        if not label or len(label) > MAX_LABEL:
            raise ValueError(f"criterion {n}: a label of 1 to {MAX_LABEL} characters")
        weight, kind = c.get("weight", 1), c.get("type", "yes_no")
        top: Any = c.get("max")
        if not _whole(weight) or not 1 <= weight <= MAX_WEIGHT:
            raise ValueError(f"criterion {n} ({label}): a weight is a whole number 1-{MAX_WEIGHT}")
        if kind not in TYPES:
            raise ValueError(f"criterion {n} ({label}): the type is one of {', '.join(TYPES)}")
        if kind == "yes_no":
            if top not in (None, 1):
                raise ValueError(f"criterion {n} ({label}): a yes/no criterion has no scale")
            top = 1
        elif not (_whole(top) and 1 <= top <= MAX_SCALE):
            raise ValueError(f"criterion {n} ({label}): a scale goes from 0 to a max of 1-{MAX_SCALE}")
        critical = c.get("critical", False)
        if not isinstance(critical, bool):
            raise ValueError(f"criterion {n} ({label}): critical is true or false")
        out.append(Criterion(label, weight, kind, top, critical))
    return out


def _whole(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def answers(cs: list[Criterion], raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The evaluator's answers, one per criterion in the scorecard's order ({value, note});
    ValueError saying which one is wrong. Values: yes_no true/false, scale 0..max, null
    for not applicable."""
    if len(raw) != len(cs):
        raise ValueError(f"the scorecard has {len(cs)} criteria: answer each ({len(raw)} answers given)")
    out = []
    for n, (c, a) in enumerate(zip(cs, raw, strict=True), 1):
        value, note = a.get("value"), str(a.get("note") or "")
        if len(note) > MAX_NOTE:
            raise ValueError(f"criterion {n} ({c.label}): a note of at most {MAX_NOTE} characters")
        if value is not None:
            if c.type == "yes_no" and not isinstance(value, bool):
                why = "yes (true), no (false) or not applicable (null)"
                raise ValueError(f"criterion {n} ({c.label}): {why}")
            if c.type == "scale" and (not _whole(value) or not 0 <= value <= c.max):
                raise ValueError(f"criterion {n} ({c.label}): 0 to {c.max}, or not applicable (null)")
        out.append({"value": value, "note": note})
    if all(a["value"] is None for a in out):
        raise ValueError("every criterion is marked not applicable: there is nothing to score")
    return out


def points(c: Criterion, value: bool | int | None) -> Fraction | None:
    """What an answer earns of the criterion's weight (None: not applicable)."""
    if value is None:
        return None
    return Fraction(c.weight) * (Fraction(int(value)) / c.max)


def score(cs: list[Criterion], values: list[bool | int | None]) -> Score:
    """The weighted score of checked answers (``answers``) against their criteria."""
    earned, possible, failed = Fraction(0), 0, False
    for c, v in zip(cs, values, strict=True):
        got = points(c, v)
        if got is None:
            continue
        earned += got
        possible += c.weight
        failed = failed or (c.critical and got == 0)
    if possible == 0:
        raise ValueError("every criterion is marked not applicable: there is nothing to score")
    if failed:
        return Score(Decimal("0.00"), True, earned, possible)
    exact = earned * 100 / possible
    rounded = (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
    return Score(rounded, False, earned, possible)
