from fsapps.flows.nodes.base import PROMPT_NAME
from fsapps.flows.nodes.logic import LogicNode


class Callback(LogicNode):
    name = "callback"
    summary = "Take a callback request (keeping the caller's place when queued)."
    properties = {"prompt": PROMPT_NAME, "confirm": PROMPT_NAME}
    branches = ("_",)
    required_branches = ()
    prompt_fields = ("prompt", "confirm")
