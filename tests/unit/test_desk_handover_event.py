"""The ``handover`` live event (a caller's card handed from one agent to another): who
sees it, and its JSON there and back (fsapps.web.visibility, fsapps.acd.wire). Pure."""

from __future__ import annotations

import json

import pytest

from fsapps.acd import wire
from fsapps.acd.notifier import CallHandedOver, MemberChanged
from fsapps.web.policy import Principal, Role
from fsapps.web.visibility import Viewer, sees

HANDOVER = CallHandedOver("acme", "support", "m1", "acme2", "acme1", "transfer", "+15550123", "Ada", 7, 1.0)
TENANTS = {"acme1": frozenset({"acme"}), "acme2": frozenset({"acme"})}


@pytest.mark.parametrize(("principal", "tenant", "expected"), [
    (Principal(1, "ops", Role.OPERATOR, None), None, True),
    (Principal(2, "admin", Role.TENANT_ADMIN, "acme"), "acme", True),
    (Principal(2, "admin", Role.TENANT_ADMIN, "acme"), "globex", False),
    (Principal(3, "sup", Role.SUPERVISOR, "acme", queues=frozenset({"support"})), "acme", True),
    (Principal(3, "sup", Role.SUPERVISOR, "acme", queues=frozenset({"sales"})), "acme", False),
    (Principal(4, "zhao", Role.AGENT, "acme", agent_id="acme2"), "acme", True),  # who receives it
    (Principal(5, "wang", Role.AGENT, "acme", agent_id="acme1"), "acme", False),  # who handed it on
    (Principal(6, "li", Role.AGENT, "acme", agent_id="acme3"), "acme", False),
    (Principal(7, "qa", Role.QA, "acme"), "acme", False),
])  # fmt: skip
def test_only_the_receiving_agent_and_those_over_the_queue_see_a_handover(
    principal: Principal, tenant: str | None, expected: bool
) -> None:
    assert sees(Viewer(principal, tenant), HANDOVER, lambda a: TENANTS.get(a, frozenset())) is expected


def test_a_handover_and_the_callers_number_go_through_the_wire_unchanged() -> None:
    assert wire.kind_of(HANDOVER) == "handover"
    data = json.loads(wire.to_json(HANDOVER))
    assert (data["agent"], data["by"], data["customer"], data["number"]) == ("acme2", "acme1", 7, "+15550123")
    assert wire.from_fields("handover", data) == HANDOVER
    ended = MemberChanged("acme", "support", "m1", "left", 2.0, agent="acme1", outcome="answered",
                          number="+15550123", recording="4d6c2f0e-0000-4000-8000-000000000001")  # fmt: skip
    assert wire.from_fields("member", json.loads(wire.to_json(ended))) == ended
