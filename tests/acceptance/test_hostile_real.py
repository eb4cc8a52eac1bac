"""Hostile text against the real FreeSWITCH and the emulator, same assertions.

A tenant whose YAML carries the preprocessor's syntax in its name and a switch global in a
prompt; callers whose SIP display names carry expansions and dial-string syntax; a lookup
table whose records carry the rest of the corpus, set again by the flow (``set`` expands
twice), read back by ``say``, and exported to the agent's leg for the screen pop. Nothing
runs (no file appears, no API is called), nothing is dialled but the agent, the switch's
default password is never an application's argument, and the agent's leg gets the text as
fsapps.escape documents it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fsapps import escape
from fsapps.apps.context import AppContext
from fsapps.config import ControllerSettings, Settings
from fsapps.controller import Controller
from fsapps.flows.install import install
from fsapps.flows.load import load_project
from fsapps.flows.render import render
from fsapps.sim.channel import clean_profile_field
from fsapps.sim.directory import Directory
from fsapps.sim.endpoints import CallerScript, Endpoint
from fsapps.sim.originate import sanitize_number
from fsapps.sim.switch import Switch
from fsapps.sim.xmlconf import load_document
from fsapps.sim.xmldialplan import XmlDialplan
from fsapps.store import acd
from fsapps.store.records import Tenant
from fsapps.testing.freeswitch import RealSwitch, free_port
from tests.support import sipp
from tests.support.hostile import create_lookup_table
from tests.support.targets import real_switch_available
from tests.support.waiting import wait_for

RAN = "/tmp/fsapps-hostile-acceptance"  # a file that exists only if something ran
TENANT = f"""id: evil
name: 'Evil <X-PRE-PROCESS cmd="exec" data="/bin/touch {RAN}-preprocessor"/> --> $${{default_password}}'
domain: evil.example
timezone: UTC
language: en
access_numbers: {{"5300": main}}
prompts:
  intro: {{text: "Code $${{default_password}} ${{system(/bin/touch {RAN}-prompt)}}"}}
queues:
  support:
    ring-timeout: 10
    tiers: [evil_a1, evil_a2]
"""
FLOW = """start: start
nodes:
  start: {type: answer, children: {_: intro}}
  intro: {type: play, data: {prompt: intro}, children: {_: find}}
  find:
    type: lookup
    data: {source: {table: accounts, column: phone}, key: caller_id, fields: [balance, note], prefix: ev_}
    children: {found: copy, not_found: wait, fallback: wait}
  copy: {type: set, data: {variables: {ev_copy: "${ev_note}"}}, children: {_: say}}
  say: {type: say, data: {type: digits, value: "${ev_balance}"}, children: {_: wait}}
  wait: {type: queue, data: {queue: support}, children: {_: bye}}
  bye: {type: hangup}
