"""Which live ACD events each person's stream shows (fsapps.web.visibility), and the events'
JSON (fsapps.acd.wire): pure, no I/O."""

from __future__ import annotations

import json

import pytest

from fsapps.acd import wire
from fsapps.acd.notifier import AgentStateChanged, LegChanged, MemberChanged, OfferMade, QueueFigures
from fsapps.web.policy import Principal, Role
from fsapps.web.visibility import Viewer, sees, shown

TENANTS = {"acme1": frozenset({"acme"}), "acme2": frozenset({"acme"}), "both": frozenset({"acme", "globex"})}
OPERATOR = Principal(1, "ops", Role.OPERATOR, None)
ADMIN = Principal(2, "admin", Role.TENANT_ADMIN, "acme")
SUPERVISOR = Principal(3, "sup", Role.SUPERVISOR, "acme", queues=frozenset({"support"}),
                       agents=frozenset({"acme1"}))  # fmt: skip
AGENT = Principal(4, "li", Role.AGENT, "acme", agent_id="acme1")
NO_AGENT = Principal(5, "nobody", Role.AGENT, "acme")  # an agent's user with no agent
QA = Principal(6, "qa", Role.QA, "acme")

EVENTS = {
    "acme1 state": AgentStateChanged("acme1", "Receiving", "Available", 1.0, member="m1"),
    "acme2 state": AgentStateChanged("acme2", "Waiting", "Available", 1.0),
    "shared state": AgentStateChanged("both", "In a queue call", "Available", 1.0, member="g1"),
    "stranger state": AgentStateChanged("nobody-knows", "Waiting", "Available", 1.0),
    "offer to acme1": OfferMade("acme", "support", "m1", "acme1", "l1", (("cn_name", "Li"),), 1.0),
    "offer to acme2": OfferMade("acme", "sales", "m2", "acme2", "l2", (), 1.0),
    "support figures": QueueFigures("acme", "support", 1, 2.0, (), 1.0),
    "sales figures": QueueFigures("acme", "sales", 1, 2.0, (), 1.0),
    "acme1 leg": LegChanged("acme", "support", "m1", "l1", "bridged", 1.0, agent="acme1"),
    "caller joins": MemberChanged("acme", "support", "m3", "joined", 1.0),
    "globex offer": OfferMade("globex", "support", "g1", "both", "l3", (), 1.0),
}


def seen(v: Viewer) -> set[str]:
    return {name for name, e in EVENTS.items() if sees(v, e, lambda a: TENANTS.get(a, frozenset()))}


ACME = set(EVENTS) - {"stranger state", "globex offer"}


@pytest.mark.parametrize(("viewer", "expected"), [
    (Viewer(OPERATOR, None), set(EVENTS)),
    (Viewer(OPERATOR, "acme"), ACME),
    (Viewer(ADMIN, "acme"), ACME),
    (Viewer(SUPERVISOR, "acme"), {"acme1 state", "offer to acme1", "support figures", "acme1 leg",
                                  "caller joins"}),
    (Viewer(AGENT, "acme", served=frozenset({"support"})), {"acme1 state", "offer to acme1",
                                                           "support figures", "acme1 leg"}),
    (Viewer(NO_AGENT, "acme"), set()),
    (Viewer(QA, "acme"), set()),
    (Viewer(ADMIN, None), set()),  # across tenants is the operator's
    (Viewer(OPERATOR, "globex"), {"shared state", "globex offer"}),
])  # fmt: skip
def test_each_role_sees_what_the_rules_let_it(viewer: Viewer, expected: set[str]) -> None:
    assert seen(viewer) == expected


def test_a_shared_agents_caller_is_not_shown_in_a_tenants_stream() -> None:
    """The caller may be another tenant's: the state is shown, not whom it is about."""
    tenants = lambda a: TENANTS.get(a, frozenset())  # noqa: E731
    shared, own = EVENTS["shared state"], EVENTS["acme1 state"]
    assert shown(Viewer(ADMIN, "acme"), shared, tenants) == AgentStateChanged(
        "both", "In a queue call", "Available", 1.0
    )
    assert shown(Viewer(ADMIN, "acme"), own, tenants) == own
    assert shown(Viewer(OPERATOR, None), shared, tenants) == shared


@pytest.mark.parametrize("event", list(EVENTS.values()), ids=list(EVENTS))
def test_events_go_to_json_and_back(event) -> None:
    text = wire.to_json(event)
    assert "\n" not in text
    assert wire.from_fields(wire.kind_of(event), json.loads(text)) == event


def test_an_offers_variables_and_a_queues_agents_are_objects() -> None:
    offer = json.loads(wire.to_json(EVENTS["offer to acme1"]))
    assert offer["variables"] == {"cn_name": "Li"}
    figures = QueueFigures("acme", "q", 2, 5.0, (("Available", "Waiting", 3),), 1.0)
    agents = json.loads(wire.to_json(figures))["agents"]
    assert agents == [{"status": "Available", "state": "Waiting", "count": 3}]


@pytest.mark.parametrize(("kind", "fields"), [
    ("nonsense", {}), ("offer", {"tenant": "acme"}), ("agent_state", []), ("queue", {"agents": 3}),
])  # fmt: skip
def test_what_is_not_an_event_is_refused(kind: str, fields) -> None:
    with pytest.raises(wire.BadEvent):
        wire.from_fields(kind, fields)
