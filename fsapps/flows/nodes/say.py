from fsapps import escape
from fsapps.flows.model import Problem
from fsapps.flows.nodes.base import NodeType, Rendered
from fsapps.flows.walls import expansion_problem, flow_variables, reference_problem

# mod_say: <module>[:<lang>] <type> <method> [<gender>] <text> (mod_dptools.c say_function)
SAY = {
    "number": ("NUMBER", "pronounced"),
    "digits": ("NUMBER", "iterated"),
    "money": ("CURRENCY", "pronounced"),
    "date": ("SHORT_DATE_TIME", "pronounced"),
    "time": ("CURRENT_TIME", "pronounced"),
}


class Say(NodeType):
    name = "say"
    summary = "Say a value in the caller's language: a number, digits, money, a date."
    properties = {
        "type": {"type": "string", "enum": sorted(SAY)},
        "value": {"type": "string", "description": "the value, usually a ${variable}"},
        "language": {"type": "string", "enum": ["en", "zh"]},
    }
    required_data = ("type", "value")

    def check(self, node, tenant, operator):
        value = node.get("value")
        if not isinstance(value, str):
            return []
        why = expansion_problem(value) or reference_problem(value, flow_variables(tenant), once=True)
        return [Problem(node.data.at("value"), why)] if why is not None else []

    def render(self, node, r):
        kind, method = SAY[node.get("type")]
        lang = node.get("language") or r.tenant.language
        # The value names variables (${name}); anything else in it is text, never code.
        value = escape.template(node.get("value"))
        return Rendered([("say", escape.app_data(f"{lang} {kind} {method} ", *value))])
