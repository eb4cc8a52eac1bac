from fsapps.flows.model import Problem
from fsapps.flows.nodes.logic import LogicNode
from fsapps.flows.nodes.set_vars import VARIABLE
from fsapps.flows.walls import lookup_url_problem, variable_problem
from fsapps.flows.yamlsrc import YList, YMap, at, show


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

    def check(self, node, tenant, operator):
        out = []
        key = node.get("key")
        if isinstance(key, str) and key != "caller_id" and not key.replace("_", "a").isalnum():
            message = f"key {show(key)}: expected caller_id or a variable name"
            out.append(Problem(node.data.at("key"), message))
        source = node.get("source")
        url = source.get("url") if isinstance(source, YMap) else None
        if isinstance(url, str) and (why := lookup_url_problem(url, operator.lookup_hosts)) is not None:
            out.append(Problem(source.at("url"), why))
        # The fields land in <prefix><field>: none may be a variable flows cannot set.
        prefix, fields = node.get("prefix", ""), node.get("fields")
        if isinstance(prefix, str) and isinstance(fields, YList):
            for i, name in enumerate(fields):
                if isinstance(name, str) and (why := variable_problem(prefix + name)) is not None:
                    where = at(fields, i, node.data.where)
                    out.append(Problem(where, f"field {show(name)} with prefix {show(prefix)}: {why}"))
        return out
