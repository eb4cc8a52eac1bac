from fsapps.flows.nodes.base import PROMPT_NAME
from fsapps.flows.nodes.logic import LogicNode


class Blacklist(LogicNode):
    name = "blacklist"
    summary = "Stop listed callers (exact numbers, prefixes): an announcement or a reject cause."
    properties = {
        "action": {"type": "string", "enum": ["reject", "announce"]},
        "cause": {"type": "string", "enum": ["CALL_REJECTED", "USER_BUSY", "NORMAL_CLEARING"]},
        "prompt": PROMPT_NAME,
    }
    fail_open = True  # a controller outage skips it rather than turn callers away
    branches = ("_",)
    required_branches = ("_",)
    prompt_fields = ("prompt",)
