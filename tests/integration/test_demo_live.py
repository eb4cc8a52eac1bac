"""``fsapps demo`` (live): the call center a newcomer clicks through, started in-process on a
free port with its own embedded PostgreSQL. Its console answers, the logins it prints work
with the role each is printed with, and its callers key through the menu into a queue."""

from __future__ import annotations

import io
from typing import Any

from fsapps.demo.live import AGENTS, LiveDemo, Pace
from tests.support.api import Client
from tests.support.waiting import wait_for


def test_the_live_demo_serves_the_console_prints_working_logins_and_callers_reach_the_queue(tmp_path) -> None:
    # Nobody is Ready, so every caller waits in the queue (the menu takes about 4 s) and hangs up.
    demo = LiveDemo(tmp_path / "demo", pace=Pace(interval=0.3, at_once=2, stay=6.0, answer_after=1.0)).start()
    try:
        port = demo.console.server.server_port if demo.console else 0
        out = io.StringIO()
        demo.welcome(out)
        text = out.getvalue()
        assert f"Console: http://127.0.0.1:{port}/console/" in text

        page = Client(port).get("/console/")
        assert page.status == 200 and b'id="login-form"' in page.body

        roles = {login.role for login in demo.logins}
        assert roles == {"operator", "tenant_admin", "supervisor", "agent", "qa"}
        assert sorted(login.username for login in demo.logins if login.role == "agent") == sorted(AGENTS)
        for login in demo.logins:
            assert f"{login.username:<10} {login.password}" in text  # printed once, with its role
            client = Client(port)
            assert client.login(login.username, login.password).status == 200, login
            me = client.get("/api/v1/session").json
            assert (me["username"], me["role"]) == (login.username, login.role)
            assert me["tenant"] == (None if login.role == "operator" else "northwind")
            assert me["agent"] == (login.username if login.role == "agent" else None)
            if login.role == "supervisor":  # the floor's group: both agents, both queues
                assert (me["agents"], me["queues"]) == (["ann", "ben"], ["billing", "support"])
            assert Client(port).login(login.username, "not-" + login.password).status == 401

        def queued() -> list[Any]:
            assert demo.store is not None
            with demo.store.operator() as op:
                return op.conn.execute(
                    "SELECT tenant_id, queue, caller, agent_id FROM queue_calls ORDER BY joined_at"
                ).fetchall()

        rows = wait_for(lambda: len(queued()) >= 2 and queued())
        assert len(rows) >= 2, rows
        numbers = {c.number: c.digits for c in demo.callers}
        for row in rows[:2]:
            assert row["tenant_id"] == "northwind" and row["agent_id"] is None
            # What the caller pressed at the menu chose the queue.
            assert row["queue"] == {"1": "billing", "2": "support"}[numbers[row["caller"]]], row
    finally:
        demo.stop()
