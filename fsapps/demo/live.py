"""``fsapps demo``: a call center to click through, on nothing but this process.

The emulator, a controller and the console (``fsapps.testing.console``), on an embedded
PostgreSQL of its own; the tenant ``northwind`` (callcenter/, checked and rendered as
``fsapps check`` and ``fsapps render`` do), a user for every role with a password new
each run, the agents ann and ben whose emulated phones answer a few seconds after they
ring (so the desk's screen pop shows first), a customer for most caller numbers (so the
pop shows their card), a QA scorecard, articles and call scripts in English and Chinese,
tickets (fsapps.demo.content), and callers arriving every few seconds, keying through the menu
into a queue, until stopped."""

from __future__ import annotations

import itertools
import secrets
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import gevent
import gevent.event

from fsapps.config import Settings
from fsapps.demo.content import seed_content
from fsapps.flows.check import check
from fsapps.flows.model import Project
from fsapps.sim.channel import Channel
from fsapps.sim.endpoints import CallerScript, Endpoint
from fsapps.sim.switch import Switch, SwitchConfig
from fsapps.store import acd, customers
from fsapps.store import api as repo
from fsapps.store.db import Store
from fsapps.store.records import Tenant
from fsapps.store.setup import Database
from fsapps.testing.console import ConsoleStack, start_console

ROOT = Path(__file__).parent / "callcenter"
TENANT = "northwind"
AGENTS = {"ann": "Ann Lee", "ben": "Ben Okafor"}  # agent id (and its user's name) -> name
SUPERVISED_QUEUES = ["billing", "support"]


@dataclass(frozen=True)
class Login:
    role: str  # as the API's /session tells it
    username: str
    password: str


@dataclass(frozen=True)
class DemoCaller:
    number: str
    digits: str  # what they press at the menu: 1 billing, 2 support


# Who calls, in turn: the customers below, and one number nobody knows (the desk offers the
# new-customer form for it).
CALLERS = [
    DemoCaller("07700900101", "2"),
    DemoCaller("07700900102", "1"),
    DemoCaller("07700900103", "2"),
    DemoCaller("07700900199", "2"),
    DemoCaller("07700900104", "1"),
]
CUSTOMERS = [
    {"name": "Ada Lovelace", "company": "Analytical Engines", "tags": ["vip"],
     "custom_fields": {"plan": "Fibre 500"}, "numbers": ["07700900101"], "owner_agent": None},
    {"name": "Grace Hopper", "company": "Compiler Works", "tags": [],
     "custom_fields": {"plan": "Mobile unlimited"}, "numbers": ["07700900102"], "owner_agent": None},
    {"name": "Alan Turing", "company": "", "tags": ["late payer"],
     "custom_fields": {"plan": "Fibre 100"}, "numbers": ["07700900103"], "owner_agent": None},
    {"name": "Katherine Johnson", "company": "Orbital Maths", "tags": [],
     "custom_fields": {"plan": "Business 1G"}, "numbers": ["07700900104"], "owner_agent": None},
]  # fmt: skip


@dataclass
class Pace:
    """How the demo's calls go: a caller every ``interval`` seconds while fewer than
    ``at_once`` demo callers are on the line; each stays ``stay`` seconds after the menu
    answers (waiting, then talking) and hangs up; phones answer ``answer_after`` seconds
    after they ring."""

    interval: float = 8.0
    at_once: int = 3
    stay: float = 90.0
    answer_after: float = 4.0


