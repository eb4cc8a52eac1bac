"""A queue's tiers rewritten in tenant.yaml's text: that queue's tiers change, and every
other line stays as written (comments, order, quotes, indentation)."""

from __future__ import annotations

import pytest
import yaml

from fsapps.flows.tiers import TierEntry, TiersError, rewrite

TENANT = """\
# the help desk's tenant
id: acme   # never changes
name: "Acme"
access_numbers:
    "0755": main     # quoted: a leading zero
queues:
    # first line
    support:
        strategy: ring-all
        tiers:
          - ann      # the lead
          - {agent: bob, level: 2}
        max-wait-time: 60
    sales: {strategy: top-down}
    empty:
"""


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    a, b = before.splitlines(), after.splitlines()
    return [(x, y) for x, y in zip(a, b, strict=False) if x != y] + [("", y) for y in b[len(a) :]]


def test_a_block_list_of_tiers_becomes_one_line_and_nothing_else_moves() -> None:
    after = rewrite(TENANT, "support", [TierEntry("cat"), TierEntry("ann", 2, 5)])
    assert yaml.safe_load(after)["queues"]["support"] == {
        "strategy": "ring-all",
        "tiers": ["cat", {"agent": "ann", "level": 2, "position": 5}],
        "max-wait-time": 60,
    }
    kept = [
        ln
        for ln in TENANT.splitlines()
        if ln.strip() not in ("tiers:", "- ann      # the lead", "- {agent: bob, level: 2}")
    ]
    assert [ln for ln in after.splitlines() if "tiers:" not in ln] == kept


def test_a_queue_without_tiers_gets_them_in_its_own_style() -> None:
    after = rewrite(TENANT, "sales", [TierEntry("ann")])
    assert changed_lines(TENANT, after) == [
        ("    sales: {strategy: top-down}", "    sales: {strategy: top-down, tiers: [ann]}")
    ]
    after = rewrite(TENANT, "support", [])
    assert yaml.safe_load(after)["queues"]["support"]["tiers"] == []


@pytest.mark.parametrize(("queue", "code"), [("nowhere", "no_such_queue"), ("empty", "not_kept")])
def test_what_cannot_be_rewritten_is_refused(queue: str, code: str) -> None:
    with pytest.raises(TiersError) as exc:
        rewrite(TENANT, queue, [TierEntry("ann")])
    assert exc.value.code == code


def test_text_that_is_not_yaml_is_refused() -> None:
    with pytest.raises(TiersError) as exc:
        rewrite("queues: [unclosed\n", "support", [])
    assert exc.value.code == "no_tenant_yaml"
