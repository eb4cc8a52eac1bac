from fsapps.flows.nodes.logic import LogicNode


class FaxReceive(LogicNode):
    name = "fax_receive"
    summary = "Receive a fax (T.38 or audio) and store it for the tenant."
    properties = {"mailbox": {"type": "string", "pattern": r"^[A-Za-z0-9_-]+$"}}
    branches = ("_", "failed")
    required_branches = ()
