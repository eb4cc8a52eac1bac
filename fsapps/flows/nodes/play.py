from fsapps.flows.nodes.base import PROMPT_NAME, NodeType, Rendered


class Play(NodeType):
    name = "play"
    summary = "Play a prompt (a sound file or text spoken by TTS), then go on."
    properties = {"prompt": PROMPT_NAME}
    required_data = ("prompt",)
    prompt_fields = ("prompt",)

    def render(self, node, r):
        return Rendered([("playback", r.prompt(node.get("prompt")))])
