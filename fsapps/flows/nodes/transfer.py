from fsapps.flows.model import Problem
from fsapps.flows.nodes.base import NodeType, Ref, Rendered


class Transfer(NodeType):
    name = "transfer"
    summary = "Send the call elsewhere: an extension, or an external number through a gateway."
    properties = {
        "extension": {"type": "string", "pattern": r"^[A-Za-z0-9_*#+-]+$"},
        "context": {"type": "string", "pattern": r"^[A-Za-z0-9_-]+$"},
        "number": {"type": "string", "pattern": r"^\+?[0-9]+$"},
        "gateway": {"type": "string", "pattern": r"^[A-Za-z0-9_.-]+$"},
        "timeout": {"type": "integer", "minimum": 5, "maximum": 300},
    }
    branches = ("failed",)
    required_branches = ()

    def refs(self, node):
        return [Ref("gateway", node.get("gateway"), node.data.at("gateway"))] if node.get("gateway") else []

    def check(self, node, tenant):
        has_ext, has_num = node.get("extension") is not None, node.get("number") is not None
        if has_ext == has_num:
            return [Problem(node.where, "a transfer needs exactly one of extension or number (expected one)")]
        if has_num and not node.get("gateway"):
            return [Problem(node.where, "an external number needs a gateway (expected gateway: <name>)")]
        return []

    def render(self, node, r):
        if node.get("extension") is not None:
            ctx = node.get("context") or r.tenant.context
            return Rendered([("transfer", f"{node.get('extension')} XML {ctx}")], default=None)
        actions = [
            ("set", f"call_timeout={node.get('timeout', 60)}"),
            ("set", "hangup_after_bridge=true"),
            ("bridge", f"sofia/gateway/{node.get('gateway')}/{node.get('number')}"),
        ]
        return Rendered(actions, default="failed" if "failed" in node.children else None)
