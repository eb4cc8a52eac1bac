from fsapps.flows.nodes.base import NodeType, Rendered

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

    def render(self, node, r):
        app = "export" if node.get("export") else "set"
        return Rendered([(app, f"{k}={_text(v)}") for k, v in node.get("variables").items()])


def _text(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)
