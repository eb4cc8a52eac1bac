from fsapps import escape
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
        # A value may name variables (${name}); the rest is text, never code. ``set`` expands
        # its value twice (switch_core_session.c:2867, mod_dptools.c base_set), export once.
        app, times = ("export", 1) if node.get("export") else ("set", 2)
        return Rendered([
            (app, escape.app_data(f"{k}=", *escape.template(_text(v)), expansions=times))
            for k, v in node.get("variables").items()
        ])  # fmt: skip


def _text(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)
