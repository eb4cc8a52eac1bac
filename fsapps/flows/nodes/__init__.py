"""Every node type, registered in one place: adding one is one module and one line here."""

from __future__ import annotations

from fsapps.flows.nodes.answer import Answer
from fsapps.flows.nodes.base import NodeType
from fsapps.flows.nodes.blacklist import Blacklist
from fsapps.flows.nodes.callback import Callback
from fsapps.flows.nodes.collect import Collect
from fsapps.flows.nodes.goto import Goto
from fsapps.flows.nodes.hangup import Hangup
from fsapps.flows.nodes.lookup import Lookup
from fsapps.flows.nodes.menu import Menu
from fsapps.flows.nodes.outage_notice import OutageNotice
from fsapps.flows.nodes.play import Play
from fsapps.flows.nodes.queue import Queue
from fsapps.flows.nodes.readback import Readback
from fsapps.flows.nodes.say import Say
from fsapps.flows.nodes.set_vars import SetVariables
from fsapps.flows.nodes.survey import Survey
from fsapps.flows.nodes.ticket_status import TicketStatus
from fsapps.flows.nodes.time_route import TimeRoute
from fsapps.flows.nodes.transfer import Transfer
from fsapps.flows.nodes.voicemail import Voicemail

NODE_TYPES: dict[str, NodeType] = {
    t.name: t()
    for t in (
        Answer, Play, Menu, Collect, TimeRoute, SetVariables, Lookup, Say, Queue, Voicemail,
        Transfer, Survey, Callback, Blacklist, OutageNotice, Readback, Hangup, Goto,
        TicketStatus,
    )
}  # fmt: skip

__all__ = ["NODE_TYPES", "NodeType"]
