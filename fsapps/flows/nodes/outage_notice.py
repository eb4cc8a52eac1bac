from fsapps.flows.nodes.logic import LogicNode
from fsapps.flows.nodes.set_vars import VARIABLE


class OutageNotice(LogicNode):
    name = "outage_notice"
    summary = "Announce an active outage for the caller's area before the menu; a digit skips it."
    properties = {
        "area_from": {"type": "string", "enum": ["caller_prefix", "variable"]},
        "variable": {"type": "string", "pattern": VARIABLE, "description": "holds the area (a district)"},
        "leave_digit": {"type": "string", "enum": list("0123456789*#")},
    }
    fail_open = True  # a controller outage skips it rather than turn callers away
    branches = ("_", "leave")
    required_branches = ("_",)
