from fsapps.flows.nodes.base import NodeType, Rendered


class Answer(NodeType):
    name = "answer"
    summary = "Answer the call (start billing, open media)."

    def render(self, node, r):
        return Rendered([("answer", "")])
