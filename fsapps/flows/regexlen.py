"""Which lengths of input a regex can accept: a collect whose regex takes no
entry between its ``min`` and ``max`` turns every caller away.

The answer over-approximates, so a "never" is certain: every character class
counts as one character whatever it holds, lookarounds and ``\\b`` as nothing;
a pattern with a back-reference is not judged. The digits are searched as
FreeSWITCH does (PCRE, unanchored unless the pattern says ``^``/``$``), so an
unanchored pattern accepts any longer entry that contains a match.
Python's ``re`` parser reads the pattern: the syntax both share is what
collect regexes use, and ``fsapps check`` already refuses what ``re`` cannot read.
"""

from __future__ import annotations

from re import _constants as C  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]
from typing import Any


class Unknown(Exception):
    """A construct whose lengths are not worked out here."""


def _sum(a: frozenset[int], b: frozenset[int], cap: int) -> frozenset[int]:
    return frozenset(x + y for x in a for y in b if x + y <= cap)


def _repeat(lo: int, hi: int, item: frozenset[int], cap: int) -> frozenset[int]:
    out: set[int] = set()
    cur = frozenset({0})
    k = 0
    while True:
        if k >= lo:
            out |= cur
        if k == hi or not cur:
            break
        nxt = _sum(cur, item, cap)
        if k >= lo and nxt <= out:
            break  # nothing new from here on
        cur, k = nxt, k + 1
    return frozenset(out)


def _lengths(items: Any, cap: int) -> frozenset[int]:
    total = frozenset({0})
    for op, av in items:
        if op in (C.LITERAL, C.NOT_LITERAL, C.ANY, C.IN):
            part = frozenset({1})
        elif op in (C.AT, C.ASSERT, C.ASSERT_NOT):
            part = frozenset({0})
        elif op == C.SUBPATTERN:
            part = _lengths(av[-1], cap)
        elif op == C.ATOMIC_GROUP:
            part = _lengths(av, cap)
        elif op == C.BRANCH:
            part = frozenset().union(*(_lengths(b, cap) for b in av[1]))
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            lo, hi, item = av
            part = _repeat(lo, hi, _lengths(item, cap), cap)
        else:  # back-references, conditionals
            raise Unknown(str(op))
        total = _sum(total, part, cap)
    return total


START = {C.AT_BEGINNING, C.AT_BEGINNING_STRING}
END = {C.AT_END, C.AT_END_STRING}


def entry_lengths(pattern: str, cap: int) -> frozenset[int] | None:
    """The entry lengths up to ``cap`` that ``pattern`` can accept (searched, as PCRE does);
    None when that is not worked out (the pattern is then taken as accepting anything)."""
    try:
        parsed = list(_parser.parse(pattern))
        matches = _lengths(parsed, cap)
    except Exception:  # Unknown, or re's own errors (reported by the collect check)
        return None
    anchored_start = bool(parsed) and parsed[0][0] == C.AT and parsed[0][1] in START
    anchored_end = bool(parsed) and parsed[-1][0] == C.AT and parsed[-1][1] in END
    if anchored_start and anchored_end:
        return matches
    # Unanchored on a side: the match can sit inside a longer entry.
    return frozenset(n for n in range(cap + 1) if any(m <= n for m in matches))


def describe(lengths: frozenset[int]) -> str:
    """``{4}`` -> "4", ``{8, 9, 10}`` -> "8 to 10", ``{4, 6}`` -> "4 or 6"."""
    ns = sorted(lengths)
    if not ns:
        return "none"
    runs: list[tuple[int, int]] = []
    for n in ns:
        if runs and n == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    parts = [str(a) if a == b else f"{a} to {b}" for a, b in runs]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]
