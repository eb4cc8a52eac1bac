from fsapps.flows.nodes.base import NodeType, Ref, Rendered


class Goto(NodeType):
    name = "goto"
    summary = "Continue in another flow of the same tenant."
    properties = {"flow": {"type": "string", "pattern": r"^[a-z0-9_]+$"}}
    required_data = ("flow",)
    branches = ()
    required_branches = ()

    def refs(self, node):
        return [Ref("flow", node.get("flow"), node.data.at("flow"))]

    def render(self, node, r):
        return Rendered([("transfer", r.transfer_to_flow(node.get("flow")))], default=None)
