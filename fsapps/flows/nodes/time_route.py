"""Branch on a calendar: open or closed, in the tenant's timezone.

Rendered as mod_dialplan_xml time conditions, which switch_xml.c
(switch_xml_std_datetime_check) evaluates in the channel's ``timezone``
variable, set at the access number. ``date-time`` is avoided: it compares
against the server's own clock zone (switch_fulldate_cmp/switch_str_time),
so holidays and closed ranges use year/mon/mday and time-of-day instead.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from fsapps.flows.nodes.base import NodeType, Ref, Rendered, Route


def _day(d: date) -> dict[str, str]:
    return {"year": str(d.year), "mon": str(d.month), "mday": str(d.day)}


def closed_days(start: datetime, end: datetime) -> list[dict[str, str]]:
    """[start, end) as one condition per calendar day; time-of-day is inclusive (switch_tod_cmp)."""
    out = []
    d = start.date()
    while d <= end.date():
        lo = start.strftime("%H:%M") if d == start.date() else "00:00"
        if d == end.date():
            if end.time() == datetime.min.time():
                break
            hi = (end - timedelta(seconds=1)).strftime("%H:%M:%S")
        else:
            hi = "23:59:59"
        out.append({**_day(d), "time-of-day": f"{lo}-{hi}"})
        d += timedelta(days=1)
    return out


def weekly_conditions(weekly: dict[int, list[tuple[int, int]]]) -> list[dict[str, str]]:
    """One condition per distinct [start, end) range, over all the days that share it."""
    days_by_range: dict[tuple[int, int], list[int]] = {}
    for wday, ranges in sorted(weekly.items()):
        for rng in ranges:
            days_by_range.setdefault(rng, []).append(wday)
    # minute-of-day counts from 1 (00:00 is minute 1) and its ranges are inclusive.
    return [
        {"wday": ",".join(map(str, days)), "minute-of-day": f"{lo + 1}-{hi}"}
        for (lo, hi), days in sorted(days_by_range.items())
    ]


class TimeRoute(NodeType):
    name = "time_route"
    summary = "Branch on a calendar, in the tenant's timezone: open or closed."
    properties = {"calendar": {"type": "string", "pattern": r"^[A-Za-z0-9_-]+$"}}
    required_data = ("calendar",)
    branches = ("open", "closed")
    required_branches = ("open", "closed")

    def refs(self, node):
        return [Ref("calendar", node.get("calendar"), node.data.at("calendar"))]

    def render(self, node, r):
        cal = r.tenant.calendars[node.get("calendar")]
        # Closed first: holidays and closed ranges win over weekly hours.
        routes = [Route("closed", (_day(day),)) for day in sorted(cal.holidays)]
        for start, end in cal.closed:
            routes += [Route("closed", (cond,)) for cond in closed_days(start, end)]
        routes += [Route("open", (cond,)) for cond in weekly_conditions(cal.weekly)]
        return Rendered([], routes, "closed")
