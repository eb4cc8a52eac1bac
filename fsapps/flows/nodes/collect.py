import re

from fsapps.escape import Text
from fsapps.flows.model import Problem
from fsapps.flows.nodes.base import PROMPT_NAME, SECONDS, NodeType, Rendered, Route
from fsapps.flows.nodes.set_vars import VARIABLE


class Collect(NodeType):
    name = "collect"
    summary = "Collect digits into a variable (an account number, a PIN), checked by a regex."
    properties = {
        "prompt": PROMPT_NAME,
        "invalid_prompt": PROMPT_NAME,
        "variable": {"type": "string", "pattern": VARIABLE},
        "min": {"type": "integer", "minimum": 1, "maximum": 64},
        "max": {"type": "integer", "minimum": 1, "maximum": 64},
        "regex": {"type": "string", "description": "PCRE the digits must match"},
        "tries": {"type": "integer", "minimum": 1, "maximum": 10},
        "timeout": SECONDS,
        "digit_timeout": SECONDS,
        "terminator": {"type": "string", "enum": ["#", "*"]},
    }
    required_data = ("prompt", "variable")
    branches = ("_", "invalid")
    required_branches = ("_",)
    prompt_fields = ("prompt", "invalid_prompt")

    def check(self, node, tenant):
        problems = []
        if node.get("regex") is not None:
            try:
                re.compile(node.get("regex"))
            except re.error as exc:
                problems.append(Problem(node.data.at("regex"), f"bad regex: {exc} (expected a PCRE pattern)"))
        if node.get("min", 1) > node.get("max", 32):
            problems.append(Problem(node.data.at("min"), "min is above max (expected min <= max)"))
        return problems

    def render(self, node, r):
        var = node.get("variable")
        invalid = (
            r.prompt_parts(node.get("invalid_prompt")) if node.get("invalid_prompt") else "silence_stream://250"
        )
        lo, hi = node.get("min", 1), node.get("max", 32)
        regex = node.get("regex") or r"^\d+$"
        args = [
            str(lo), str(hi), str(node.get("tries", 3)),
            str(int(node.get("timeout", 5) * 1000)), node.get("terminator", "#"),
            r.prompt_parts(node.get("prompt")), invalid, var, Text(regex),
            str(int(node.get("digit_timeout", 3) * 1000)),
        ]  # fmt: skip
        # play_and_get_digits leaves a last, too short attempt in the variable (switch_ivr_read
        # sets it whatever the status, switch_ivr_play_say.c), so the route tests what it accepts.
        route = Route(
            "_",
            (
                {"field": "${" + var + "}", "expression": f"^.{{{lo},{hi}}}$"},
                {"field": "${" + var + "}", "expression": regex},
            ),
        )
        default = "invalid" if "invalid" in node.children else None
        return Rendered([("play_and_get_digits", r.args(args))], [route], default)
