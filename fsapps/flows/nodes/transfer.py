from fsapps.flows.model import Problem
from fsapps.flows.nodes.base import NodeType, Ref, Rendered
from fsapps.flows.nodes.logic import LogicNode
from fsapps.flows.nodes.queue import hold_routes
from fsapps.flows.yamlsrc import show


class Transfer(NodeType):
    name = "transfer"
    summary = "Send the call elsewhere: an extension, a queue, or an external number through a gateway."
    properties = {
        "extension": {"type": "string", "pattern": r"^[A-Za-z0-9_*#+-]+$"},
        "queue": {
            "type": "string",
            "pattern": r"^[A-Za-z0-9_-]+$",
            "description": "one of the tenant's queues",
        },
        "context": {"type": "string", "pattern": r"^[A-Za-z0-9_-]+$"},
        "number": {"type": "string", "pattern": r"^\+?[0-9]+$"},
        "gateway": {"type": "string", "pattern": r"^[A-Za-z0-9_.-]+$"},
        "timeout": {"type": "integer", "minimum": 5, "maximum": 300},
    }
    branches = ("failed",)
    app = "flow"
    fail_open = False
    required_branches = ()

    def refs(self, node):
        out = []
        if node.get("gateway"):
            out.append(Ref("gateway", node.get("gateway"), node.data.at("gateway")))
        if node.get("queue"):
            out.append(Ref("queue", node.get("queue"), node.data.at("queue")))
        return out

    def check(self, node, tenant, operator):
        out = []
        context = node.get("context")
        if context is not None and context != tenant.context:
            # Another context is another tenant's flows, or the public one with their numbers.
            message = f"context {show(context)} is not this tenant's (expected {tenant.context} or none)"
            out.append(Problem(node.data.at("context"), message))
        return out + self._target(node)

    def _target(self, node):
        targets = [k for k in ("extension", "queue", "number") if node.get(k) is not None]
        if len(targets) != 1:
            return [
                Problem(node.where, "a transfer goes to one place (expected one of extension, queue, number)")
            ]
        has_num = targets == ["number"]
        if has_num and not node.get("gateway"):
            return [Problem(node.where, "an external number needs a gateway (expected gateway: <name>)")]
        return []

    def render(self, node, r):
        if node.get("queue") is not None:
            # Into the queue as a queue node would: the controller's ACD takes it, and the
            # dialplan holds the caller if that controller dies while they wait.
            rendered = LogicNode.render(self, node, r)  # type: ignore[arg-type]
            rendered.routes += hold_routes(node, r)
            return rendered
        if node.get("extension") is not None:
            ctx = node.get("context") or r.tenant.context
            return Rendered([("transfer", f"{node.get('extension')} XML {ctx}")], default=None)
        actions = [
            ("set", f"call_timeout={node.get('timeout', 60)}"),
            ("set", "hangup_after_bridge=true"),
        ]
        if "failed" in node.children:
            # A failed bridge hangs the caller up unless continue_on_fail is set
            # (mod_dptools.c:3639 -> switch_channel_handle_cause, switch_channel.c:4875).
            actions.append(("set", "continue_on_fail=true"))
        actions.append(("bridge", f"sofia/gateway/{node.get('gateway')}/{node.get('number')}"))
        return Rendered(actions, default="failed" if "failed" in node.children else None)
