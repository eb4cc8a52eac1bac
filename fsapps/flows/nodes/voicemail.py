from fsapps.flows.nodes.base import PROMPT_NAME, NodeType, Rendered
from fsapps.flows.nodes.ticket_options import ticket_properties


class Voicemail(NodeType):
    name = "voicemail"
    summary = "Leave a message in a voicemail box (mod_voicemail), then the call ends."
    properties = {
        "box": {"type": "string", "pattern": r"^[A-Za-z0-9_-]+$"},
        "greeting": {**PROMPT_NAME, "description": "played before the tone (default: just the tone)"},
        # As Zendesk Talk does: every message left opens a ticket unless the flow says not
        # (fsapps.store.vm_collector reads these when the switch says a message was left).
        **ticket_properties(default=True),
    }
    required_data = ("box",)
    branches = ()
    required_branches = ()
    prompt_fields = ("greeting",)

    def render(self, node, r):
        # mod_voicemail speaks its greeting, instructions, review menu and goodbye with phrase
        # macros in the channel's language, and gives up when that language has none (a vanilla
        # conf has no zh phrases: "Can't find language zh"). The tenant's own greeting replaces
        # them; skip_* are read and cleared by voicemail_leave_main (mod_voicemail.c:3400-3411)
        # and create_file (l.1199).
        actions = [
            ("answer", ""),
            ("set", "skip_greeting=true"),
            ("set", "skip_instructions=true"),
            ("set", "skip_record_check=true"),
            ("set", "skip_record_urgent_check=true"),
            ("set", "voicemail_skip_goodbye=true"),
        ]
        if node.get("greeting"):
            actions.append(("playback", r.prompt(node.get("greeting"))))
        actions += [("voicemail", f"default {r.tenant.domain} {node.get('box')}"), ("hangup", "")]
        return Rendered(actions, default=None)
