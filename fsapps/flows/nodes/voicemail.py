from fsapps.flows.nodes.base import NodeType, Rendered


class Voicemail(NodeType):
    name = "voicemail"
    summary = "Leave a message in a voicemail box (mod_voicemail), then the call ends."
    properties = {"box": {"type": "string", "pattern": r"^[A-Za-z0-9_-]+$"}}
    required_data = ("box",)
    branches = ()
    required_branches = ()

    def render(self, node, r):
        # mod_voicemail: voicemail <profile> <domain> <id>
        actions = [
            ("answer", ""),
            ("voicemail", f"default {r.tenant.domain} {node.get('box')}"),
            ("hangup", ""),
        ]
        return Rendered(actions, default=None)
