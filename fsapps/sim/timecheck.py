"""Time conditions of the XML dialplan, as switch_xml_std_datetime_check does them. Pure.

switch_xml.c:3138-3297: each attribute present is tested in a fixed order
against the broken-down time in the channel's zone, and the first failure
decides. -1 means the condition has no time attributes at all. The value
syntaxes are switch_utils.c's switch_number_cmp (comma lists of N and A-B,
reversed ranges wrap), switch_dow_cmp (1 = Sunday, or sun..sat) and
switch_tod_cmp (HH:MM[:SS]-HH:MM[:SS], both ends inclusive, to the second).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fsapps.sim.strings import atoi

TIME_ATTRIBUTES = (
    "tz-offset", "dst", "date-time", "year", "yday", "mon", "mday", "week", "mweek", "wday",
    "hour", "minute", "minute-of-day", "time-of-day",
)  # fmt: skip

_DOW = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_NUMBER = re.compile(r"\s*[+-]?\d*")


def _strtol(s: str, i: int) -> tuple[int, int]:
    """C strtol: optional blanks and sign, digits; no digits reads as 0 and consumes nothing."""
    m = _NUMBER.match(s, i)
    text = m.group(0).strip() if m else ""
    if text in ("", "+", "-"):
        return 0, i
    assert m is not None
    return int(text), m.end()


def number_cmp(exp: str, val: int) -> bool:
    """switch_number_cmp (switch_utils.c:4005)."""
    i = 0
    while True:
        a, i = _strtol(exp, i)
        if i < len(exp) and exp[i] == "-":
            b, i = _strtol(exp, i + 1)
            if (a <= val <= b) if a <= b else (val >= a or val <= b):
                return True
        elif a == val:
            return True
        if i >= len(exp) or exp[i] != ",":
            return False
        i += 1


def dow_cmp(exp: str, val: int) -> bool:
    """switch_dow_cmp (switch_utils.c:3971): digits 1-7 or three-letter names, ranges wrap."""
    prev: int | None = None
    start: int | None = None
    i = 0
    while i < len(exp):
        c = exp[i]
        if c == "-":
            start, i = prev, i + 1
            continue
        if c == ",":
            prev, i = None, i + 1
            continue
        if "1" <= c <= "7":
            cur, i = int(c), i + 1
        elif exp[i : i + 3].lower() in _DOW:
            cur, i = _DOW.index(exp[i : i + 3].lower()) + 1, i + 3
        else:
            return False  # "Parse error", unless an earlier token already matched
        if start is not None:
            if (start <= val <= cur) if start <= cur else (val >= start or val <= cur):
                return True
            start = None
        elif val == cur:
            return True
        prev = cur
    return False


def _seconds(hms: str) -> int:
    parts = [*hms.split(":"), "0", "0"][:3]
    return int(parts[0] or 0) * 3600 + int(parts[1] or 0) * 60 + int(parts[2] or 0)


def tod_cmp(exp: str, val: int) -> bool:
    """switch_tod_cmp (switch_utils.c:4024): seconds since midnight in inclusive ranges."""
    for part in exp.split(","):
        lo, dash, hi = part.partition("-")
        if not dash or ":" not in lo or ":" not in hi:
            continue
        try:
            a, b = _seconds(lo), _seconds(hi)
        except ValueError:
            continue
        if (a <= val <= b) if a <= b else (val >= a or val <= b):
            return True
    return False


def fulldate_cmp(exp: str, now: datetime) -> bool:
    """switch_fulldate_cmp (switch_utils.c:3611): START~END, end exclusive, server local time."""
    for part in exp.split(","):
        lo, tilde, hi = part.partition("~")
        if not tilde:
            continue
        try:
            a, b = _str_time(lo, now), _str_time(hi, now)
        except ValueError:
            return False
        if a <= now < b:
            return True
    return False


def _str_time(text: str, now: datetime) -> datetime:
    text = text.strip()
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H", "%Y-%m-%d", "%Y%m%d%H%M%S"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=now.tzinfo)
        except ValueError:
            pass
    for fmt in ("%H:%M:%S", "%H:%M", "%H"):
        try:
            t = datetime.strptime(text, fmt)
            return now.replace(hour=t.hour, minute=t.minute, second=t.second, microsecond=0)
        except ValueError:
            pass
    raise ValueError(text)


def channel_zone(tod_tz_offset: str | None, tz_name: str | None, server: tzinfo) -> tzinfo:
    """check_tz() in mod_dialplan_xml.c:86: a numeric tod_tz_offset (hours), else the
    ``timezone`` name (timezones.conf.xml; IANA names here), else server time."""
    if tod_tz_offset and re.fullmatch(r"[+-]?[0-9.]+", tod_tz_offset):
        return timezone(timedelta(hours=int(float(tod_tz_offset))))
    if tz_name:
        try:
            return ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError):
            return server  # "Timezone not found": FreeSWITCH reads garbage; be deterministic
    return server


def datetime_check(attrs: Mapping[str, str], epoch: float, zone: tzinfo, server: tzinfo) -> int:
    """switch_xml_std_datetime_check: -1 (no time attributes), 0 (fail) or 1 (pass)."""
    if not any(a in attrs for a in TIME_ATTRIBUTES):
        return -1
    tm = datetime.fromtimestamp(epoch, zone)
    local = datetime.fromtimestamp(epoch, server)
    offset = tm.utcoffset() or timedelta(0)
    tests = (
        ("tz-offset", lambda v: atoi(v) == int(offset.total_seconds() / 3600)),  # C division
        # switch_xml.c:3199: compares the server's DST flag; dst="false" can never pass.
        ("dst", lambda v: bool(local.dst()) and v.lower() in ("true", "yes", "on", "1")),
        ("date-time", lambda v: fulldate_cmp(v, local)),
        ("year", lambda v: number_cmp(v, tm.year)),
        ("yday", lambda v: number_cmp(v, tm.timetuple().tm_yday)),
        ("mon", lambda v: number_cmp(v, tm.month)),
        ("mday", lambda v: number_cmp(v, tm.day)),
        ("week", lambda v: number_cmp(v, (tm.timetuple().tm_yday - 1) // 7 + 1)),
        ("mweek", lambda v: number_cmp(v, _mweek(tm))),
        ("wday", lambda v: dow_cmp(v, _wday(tm))),
        ("hour", lambda v: number_cmp(v, tm.hour)),
        ("minute", lambda v: number_cmp(v, tm.minute)),
        ("minute-of-day", lambda v: number_cmp(v, tm.hour * 60 + tm.minute + 1)),
        ("time-of-day", lambda v: tod_cmp(v, tm.hour * 3600 + tm.minute * 60 + tm.second)),
    )
    for name, test in tests:
        value = attrs.get(name)
        if value is not None and not test(value):
            return 0
    return 1


def _wday(tm: datetime) -> int:
    return (tm.weekday() + 1) % 7 + 1  # Python: Monday 0; FreeSWITCH: Sunday 1


def _mweek(tm: datetime) -> int:
    tm_wday = _wday(tm) - 1
    firstdow = (7 - _c_mod(tm.day - (tm_wday + 1), 7)) % 7
    return math.ceil((tm.day + firstdow) / 7.0)


def _c_mod(a: int, b: int) -> int:
    return int(math.fmod(a, b))
