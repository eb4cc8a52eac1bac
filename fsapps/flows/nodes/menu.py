from fsapps.flows.model import Problem
from fsapps.flows.nodes.base import PROMPT_NAME, SECONDS, NodeType, Rendered
from fsapps.flows.nodes.simple import exact, var_route

DIGITS = "0123456789*#"
# play_and_get_digits has no "no terminator": an empty one means "#"
# (mod_dptools.c:2902), so a menu that offers # collects with one no phone sends.
UNTYPABLE = "q"


class Menu(NodeType):
    name = "menu"
    summary = "Play a menu and branch on one digit; retries with an invalid prompt."
    properties = {
        "prompt": PROMPT_NAME,
        "invalid_prompt": PROMPT_NAME,
        "tries": {"type": "integer", "minimum": 1, "maximum": 10},
        "timeout": SECONDS,
        "digit_timeout": SECONDS,
    }
    required_data = ("prompt",)
    branches = ("timeout", "invalid")
    required_branches = ()
    digit_branches = True
    prompt_fields = ("prompt", "invalid_prompt")

    def check(self, node, tenant, operator):
        if not any(b in DIGITS and len(b) == 1 for b in node.children):
            return [
                Problem(
                    node.where, "a menu needs at least one digit branch (expected keys like '1', '2', '0')"
                )
            ]
        return []

    def render(self, node, r):
        digits = [b for b in node.children if len(b) == 1 and b in DIGITS]
        var = r.variable(node)
        invalid = (
            r.prompt_parts(node.get("invalid_prompt")) if node.get("invalid_prompt") else "silence_stream://250"
        )
        klass = "".join("\\" + d if d in "*#" else d for d in digits)
        args = [
            "1", "1", str(node.get("tries", 3)), str(int(node.get("timeout", 5) * 1000)),
            UNTYPABLE if "#" in digits else "#", r.prompt_parts(node.get("prompt")), invalid, var,
            f"^[{klass}]$",
            str(int(node.get("digit_timeout", 3) * 1000)),
        ]  # fmt: skip
        routes = [var_route(d, var, exact(d)) for d in digits]
        if "invalid" in node.children:
            routes.append(var_route("invalid", var + "_invalid", "^.+$"))
        default = "timeout" if "timeout" in node.children else None
        return Rendered([("play_and_get_digits", r.args(args))], routes, default)
