from fsapps.flows.nodes.base import PROMPT_NAME, Ref
from fsapps.flows.nodes.logic import LogicNode
from fsapps.flows.yamlsrc import at

ITEM = {
    "oneOf": [
        {"type": "object", "additionalProperties": False, "required": ["prompt"],
         "properties": {"prompt": PROMPT_NAME}},
        {"type": "object", "additionalProperties": False, "required": ["value"],
         "properties": {"value": {"type": "string", "description": "usually a ${variable} from a lookup"},
                        "as": {"type": "string", "enum": ["text", "number", "digits", "money", "date"]}}},
    ]
}  # fmt: skip


class Readback(LogicNode):
    name = "readback"
    summary = "Read back looked-up values (balance, due date, order status) by TTS in the tenant's language."
    properties = {
        "items": {"type": "array", "items": ITEM, "minItems": 1},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
    }
    required_data = ("items",)
    branches = ("_", "missing")
    required_branches = ("_",)

    def refs(self, node):
        items = node.get("items") or []
        return [
            *super().refs(node),
            *(
                Ref("prompt", item["prompt"], at(items, i, node.where))
                for i, item in enumerate(items)
                if isinstance(item, dict) and isinstance(item.get("prompt"), str)
            ),
        ]
