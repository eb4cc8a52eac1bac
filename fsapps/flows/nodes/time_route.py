from fsapps.flows.nodes.base import NodeType, Ref, Rendered, Route


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
        routes = []
        # Closed first: holidays and closed ranges win over weekly hours.
        for day in cal.holidays:
            stamp = day.isoformat()
            routes.append(Route("closed", ({"date-time": f"{stamp} 00:00~{stamp} 23:59"},)))
        for start, end in cal.closed:
            routes.append(Route("closed", ({"date-time": f"{start:%Y-%m-%d %H:%M}~{end:%Y-%m-%d %H:%M}"},)))
        for wday, ranges in sorted(cal.weekly.items()):
            for lo, hi in ranges:
                # minute-of-day is 1-based and inclusive (switch_xml.c: 00:00 is minute 1).
                routes.append(Route("open", ({"wday": str(wday), "minute-of-day": f"{lo + 1}-{hi}"},)))
        return Rendered([], routes, "closed")
