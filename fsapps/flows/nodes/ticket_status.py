from fsapps.flows.model import Problem
from fsapps.flows.nodes.base import PROMPT_NAME, SECONDS
from fsapps.flows.nodes.logic import LogicNode
from fsapps.flows.nodes.set_vars import VARIABLE
from fsapps.flows.walls import variable_problem


class TicketStatus(LogicNode):
    name = "ticket_status"
    summary = (
        "The caller keys in a ticket number (or a variable holds it); its state is read back by TTS"
        " in the tenant's language."
    )
    properties = {
        "prompt": {**PROMPT_NAME, "description": "asks for the ticket number (ended by #)"},
        "variable": {"type": "string", "pattern": VARIABLE,
                     "description": "holds the number already (a collect node's); no prompt then"},
        "max_digits": {"type": "integer", "minimum": 1, "maximum": 12},
        "timeout": SECONDS,
    }  # fmt: skip
    branches = ("found", "not_found")
    required_branches = ("found",)
    prompt_fields = ("prompt",)

    def check(self, node, tenant, operator):
        problems = []
        variable = node.get("variable")
        if isinstance(variable, str) and (why := variable_problem(variable)) is not None:
            problems.append(Problem(node.data.at("variable"), why))
        if not node.get("prompt") and not variable:
            problems.append(
                Problem(
                    node.where, "ticket_status needs a prompt to ask for the number, or a variable holding it"
                )
            )
        return problems
