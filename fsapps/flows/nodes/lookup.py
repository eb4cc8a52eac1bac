from fsapps.flows.model import Problem
from fsapps.flows.nodes.logic import LogicNode
from fsapps.flows.nodes.set_vars import VARIABLE


class Lookup(LogicNode):
    name = "lookup"
    summary = "Find the caller's record (by caller ID or collected digits) in a table or over HTTP."
    properties = {
        "source": {
            "oneOf": [
                {"type": "object", "additionalProperties": False, "required": ["table"],
                 "properties": {"table": {"type": "string", "pattern": r"^[a-z_][a-z0-9_]*$"},
                                "column": {"type": "string", "pattern": r"^[a-z_][a-z0-9_]*$"}}},
                {"type": "object", "additionalProperties": False, "required": ["url"],
                 "properties": {"url": {"type": "string", "pattern": "^https?://"}}},
            ]
        },
        "key": {"type": "string", "description": "caller_id, or the variable holding collected digits"},
        "fields": {"type": "array", "items": {"type": "string", "pattern": VARIABLE}, "minItems": 1},
        "prefix": {"type": "string", "pattern": VARIABLE, "description": "variable prefix for the fields"},
        "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 30},
        "retries": {"type": "integer", "minimum": 0, "maximum": 5},
    }  # fmt: skip
    required_data = ("source", "key", "fields")
    branches = ("found", "not_found")
    required_branches = ("found", "not_found")

    def check(self, node, tenant):
        key = node.get("key")
        if isinstance(key, str) and key != "caller_id" and not key.replace("_", "a").isalnum():
            return [Problem(node.data.at("key"), f"key {key!r}: expected caller_id or a variable name")]
        return []
