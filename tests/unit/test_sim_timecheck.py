"""Dialplan time conditions, held to switch_utils.c and switch_xml.c (and the real switch, FACTS/notes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from fsapps.sim.timecheck import channel_zone, datetime_check, dow_cmp, number_cmp, tod_cmp

SHANGHAI = ZoneInfo("Asia/Shanghai")


def epoch(text: str, zone=SHANGHAI) -> float:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=zone).timestamp()


def check(attrs: dict[str, str], when: str, zone=SHANGHAI, server=UTC) -> int:
    return datetime_check(attrs, epoch(when, zone), zone, server)


@given(st.integers(0, 60), st.integers(0, 60), st.integers(0, 60))
def test_number_ranges_are_inclusive_and_reversed_ones_wrap(a: int, b: int, v: int) -> None:
    inside = (a <= v <= b) if a <= b else (v >= a or v <= b)
    assert number_cmp(f"{a}-{b}", v) is inside


@given(st.lists(st.integers(0, 99), min_size=1, max_size=6), st.integers(0, 99))
def test_number_lists_match_any_member(values: list[int], v: int) -> None:
    assert number_cmp(",".join(map(str, values)), v) is (v in values)


def test_number_cmp_reads_what_strtol_reads() -> None:
    assert number_cmp("", 0) and not number_cmp("", 1)  # nothing parses as 0
    assert number_cmp("x", 0)


NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]


@given(st.integers(1, 7), st.integers(1, 7), st.integers(1, 7))
def test_weekday_names_and_digits_agree(a: int, b: int, v: int) -> None:
    by_digit = dow_cmp(f"{a}-{b}", v)
    assert dow_cmp(f"{NAMES[a - 1]}-{NAMES[b - 1]}", v) is by_digit
    assert by_digit is ((a <= v <= b) if a <= b else (v >= a or v <= b))


def test_weekday_parse_error_only_fails_if_nothing_matched_before() -> None:
    assert dow_cmp("monday", 2)  # "mon" matched before the parse error at "day"
    assert not dow_cmp("monday", 3)
    assert dow_cmp("1,7", 7) and not dow_cmp("1,7", 2)


@given(st.integers(0, 86399), st.integers(0, 86399), st.integers(0, 86399))
def test_time_of_day_ranges_are_inclusive_to_the_second(a: int, b: int, v: int) -> None:
    def hms(s: int) -> str:
        return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"

    inside = (a <= v <= b) if a <= b else (v >= a or v <= b)
    assert tod_cmp(f"{hms(a)}-{hms(b)}", v) is inside


def test_time_of_day_without_seconds_means_zero_seconds() -> None:
    assert tod_cmp("09:00-17:00", 17 * 3600)
    assert not tod_cmp("09:00-17:00", 17 * 3600 + 1)
    assert not tod_cmp("0900-1700", 10 * 3600)  # no ':' : never matches


def test_no_time_attribute_is_minus_one() -> None:
    assert check({"field": "destination_number"}, "2026-11-23 09:00:00") == -1


def test_minute_of_day_counts_from_one() -> None:
    assert check({"minute-of-day": "541"}, "2026-11-23 09:00:00") == 1
    assert check({"minute-of-day": "540"}, "2026-11-23 09:00:00") == 0
    assert check({"minute-of-day": "1"}, "2026-11-23 00:00:59") == 1


def test_wday_one_is_sunday_in_the_channel_zone() -> None:
    # 2026-11-23 is a Monday; 07:00 in Shanghai is still Sunday in UTC.
    assert check({"wday": "2"}, "2026-11-23 07:00:00") == 1
    assert datetime_check({"wday": "2"}, epoch("2026-11-23 07:00:00"), UTC, UTC) == 0


def test_every_attribute_must_hold() -> None:
    attrs = {"wday": "2-6", "minute-of-day": "481-1200"}
    assert check(attrs, "2026-11-23 08:00:00") == 1
    assert check(attrs, "2026-11-23 19:59:59") == 1
    assert check(attrs, "2026-11-23 20:00:00") == 0
    assert check(attrs, "2026-11-22 12:00:00") == 0  # Sunday


def test_calendar_dates() -> None:
    xmas = {"year": "2026", "mon": "12", "mday": "25"}
    assert check(xmas, "2026-12-25 23:59:59") == 1
    assert check(xmas, "2026-12-26 00:00:00") == 0
    assert check({"yday": "1", "week": "1"}, "2027-01-01 10:00:00") == 1


def test_date_time_uses_the_server_clock_not_the_channel_zone() -> None:
    attrs = {"date-time": "2026-12-24 18:00~2026-12-24 19:00"}
    when = epoch("2026-12-24 18:30:00", UTC)
    assert datetime_check(attrs, when, SHANGHAI, UTC) == 1  # 02:30 next day in Shanghai
    assert datetime_check(attrs, epoch("2026-12-24 19:00:00", UTC), SHANGHAI, UTC) == 0  # end exclusive


def test_dst_false_never_passes() -> None:
    assert check({"dst": "false"}, "2026-07-01 12:00:00") == 0


def test_tod_tz_offset_wins_over_timezone_name() -> None:
    zone = channel_zone("5", "Asia/Shanghai", UTC)
    assert zone.utcoffset(None) == timedelta(hours=5)
    assert channel_zone("", "Asia/Shanghai", UTC) == SHANGHAI
    server = timezone(timedelta(hours=-3))
    assert channel_zone(None, None, server) is server


def test_tz_offset_attribute_compares_whole_hours() -> None:
    assert check({"tz-offset": "8"}, "2026-11-23 09:00:00") == 1
    assert check({"tz-offset": "-5"}, "2026-11-23 09:00:00") == 0
