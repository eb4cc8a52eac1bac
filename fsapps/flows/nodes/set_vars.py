from fsapps.flows.model import Problem
from fsapps.flows.nodes.base import NodeType, Rendered
from fsapps.flows.walls import expansion_problem, variable_problem
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
            if isinstance(value, str) and (why := expansion_problem(value)) is not None:
                out.append(Problem(variables.at(name), why))
        return out

    def render(self, node, r):
        app = "export" if node.get("export") else "set"
        return Rendered([(app, f"{k}={_text(v)}") for k, v in node.get("variables").items()])


def _text(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)