@dataclass
class LiveDemo:
    state_dir: Path
    port: int = 0
    pace: Pace = field(default_factory=Pace)
    callers: list[DemoCaller] = field(default_factory=lambda: list(CALLERS))
    # Agents Available from the start: ben takes calls by himself, so the floor is busy
    # before anyone logs in; ann is the newcomer's, Logged Out until they press Ready.
    ready: tuple[str, ...] = ("ben",)
    logins: list[Login] = field(default_factory=list)
    project: Project | None = None
    db: Database | None = None
    store: Store | None = None
    console: ConsoleStack | None = None
    phones: dict[str, Endpoint] = field(default_factory=dict)
    calls: list[Channel] = field(default_factory=list)
    _arrivals: gevent.Greenlet | None = None

    def start(self) -> LiveDemo:
        project = check(ROOT)
        if project.problems:  # the package's own files: a broken install, said plainly
            raise RuntimeError("the demo's tenant has problems: " + "; ".join(map(str, project.problems)))
        self.project = project
        settings = Settings()
        settings.state_dir = str(self.state_dir)
        self.db = Database(settings).start()
        try:
            self.store = self.db.store(max_size=10)
            self.logins = seed(self.store, project, self.ready)
            switch = Switch(SwitchConfig(speed=1.0))
            for agent in AGENTS:
                self.phones[agent] = switch.register_user(
                    agent, Endpoint(answer_after=self.pace.answer_after)
                )
            self.console = start_console(self.store, project, switch, self.state_dir, port=self.port)
        except BaseException:
            self.stop()
            raise
        self._arrivals = gevent.spawn(self._arrive)
        return self

    @property
    def address(self) -> str:
        assert self.console is not None
        return f"{self.console.base}/console/"

    @property
    def access_number(self) -> str:
        assert self.project is not None
        return next(iter(self.project.tenants[0].access_numbers))

    def _arrive(self) -> None:
        assert self.console is not None
        switch = self.console.switch
        for caller in itertools.cycle(self.callers):
            while sum(not ch.destroyed.is_set() for ch in self.calls) >= self.pace.at_once:
                gevent.sleep(0.5)  # a pacing loop, not a wait for a condition
            script = CallerScript(answers=[("press 1", caller.digits)], hangup_after=self.pace.stay)
            self.calls.append(
                switch.place_call(self.access_number, caller_id_number=caller.number, script=script)
            )
            self.calls = [ch for ch in self.calls if not ch.destroyed.is_set()]
            gevent.sleep(self.pace.interval)

    def stop(self) -> None:
        """Everything started, once (a failed start has stopped what it started)."""
        arrivals, console, store, db = self._arrivals, self.console, self.store, self.db
        self._arrivals = self.console = self.store = self.db = None
        if arrivals is not None:
            arrivals.kill()
        if console is not None:
            console.stop()
        if store is not None:
            store.close()
        if db is not None:
            db.close()

    def welcome(self, out: TextIO) -> None:
        """What a newcomer reads: where the console is, who to log in as, what to try."""
        p = self.pace
        roles = {login.role: login.role.replace("_", " ") for login in self.logins}
        width = max(map(len, roles.values()))
        lines = [
            "fsapps demo: the Northwind Telecom call center is open (the emulator, the controller,",
            f"PostgreSQL in {self.state_dir} and the console, all in this process).",
            "",
            f"  Console: {self.address}",
            "",
            "  Logins (the passwords are new every run):",
            *(
                f"    {roles[login.role]:<{width}}  {login.username:<10} {login.password}"
                for login in self.logins
            ),
            "",
            f"  Callers dial {self.access_number}, one every {p.interval:g} s while fewer than"
            f" {p.at_once} are on the line;",
            "  each presses 1 (billing) or 2 (support), waits in the queue, talks, and hangs up",
            f"  {p.stay:g} s after the menu answered. Agents' phones answer"
            f" {p.answer_after:g} s after ringing.",
            "",
            "  Try it:",
            "    1. Log in as ann and press Ready. The next caller's card pops while her phone",
            "       rings; the phone answers a few seconds later. (ben takes calls by himself.)",
            "    2. Transfer the call to ben (Transfer to: agent, ben); ann then wraps up.",
            "    3. In another browser (or a private window), log in as supervisor: the floor",
            "       shows ann and ben, their calls and the callers waiting.",
            "",
            "  Ctrl-C stops the demo and deletes its database.",
        ]
        print("\n".join(lines), file=out, flush=True)


def seed(store: Store, project: Project, ready: tuple[str, ...] = ()) -> list[Login]:
    """The tenant, its agents (``ready`` ones Available) and customers, and a user of every
    role, each with a new random password (printed once, stored only as a hash)."""
    tenant = project.tenants[0]
    logins = [Login("agent", agent, _password()) for agent in AGENTS]
    logins += [Login("supervisor", "supervisor", _password()), Login("tenant_admin", "admin", _password()),
               Login("qa", "qa", _password()), Login("operator", "operator", _password())]  # fmt: skip
    users: dict[str, int] = {}
    with store.operator() as op:
        op.add_tenant(Tenant(tenant.id, tenant.name, tenant.domain, tenant.timezone, tenant.language),
                      numbers=list(tenant.access_numbers))  # fmt: skip
        for agent, name in AGENTS.items():
            # The switch's user ``agent`` is the phone the emulator registers for them.
            op.add_agent(agent, name, {tenant.id: 1}, f"sofia/external/{agent}@127.0.0.1:5080")
            acd.ensure_agent(op.conn, agent, wrap_up_time=5)
            if agent in ready:
                acd.set_status(op.conn, agent, "Available", time.time())
        for login in logins:
            if login.role == "operator":
                users[login.username] = op.add_operator_admin(login.username, login.password).id
    with store.tenant(tenant.id) as t:
        for login in logins:
            if login.role != "operator":
                users[login.username] = t.add_user(login.username, login.password, login.role).id
        repo.put_group(t, "floor", [users["supervisor"]], list(AGENTS), SUPERVISED_QUEUES)
        customers.put_field(t, "plan", "text", "Plan")
        for customer in CUSTOMERS:
            customers.create(t, customer)
    with store.operator() as op:
        for agent in AGENTS:
            op.conn.execute("UPDATE agents SET user_id = %s WHERE id = %s", (users[agent], agent))
    # Every page populated: a QA scorecard, articles and call scripts, tickets.
    seed_content(store, project, users["admin"], "admin")
    return logins


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _password() -> str:
    return secrets.token_urlsafe(12)


def run(port: int = 8080, out: TextIO | None = None) -> int:
    """The live demo until SIGINT or SIGTERM, on a fresh database removed at the end: every
    run starts from the same floor, with no calls left over from the last one."""
    import signal
    import sys

    out = out or sys.stdout
    state = Path(tempfile.mkdtemp(prefix="fsapps-demo-"))
    if port and not _free(port):
        print(f"fsapps demo: port {port} is taken; the console takes a free one", file=out)
        port = 0
    demo = LiveDemo(state, port=port)
    try:
        demo.start()
        stop = gevent.event.Event()
        gevent.signal_handler(signal.SIGTERM, stop.set)
        gevent.signal_handler(signal.SIGINT, stop.set)
        demo.welcome(out)
        stop.wait()
        print("fsapps demo: stopping", file=out)
        return 0
    finally:
        demo.stop()
        shutil.rmtree(state, ignore_errors=True)
