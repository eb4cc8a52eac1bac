from fsapps.flows.nodes.base import Ref
from fsapps.flows.nodes.logic import LogicNode


class Queue(LogicNode):
    name = "queue"
    summary = "Wait in an ACD queue for an agent, by priority and required skills."
    properties = {
        "queue": {"type": "string", "pattern": r"^[A-Za-z0-9_-]+$"},
        "priority": {"type": "integer", "minimum": 0, "maximum": 10},
        "skills": {
            "type": "object",
            "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 10},
        },
    }
    required_data = ("queue",)
    branches = ("_", "timeout", "callback")
    required_branches = ()
    app = "flow"

    def refs(self, node):
        return [Ref("queue", node.get("queue"), node.data.at("queue"))]
