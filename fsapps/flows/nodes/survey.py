from fsapps.flows.nodes.base import PROMPT_NAME, Ref
from fsapps.flows.nodes.logic import LogicNode
from fsapps.flows.yamlsrc import at


class Survey(LogicNode):
    name = "survey"
    summary = "Ask the caller to rate the service 1-5 (and optionally a second question)."
    properties = {
        "questions": {"type": "array", "items": PROMPT_NAME, "minItems": 1, "maxItems": 2},
        "thanks": PROMPT_NAME,
    }
    required_data = ("questions",)
    fail_open = True  # a controller outage skips it rather than turn callers away
    branches = ("_",)
    required_branches = ()
    prompt_fields = ("thanks",)

    def refs(self, node):
        qs = node.get("questions") or []
        return [
            *super().refs(node),
            *(Ref("prompt", q, at(qs, i, node.where)) for i, q in enumerate(qs) if isinstance(q, str)),
        ]
