import re

from fsapps import escape
from fsapps.escape import Text
from fsapps.flows import regexlen
from fsapps.flows.model import Problem
from fsapps.flows.nodes.base import PROMPT_NAME, SECONDS, NodeType, Rendered, Route
from fsapps.flows.nodes.set_vars import VARIABLE
from fsapps.flows.walls import expansion_problem, reference_problem, variable_problem
from fsapps.flows.yamlsrc import show


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
        "screen_pop": {
            "type": "boolean",
            "description": "show the digits to the agent a later queue node rings (never for a PIN)",
        },
    }
    required_data = ("prompt", "variable")
    branches = ("_", "invalid")
    required_branches = ("_",)
    prompt_fields = ("prompt", "invalid_prompt")

    def check(self, node, tenant, operator):
        problems = []
        variable = node.get("variable")
        if isinstance(variable, str) and (why := variable_problem(variable)) is not None:
            problems.append(Problem(node.data.at("variable"), why))
        lo, hi, regex = node.get("min", 1), node.get("max", 32), node.get("regex")
        if not isinstance(lo, int) or not isinstance(hi, int):
            return problems  # the schema said so already
        if lo > hi:
            problems.append(Problem(node.data.at("min"), "min is above max (expected min <= max)"))
        if not isinstance(regex, str):
            return problems
        # The regex is a condition's expression too, which mod_dialplan_xml expands
        # (mod_dialplan_xml.c:270): it may name no variable.
        why = expansion_problem(regex) or reference_problem(regex, (), once=False)
        if why is not None:
            problems.append(Problem(node.data.at("regex"), why))
            return problems
        try:
            re.compile(regex)
        except re.error as exc:
            problems.append(Problem(node.data.at("regex"), f"bad regex: {exc} (expected a PCRE pattern)"))
            return problems
        accepted = regexlen.entry_lengths(regex, hi)
        if lo <= hi and accepted is not None and not any(lo <= n <= hi for n in accepted):
            # Every entry the caller can make is turned away: the call always takes "invalid".
            takes = regexlen.entry_lengths(regex, 64) or frozenset()
            message = (
                f"regex {show(regex)} accepts no entry of {lo} to {hi} digits, the min and max "
                f"(expected them to allow what it accepts: {regexlen.describe(takes)} digits)"
            )
            problems.append(Problem(node.data.at("regex"), message))
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
                {"field": "${" + var + "}", "expression": escape.app_arg(regex)},
            ),
        )
        default = "invalid" if "invalid" in node.children else None
        return Rendered([("play_and_get_digits", r.args(args))], [route], default)
