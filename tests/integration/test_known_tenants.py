"""KnownTenants against a real PostgreSQL: the flows' tenants, the database's, and a
stream of made-up names that costs a bounded number of lookups."""

from __future__ import annotations

from fsapps.apps.known import KnownTenants
from fsapps.store.records import Tenant


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_flows_then_database_then_nothing(store) -> None:
    with store.operator() as op:
        op.add_tenant(Tenant("early", "Early", "early.example"))
    clock = Clock()
    known = KnownTenants(lambda: {"inflows": object()}, store, retry_after=30, clock=clock)
    known.load()
    assert "inflows" in known and "early" in known and known.lookups == 0
    with store.operator() as op:  # added after start: found by a lookup, then remembered
        op.add_tenant(Tenant("late", "Late", "late.example"))
    assert "late" in known and "late" in known and known.lookups == 1
    assert "nobody" not in known and "nobody" not in known and known.lookups == 2
    clock.now += 31
    assert "nobody" not in known and known.lookups == 3
    assert "" not in known and "x" * 500 not in known and known.lookups == 3


def test_a_flood_of_made_up_names_is_bounded(store) -> None:
    clock = Clock()
    known = KnownTenants(lambda: {}, store, retry_after=30, max_unknown=50, clock=clock)
    assert not any(f"evil-{i}" in known for i in range(500))
    assert known.lookups == 50
    clock.now += 31  # the remembered ones expire: another 50 at most
    assert not any(f"evil-{i}" in known for i in range(500, 1000))
    assert known.lookups == 100


def test_without_a_database_only_the_flows_tenants_are_known() -> None:
    known = KnownTenants(lambda: {"inflows": object()}, None)
    known.load()
    assert "inflows" in known and "elsewhere" not in known and known.lookups == 0
