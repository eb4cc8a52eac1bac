from fsapps.causes import CAUSES
from fsapps.flows.nodes.base import NodeType, Rendered


class Hangup(NodeType):
    name = "hangup"
    summary = "End the call with a hangup cause (default NORMAL_CLEARING)."
    properties = {"cause": {"type": "string", "enum": sorted(c for c in CAUSES if c != "NONE")}}
    branches = ()
    required_branches = ()

    def render(self, node, r):
        return Rendered([("hangup", node.get("cause", "NORMAL_CLEARING"))], default=None)
