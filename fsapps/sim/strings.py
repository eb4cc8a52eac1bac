"""switch_separate_string (switch_utils.c:2685-2875): how applications split
their argument. Single quotes group (and are removed), a backslash escapes
a quote, the delimiter, itself or \\n \\r \\t \\s; runs of blanks are one
delimiter; the last field takes the rest once ``limit`` fields are found."""

from __future__ import annotations

import re

ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "s": " "}


def _cleanup(field: str, delim: str | None) -> str:
    field = field.lstrip(" ")
    out: list[str] = []
    end = 0
    inside = False
    i = 0
    while i < len(field):
        c = field[i]
        if c == "\\" and i + 1 < len(field):
            e = field[i + 1]
            if e in ("'", '"', "\\") or (delim and e == delim) or e in ESCAPES:
                out.append(ESCAPES.get(e, e))
                end = len(out)
                i += 2
                continue
        if c == "'" and (inside or "'" in field[i + 1 :]):
            inside = not inside
            if inside:
                end = len(out)
        else:
            out.append(c)
            if c != " " or inside:
                end = len(out)
        i += 1
    return "".join(out[:end])


def atoi(text: str) -> int:
    """C atoi: leading blanks and sign, then digits; anything else reads as 0."""
    m = re.match(r"\s*[+-]?\d+", text)
    return int(m.group(0)) if m else 0


def separate_string(buf: str, delim: str = " ", limit: int = 128) -> list[str]:
    if buf.startswith("^^") and len(buf) > 3:
        delim, buf = buf[2], buf[3:]
    fields: list[str] = []
    i, n = 0, len(buf)
    blank = delim == " "
    while i < n and len(fields) < limit:
        if blank:
            while i < n and buf[i] == " ":
                i += 1
            if i >= n:
                break
        start = i
        inside = False
        while i < n:
            c = buf[i]
            if c == "\\":
                i += 2
                continue
            if c == "'" and (blank or inside or "'" in buf[i + 1 :]):
                inside = not inside
            elif c == delim and not inside and len(fields) < limit - 1:
                break
            i += 1
        fields.append(buf[start : min(i, n)])
        i += 1
    return [_cleanup(f, None if blank else delim) for f in fields]
