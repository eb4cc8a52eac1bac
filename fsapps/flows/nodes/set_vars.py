from fsapps import escape
from fsapps.flows.model import Problem
from fsapps.flows.nodes.base import NodeType, Rendered
from fsapps.flows.walls import expansion_problem, flow_variables, reference_problem, variable_problem
from fsapps.flows.yamlsrc import YMap

VARIABLE = r"^[A-Za-z_][A-Za-z0-9_]*$"


class SetVariables(NodeType):
    name = "set"
    summary = "Set channel variables (exported ones follow the call to agents' legs)."
    properties = {
        "variables": {
            "type": "object",
            "propertyNames": {"pattern": VARIABLE},
            "additionalProperties": {"type": ["string", "number", "boolean"]},
            "minProperties": 1,
        },
        "export": {"type": "boolean", "description": "also set them on legs this call originates"},
    }
    required_data = ("variables",)

    def check(self, node, tenant, operator):
        variables = node.get("variables")
        if not isinstance(variables, YMap):
            return []
        out = []
        for name, value in variables.items():
            if (why := variable_problem(name)) is not None:
                out.append(Problem(variables.key_at(name), why))
            if not isinstance(value, str):
                continue
            why = (
                expansion_problem(value)
                or reference_problem(value, flow_variables(tenant), once=False)
                or _unwritable(name, value)
            )
            if why is not None:
                out.append(Problem(variables.at(name), why))
        return out

    def render(self, node, r):
        # A value may name variables (${name}); the rest is text, never code. ``set`` expands
        # its value twice (switch_core_session.c:2867, mod_dptools.c base_set), export once.
        app, times = ("export", 1) if node.get("export") else ("set", 2)
        return Rendered([
            (app, escape.app_data(f"{k}=", *escape.template(_text(v)), expansions=times))
            for k, v in node.get("variables").items()
        ])  # fmt: skip


def _unwritable(name, value):
    """What FreeSWITCH's syntax cannot carry as written in this value, or None. A set value is
    expanded twice, an exported one is stored and expanded whenever it is referred to: either
    way its text must be inert, so no '$' or backslash of its own."""
    try:
        escape.app_data(f"{name}=", *escape.template(value), expansions=2)
    except escape.UnsafeValue as exc:
        return f"{exc} (expected text and ${{name}} of variables; a set value expands twice)"
    return None


def _text(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)
