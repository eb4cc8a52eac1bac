"""Every node type the dialplan hands to the controller has an application there.

A logic node with no application is a stub: every call reaching it takes its
fallback while ``fsapps check`` accepts the YAML. Node types come with their
runtime or not at all."""

from __future__ import annotations

from fsapps.apps import NODE_APPLICATIONS
from fsapps.flows.nodes import NODE_TYPES


def test_every_logic_node_type_has_a_controller_application() -> None:
    logic = {name for name, t in NODE_TYPES.items() if getattr(t, "logic", False)}
    assert logic, "no logic node types found: the test would prove nothing"
    assert sorted(logic - set(NODE_APPLICATIONS)) == []


def test_every_node_application_is_for_a_node_type_check_accepts() -> None:
    # transfer is native unless it goes to a queue (nodes/transfer.py), then the ACD's.
    assert sorted(set(NODE_APPLICATIONS) - set(NODE_TYPES)) == []
