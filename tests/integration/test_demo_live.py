"""``fsapps demo`` (live): the call center a newcomer clicks through, started in-process on a
free port with its own embedded PostgreSQL. Its console answers, the logins it prints work
with the role each is printed with, and its callers key through the menu into a queue."""

from __future__ import annotations

import io
import os
import re
import signal
import socket
import subprocess
import sys
from typing import Any
from urllib.parse import quote

from fsapps.demo.live import AGENTS, LiveDemo, Pace
from tests.support.api import Client
from tests.support.waiting import wait_for


def test_the_live_demo_serves_the_console_prints_working_logins_and_callers_reach_the_queue(tmp_path) -> None:
    # ben is Ready (as in ./dev demo): he takes the first caller; the second, arriving while he
    # talks, waits in the other queue and hangs up there. The menu takes about 4 s.
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

        # Every page has something on it: the scorecard the qa login scores against, articles
        # and scripts that the desk finds in English and in Chinese, tickets in several states.
        by_role = {login.role: login for login in demo.logins}
        admin, qa = Client(port), Client(port)
        admin.login(by_role["tenant_admin"].username, by_role["tenant_admin"].password)
        qa.login(by_role["qa"].username, by_role["qa"].password)
        ann = Client(port)
        ann.login("ann", next(x.password for x in demo.logins if x.username == "ann"))
        t = "/api/v1/tenants/northwind"
        cards = qa.get(t + "/qa/scorecards").json
        assert [c["name"] for c in cards] == ["Helpline call quality"], cards
        card = cards[0]
        assert card["name"] == "Helpline call quality" and len(card["criteria"]) == 5
        found = {q: [a["title"] for a in ann.get(t + "/kb/articles?q=" + quote(q)).json]
                 for q in ("router", "光猫", "账单")}  # fmt: skip
        assert found["router"] == ["Resetting a Northwind router"], found
        assert found["光猫"] == ["光猫重启步骤"], found
        assert "账单金额异常的常见原因" in found["账单"], found
        assert ann.get(t + "/queues/support/script").json["title"] == "技术支持通话脚本"
        assert ann.get(t + "/queues/billing/script").json["title"] == "Billing call script"
        tickets = admin.get(t + "/tickets").json
        assert sorted(k["state"] for k in tickets) == ["new", "new", "open", "pending"], tickets
        assert {k["customer_name"] for k in tickets} == {"Ada Lovelace", "Grace Hopper", "Alan Turing",
                                                         "Katherine Johnson"}  # fmt: skip
        assert any("宽带" in k["subject"] for k in tickets)

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
            assert row["tenant_id"] == "northwind"
            # What the caller pressed at the menu chose the queue.
            assert row["queue"] == {"1": "billing", "2": "support"}[numbers[row["caller"]]], row
        assert [row["agent_id"] for row in rows[:2]] == ["ben", None], rows
        assert demo.phones["ben"].calls and not demo.phones["ann"].calls  # ann is not Ready
    finally:
        demo.stop()


def test_fsapps_demo_prints_the_console_and_logins_that_work_and_ctrl_c_stops_it_and_removes_its_database(
    tmp_path,
) -> None:
    # The port asked for is taken: the demo says so and takes a free one.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        env = {**os.environ, "TMPDIR": str(tmp_path)}
        proc = subprocess.Popen([sys.executable, "-m", "fsapps.cli", "demo", "--port", str(busy)],
                                env=env, stdout=subprocess.PIPE, text=True)  # fmt: skip
        try:
            assert proc.stdout is not None
            lines = []
            for line in proc.stdout:
                lines.append(line)
                if "Ctrl-C stops the demo" in line:
                    break
            text = "".join(lines)
            assert f"port {busy} is taken" in text, text
            console = re.search(r"Console: http://127\.0\.0\.1:(\d+)/console/", text)
            ann = re.search(r"^ +agent +ann +(\S+)$", text, re.M)
            assert console and ann, text
            port = int(console[1])
            assert port != busy
            (state,) = tmp_path.glob("fsapps-demo-*")
            assert (state / "pgdata" / "PG_VERSION").exists()
            client = Client(port)
            assert client.login("ann", ann[1]).status == 200
            assert client.get("/api/v1/session").json["agent"] == "ann"
            proc.send_signal(signal.SIGINT)
            assert proc.wait(30) == 0
            assert not state.exists()  # every run starts from the same floor
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
