"""Nodes that need the controller: handed over with the socket app, back by a branch.

The node's extension marks the call (tenant, flow, node) and runs
``socket host1:port/flow|host2:port/flow async full`` with socket_resume
set: FreeSWITCH tries each controller in turn (mod_event_socket.c:443), and
when the application hands the call back (resume + exit) the dialplan goes
on to the node's route extension. The application names the branch in
``fsapps_branch`` (a branch the node has no child for ends the call); with
no controller reachable, or one that died mid-call, the branch is empty and
``fallback`` is taken: the native path that keeps callers served when every
controller is down. (The queue node, and a transfer into a queue, add routes
that hold their callers when their controller dies: fsapps.flows.nodes.queue.)
"""

from __future__ import annotations

from fsapps.flows.nodes.base import NodeType, Rendered, Route
from fsapps.flows.nodes.simple import exact, var_route

FALLBACK_TEXT = {
    "en": "We are sorry, this service is not available right now. Please call again later.",
    "zh": "抱歉，该服务暂时无法使用，请稍后再拨。",
}


class LogicNode(NodeType):
    logic = True
    app = "flow"  # the controller application that runs flow nodes
    # With no controller and no fallback branch written: go on to the ``_``
    # child (a check or a courtesy the call can do without) rather than say sorry.
    fail_open: bool = False
    esl_only: bool = False  # always handed to the controller over ESL, even with runtime: embedded

    @classmethod
    def allowed_branches(cls):
        return (*cls.branches, "fallback")

    def render(self, node, r):
        # A transfer into a queue is the queue's too (nodes/transfer.py renders through here).
        esl_only = getattr(self, "esl_only", False) or node.type == "transfer"
        actions = [("set", "fsapps_branch="), *r.handoff(node, self.app, esl_only=esl_only)]
        routes = [var_route(b, "fsapps_branch", exact(b)) for b in node.children if b != "fallback"]
        # A branch this node has no child for: the application is done with the call.
        routes.append(
            Route(
                "done",
                ({"field": "${fsapps_branch}", "expression": "^.+$"},),
                (("hangup", "NORMAL_CLEARING"),),
            )
        )
        if "fallback" in node.children:
            return Rendered(actions, routes, "fallback")
        if self.fail_open and "_" in node.children:
            return Rendered(actions, routes, "_")
        # No fallback written: say sorry rather than leave the caller in silence.
        text = FALLBACK_TEXT.get(r.tenant.language, FALLBACK_TEXT["en"])
        otherwise = [("playback", r.tts(text)), ("hangup", "NORMAL_TEMPORARY_FAILURE")]
        return Rendered(actions, routes, None, otherwise)
