from fsapps.flows.nodes.base import PROMPT_NAME
from fsapps.flows.nodes.logic import LogicNode
from fsapps.flows.nodes.ticket_options import ticket_properties


class Callback(LogicNode):
    name = "callback"
    summary = "Take a callback request (keeping the caller's place when queued)."
    # A callback request is worked by the dialer already: a ticket only when the flow asks.
    properties = {"prompt": PROMPT_NAME, "confirm": PROMPT_NAME, **ticket_properties(default=False)}
    branches = ("_",)
    required_branches = ()
    prompt_fields = ("prompt", "confirm")
