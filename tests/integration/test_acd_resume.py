"""Where the queue application resumes a caller the dialplan hands back to their flow's
queue node (their controller gone): in the queue where their row says they have a place,
if that is another of the tenant's (an agent or a supervisor moved them there), else in
the node's queue. What the channel's variables kept from earlier visits does not decide."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from fsapps.acd.dispatch import Dispatcher
from fsapps.acd.model import Member
from fsapps.apps import queue as queue_app
from fsapps.store import acd
from fsapps.store.db import Store
from fsapps.store.records import Tenant

NOW = 2_000_000_000.0


@pytest.fixture
def d(store: Store, monkeypatch) -> Iterator[Dispatcher]:
    with store.operator() as op:
        op.add_tenant(Tenant("acme", "Acme", "acme.example"))
        op.add_tenant(Tenant("globex", "Globex", "globex.example"))
    project = SimpleNamespace(tenants=[
        SimpleNamespace(id=t, queues={q: SimpleNamespace(data={"tiers": []}) for q in ("sales", "support")})
        for t in ("acme", "globex")
    ])  # fmt: skip
    dispatcher = Dispatcher(store, lambda: project, lambda: NOW, name="c1", wall=lambda: NOW)
    # The visit itself is not what is tested: which queue's it would be.
    monkeypatch.setattr(queue_app.QueueDriver, "run", lambda self: self.name)
    yield dispatcher
    dispatcher.own.close()
    dispatcher.wakeup.stop()


def arrival(d: Any, member: str, variables: dict[str, str], node_queue: str = "sales") -> str | None:
    call = SimpleNamespace(
        ctx=SimpleNamespace(acd=d), session=SimpleNamespace(call=SimpleNamespace(uuid=member)),
        tenant=SimpleNamespace(id="acme"), data=lambda name, default=None: {"queue": node_queue}.get(name, default),
        var=lambda name: variables.get(name, ""),
    )  # fmt: skip
    return queue_app.queue(call)  # type: ignore[arg-type]


def place(store: Store, member: str, queue: str, state: str = "Waiting", tenant: str = "acme") -> None:
    with store.operator() as op:
        acd.send_join(op.conn, Member(member, queue, NOW), tenant, queue, "c0", "", "", NOW)()
        if state != "Waiting":
            acd.member_state(op.conn, member, state, abandoned_epoch=NOW, wake=False)


def test_a_resumed_caller_goes_where_their_row_has_their_place(d, store) -> None:
    held = {"fsapps_held": "main.wait", "fsapps_queue": "sales"}
    moved, gone, abandoned, elsewhere = (str(uuid.uuid4()) for _ in range(4))
    place(store, moved, "support")
    place(store, abandoned, "support", state="Abandoned")
    place(store, elsewhere, "support", tenant="globex")
    assert arrival(d, moved, held) == "support"  # moved there: their place is there
    assert arrival(d, moved, {"fsapps_queue": "support"}) == "sales"  # not a resume: the node's
    # No place (the earlier visit ended, an overflow went on to this node): the node's
    # queue, whatever fsapps_queue names.
    assert arrival(d, gone, {"fsapps_held": "main.wait", "fsapps_queue": "support"}) == "sales"
    assert arrival(d, abandoned, held) == "sales"
    assert arrival(d, elsewhere, held) == "sales"  # another tenant's row is not theirs


def test_a_resume_with_the_database_away_runs_the_nodes_visit(d, monkeypatch) -> None:
    """That visit's join fails and hands the call back to the dialplan, which holds the
    caller until the database is back; the flow's fallback is not taken."""

    def away(*_: Any) -> None:
        raise OSError("connection refused")

    monkeypatch.setattr(d, "placed_in", away)
    assert arrival(d, str(uuid.uuid4()), {"fsapps_held": "main.wait"}) == "sales"
