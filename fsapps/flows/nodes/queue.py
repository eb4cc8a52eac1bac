"""The queue node: the caller waits for an agent (fsapps.apps.queue, fsapps.acd).

A queue holds callers for minutes, so its controller may die while they
wait. The application arms ``fsapps_resume`` with its node; when the socket
ends with no branch, the route hands the caller over again at once (the
next controller of the list picks them up, place kept); if that fails too,
once more after a second (a controller killed that instant still accepted
the first try: its process was being torn down); and if nobody answers,
plays a clip of the queue's hold music and tries again, and so on until a
controller is back (or the caller hangs up: FreeSWITCH ends a call after
max_session_transfers, 1000 by default, about an hour here).
"""

from fsapps.acd.config import DEFAULT_MOH
from fsapps.flows.nodes.base import Ref, Route
from fsapps.flows.nodes.logic import LogicNode
from fsapps.flows.nodes.simple import exact


class Queue(LogicNode):
    name = "queue"
    summary = "Wait in an ACD queue for an agent, by priority and required skills."
    properties = {
        "queue": {"type": "string", "pattern": r"^[A-Za-z0-9_-]+$"},
        "priority": {"type": "integer", "minimum": 0, "maximum": 10},
        "skills": {
            "type": "object",
            "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 10},
        },
    }
    required_data = ("queue",)
    branches = ("_", "timeout", "callback")
    required_branches = ()
    app = "flow"
    esl_only = True  # the ACD lives in the controller

    def render(self, node, r):
        rendered = super().render(node, r)
        rendered.routes += hold_routes(node, r)
        return rendered

    def refs(self, node):
        return [Ref("queue", node.get("queue"), node.data.at("queue"))]


def hold_routes(node, r):
    """The routes that hold a caller of ``node`` (a queue node, or a transfer into a queue)
    whose controller ended with no branch, and hand them over again, with the queue's hold
    music between tries."""
    here = exact(f"{r.flow.name}.{node.id}")
    name = node.get("queue")
    hold = _hold_music(r, r.tenant.queues.get(name))
    armed = {"field": "${fsapps_resume}", "expression": here}
    tried = f"{r.flow.name}.{node.id}"
    paused = exact(f"{tried}:paused")
    held = {"field": "${fsapps_held}", "expression": paused}
    again = ("transfer", r.transfer_to(node.id))
    # A caller moved from here to another queue (a supervisor's move, an agent's transfer)
    # waits there: held here, they hear that queue's music, which fsapps_queue names (each
    # visit sets it to its queue as it begins).
    moved = [
        Route("hold", (armed, held, {"field": "${fsapps_queue}", "expression": exact(other)}),
              (("playback", music), again))
        for other, queue in sorted(r.tenant.queues.items())
        if other != name and (music := _hold_music(r, queue)) != hold
    ]  # fmt: skip
    # The first matching extension wins: held (tried after a pause already), then the
    # pause (tried once at once), then resume. A new visit clears fsapps_held.
    return [
        *moved,
        Route("hold", (armed, held), (("playback", hold), again)),
        Route("pause", (armed, {"field": "${fsapps_held}", "expression": here}),
              (("set", f"fsapps_held={tried}:paused"), ("sleep", "1000"), again)),
        Route("resume", (armed,), (("set", f"fsapps_held={tried}"), again)),
    ]  # fmt: skip


def _hold_music(r, queue) -> str:
    """A queue's hold clip as the dialplan plays it: its moh-sound, or the default."""
    moh = queue.data.get("moh-sound") if queue is not None and isinstance(queue.data, dict) else None
    return r.prompt(moh) if moh else DEFAULT_MOH
