"""``controller_choice: spread``: the socket's hosts start at a controller the call's UUID
picks, as the switch expands them (the emulator's expansion and regex API, which copy
switch_channel_expand_variables and mod_commands.c regex_function)."""

from __future__ import annotations

import uuid
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from fsapps.flows.check import check
from fsapps.flows.render import socket_targets
from fsapps.sim.api import regex_api
from fsapps.sim.expand import expand

CONTROLLERS = ["10.0.0.1:8084", "10.0.0.2:8084", "10.0.0.3:8084"]


def expanded(targets: str, call: str) -> str:
    def lookup(name: str, idx: int) -> str | None:
        return call if name == "uuid" else None

    def api(command: str, args: str) -> str | None:
        assert command == "regex", command
        return regex_api(None, args, None)  # type: ignore[arg-type]  # the switch is not read

    return expand(targets, lookup, api)


def test_in_order_is_the_list_as_written() -> None:
    assert socket_targets(CONTROLLERS, "queue") == "|".join(f"{c}/queue" for c in CONTROLLERS)
    assert socket_targets(CONTROLLERS[:1], "queue", "spread") == "10.0.0.1:8084/queue"


@given(st.uuids(), st.integers(min_value=2, max_value=20))
def test_spread_gives_every_call_every_controller_once_in_turn(call: uuid.UUID, n: int) -> None:
    controllers = [f"10.0.{i // 256}.{i % 256}:8084" for i in range(n)]
    hosts = expanded(socket_targets(controllers, "flow", "spread"), str(call)).split("|")
    assert sorted(hosts) == sorted(f"{c}/flow" for c in controllers)
    first = [f"{c}/flow" for c in controllers].index(hosts[0])
    assert hosts == [f"{c}/flow" for c in controllers[first:] + controllers[:first]]


def test_spread_spreads_calls_evenly() -> None:
    firsts = Counter(
        expanded(socket_targets(CONTROLLERS, "flow", "spread"), f"0000000{d}-0000-4000-8000-00000000000{d}")
        .split("|")[0]
        for d in "0123456789abcdef"
    )
    # 16 last digits over 3 controllers: 6, 5 and 5.
    assert sorted(firsts.values()) == [5, 5, 6]


def test_operator_yaml_chooses_and_a_wrong_choice_is_named_where_it_is(tmp_path) -> None:
    (tmp_path / "operator.yaml").write_text(
        "controllers: [127.0.0.1:8084, 127.0.0.1:8085]\ncontroller_choice: spread\n"
    )
    assert check(tmp_path).operator.controller_choice == "spread"
    (tmp_path / "operator.yaml").write_text("controllers: [127.0.0.1:8084]\ncontroller_choice: random\n")
    project = check(tmp_path)
    assert project.operator.controller_choice == "in-order"
    assert [(p.where.line, p.message) for p in project.problems] == [
        (2, "unexpected value 'random' (expected one of: in-order, spread)")
    ]