"""
# (caller number, SIP display name, looked-up balance, looked-up note). sipp reads [..] as
# its own keywords and the display name is a SIP quoted string: those stay out of names.
CALLERS = [
    ("5550101", "${system(/bin/touch " + RAN + "-name)}", "${bg_system /bin/touch " + RAN + "-balance}",
     "x}|loopback/9664/default,[y]:_:loopback/9664/default ${system(/bin/touch " + RAN + "-note)}"),
    ("5550102", "Bob}loopback/9664/default|", "$${default_password}\\n'quoted' 张三",
     "\\${bg_system /bin/touch " + RAN + "-escaped} --> <X-PRE-PROCESS cmd=\"set\" data=\"owned=1\"/>"),
]  # fmt: skip
APIS = ("system", "bg_system", "version", "expand", "eval")


@dataclasses.dataclass
class Target:
    name: str
    switch: object
    store: object
    events: list = dataclasses.field(default_factory=list)
    api_calls: list = dataclasses.field(default_factory=list)
    phones: list = dataclasses.field(default_factory=list)
    password: str = ""  # the switch's default_password, which no application may be given
    logs: list = dataclasses.field(default_factory=list)  # what each emulated call did


@contextlib.contextmanager
def target(where: str, store, tmp_path: Path) -> Iterator[tuple[Target, Controller]]:
    if where == "real":
        real_switch_available()
        sipp.sipp_available()
    for path in Path("/tmp").glob(Path(RAN).name + "*"):
        path.unlink()
    with store.operator() as op:
        op.add_tenant(Tenant("evil", "Evil", "evil.example", "UTC"))
        create_lookup_table(op.conn, "phone text, balance text, note text")
        for number, _, balance, note in CALLERS:
            op.conn.execute(
                "INSERT INTO lookup.accounts VALUES ('evil', %s, %s, %s)", (number, balance, note)
            )
    port = free_port()
    root = tmp_path / "dialplan"
    (root / "evil" / "flows").mkdir(parents=True)
    (root / "operator.yaml").write_text(
        f"controllers: [127.0.0.1:{port}]\ntts: {{engine: flite, voice: slt}}\n"
    )
    (root / "evil" / "tenant.yaml").write_text(TENANT)
    (root / "evil" / "flows" / "main.yaml").write_text(FLOW)
    # Not through check, which refuses this tenant's prompt: the rendered dialplan itself must
    # hold whatever YAML reaches it.
    project = load_project(root)
    files = render(project)
    t = Target(where, None, store)
    controller = None
    conn = None
    try:
        if where == "sim":
            install(files, tmp_path / "conf")
            document = load_document(tmp_path / "conf", {"default_password": "S3CR3T-PIN"})
            sw = Switch(
                dialplan=XmlDialplan.from_document(document), directory=Directory.from_document(document),
                speed=4.0, password=os.urandom(6).hex(),
            )  # fmt: skip
            sw.globals["default_password"] = t.password = "S3CR3T-PIN"
            commands = dict(sw.api_commands)
            for name in APIS:
                commands[name] = lambda s, arg, lst, name=name: (t.api_calls.append((name, arg)), "SPY\n")[1]
            sw.api_commands = commands
            sw.watchers.append(t.events.append)
            t.switch = sw.start()
        else:
            t.switch = RealSwitch.from_env(prepare=lambda conf: install(files, conf)).start()
            conn = t.switch.connect()
            t.password = conn.api("global_getvar default_password").strip()
            conn.on("*", t.events.append)
            conn.subscribe(["CHANNEL_CREATE", "CHANNEL_EXECUTE", "CHANNEL_ANSWER"])
        ctx = AppContext(project, store=store)
        if where == "sim":
            # The emulator's clock runs 4x: the ACD reads the same clock as its events.
            ctx.now = lambda: datetime.fromtimestamp(t.switch.clock.now(), UTC)
        controller = Controller(
            Settings(controller=ControllerSettings(listen="127.0.0.1", port=port),
                     state_dir=str(tmp_path / "state")),
            store=store, context=ctx,
        )  # fmt: skip
        ctx.records = controller.writer
        controller.start()
        yield t, controller
    finally:
        if controller is not None:
            controller.stop(grace=1.0)
        if conn is not None:
            conn.stop()
        for phone in t.phones:
            phone.stop()
        if t.switch is not None:
            t.switch.stop()


def _agent(t: Target, agent_id: str) -> str:
    if t.name == "sim":
        t.switch.register_user(agent_id, Endpoint(answer_after=0.5))
        contact = f"sofia/external/{agent_id}@127.0.0.1:5999"
    else:
        phone = sipp.Phone("uas_agent", ring_ms=500, talk_timeout_ms=120000)
        t.phones.append(phone)
        contact = phone.contact(agent_id)
    with t.store.operator() as op:
        op.add_agent(agent_id, agent_id, {"evil": 1}, contact)
        acd.ensure_agent(op.conn, agent_id, wrap_up_time=0)
        acd.set_status(op.conn, agent_id, "Available", 0)
    return contact


def _call(t: Target, number: str, display: str, talk_s: float) -> None:
    if t.name == "sim":
        ch = t.switch.place_call("5300", caller_id_number=number, caller_id_name=display,
                                 script=CallerScript(hangup_after=talk_s))  # fmt: skip
        assert ch.destroyed.wait(talk_s + 30), "\n".join(t.switch.call_log(ch.uuid))
        t.logs.append("\n".join(t.switch.call_log(ch.uuid)))
        return
    run = sipp.place_call("uac_named", t.switch.sip_port("external"), "5300", caller=number,
                          display=display, talk_ms=int(talk_s * 1000), timeout=talk_s + 60)  # fmt: skip
    assert run.completed, run.output + "\n--- switch log ---\n" + t.switch.log_tail()


TARGETS = [pytest.param("sim"), pytest.param("real", marks=pytest.mark.realswitch)]


@pytest.mark.parametrize("where", TARGETS)
def test_hostile_tenant_callers_and_records_run_nothing_and_reach_the_agent_as_text(
    where, store, tmp_path
) -> None:
    with target(where, store, tmp_path) as (t, _):
        for i, (number, display, balance, note) in enumerate(CALLERS):
            # A sipp phone takes one call: each caller gets an agent of their own.
            agent = f"evil_a{i + 1}"
            _agent(t, agent)
            # The emulator says each character of a value that is not a number for 0.6 s.
            _call(t, number, display, talk_s=60.0 if where == "sim" else 25.0)
            rows = wait_for(lambda n=i + 1: _queue_calls(t) if len(_queue_calls(t)) >= n else None)
            with t.store.operator() as op:
                acd.set_status(op.conn, agent, "Logged Out", 0)
            assert [r["outcome"] for r in rows or []] == ["answered"] * (i + 1), t.logs
            # The agent's leg: the caller's name and the screen-pop fields, as text.
            answer = next(
                e for e in reversed(t.events)
                if e.name == "CHANNEL_ANSWER" and f"/{agent}@" in (e.get("Channel-Name") or "")
            )  # fmt: skip
            # The switch cleans the caller's name (profile_dup_clean), fsapps makes it a dial
            # value, and mod_sofia keeps what follows its last '/' or ':' on the agent's leg.
            want_name = sanitize_number(escape.dial_value(clean_profile_field(display)))
            assert answer.get("Caller-Caller-ID-Name") == want_name
            assert answer.get("variable_ev_balance") == escape.dial_value(escape.inert(balance))
            assert answer.get("variable_ev_note") == escape.dial_value(escape.inert(note))
        # Nothing but the callers and the agent's phone was dialled.
        names = [e.get("Channel-Name") or "" for e in t.events if e.name == "CHANNEL_CREATE"]
        assert len(names) == 2 * len(CALLERS), names
        assert not any(n.startswith("loopback/") for n in names), names
        # Nothing ran: no file, no API call, no global filled into an application's argument.
        assert sorted(str(p) for p in Path("/tmp").glob(Path(RAN).name + "*")) == []
        assert t.api_calls == []
        data = [e.get("Application-Data") or "" for e in t.events if e.name == "CHANNEL_EXECUTE"]
        assert t.password and not any(t.password in d for d in data)
        spoken = [d for d in data if "say:Code" in d]
        assert spoken and all("default_password" in d for d in spoken), spoken


def _queue_calls(t: Target) -> list[dict]:
    with t.store.operator() as op:
        return op._all("SELECT outcome FROM queue_calls ORDER BY joined_at")
