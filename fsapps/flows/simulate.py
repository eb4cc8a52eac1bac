"""``fsapps simulate``: one call through a tenant's rendered dialplan, on the emulator.

The flows are checked and rendered exactly as ``fsapps render`` does,
installed into a scratch conf directory, and loaded by the emulator's XML
dialplan. The caller keys ``digits`` at each digit read; the emulator's
clock starts at ``at`` in the tenant's timezone. Nodes that need the
controller reach a real outbound Event Socket server whose flow
application answers with the branch given in ``branches`` (node id ->
branch), else the node's first branch: the simulation shows the dialplan's
path, not the applications' decisions.

The trace is built from the Event Socket events the call produced
(CHANNEL_EXECUTE, PLAYBACK_START, DTMF, CHANNEL_HANGUP), the same ones a
real switch sends.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fsapps.flows.check import check
from fsapps.flows.install import install
from fsapps.flows.model import Node, Operator, Project, Roster, Tenant
from fsapps.flows.render import RenderContext, node_number, render
from fsapps.sim.events import SimEvent
from fsapps.sim.strings import separate_string
from fsapps.testing.freeswitch import free_port

# Variables the rendered dialplan sets for its own routing: not news to ops.
INTERNAL_VARIABLES = {
    "timezone", "default_language", "tts_engine", "tts_voice", "socket_resume", "call_timeout",
    "hangup_after_bridge", "continue_on_fail", "skip_greeting", "skip_instructions", "skip_record_check",
    "skip_record_urgent_check", "voicemail_skip_goodbye",
}  # fmt: skip


class SimulateError(ValueError):
    """The flows do not check clean, or the call cannot be placed as asked."""


@dataclass(frozen=True)
class Step:
    at: float  # seconds since the call arrived
    kind: str  # node | prompt | keyed | variable | controller | end
    text: str


@dataclass
class Trace:
    tenant: str
    steps: list[Step] = field(default_factory=list)
    nodes: list[str] = field(default_factory=list)  # flow.node, in order
    branches: list[tuple[str, str]] = field(default_factory=list)  # (flow.node, branch taken)
    prompts: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    hangup_cause: str | None = None
    switch_log: list[str] = field(default_factory=list)  # the emulator's own notes on the call
    notes: list[str] = field(default_factory=list)  # what fsapps check did not check, and why

    @property
    def ended_at(self) -> str | None:
        return self.nodes[-1] if self.nodes else None

    def lines(self) -> list[str]:
        return [f"{s.at:7.1f}s  {s.kind:<10} {s.text}" for s in self.steps]


def find_tenant(project: Project, tenant_id: str) -> Tenant:
    for t in project.tenants:
        if t.id == tenant_id:
            return t
    known = ", ".join(sorted(t.id for t in project.tenants)) or "none"
    raise SimulateError(f"no tenant {tenant_id!r} in {project.root} (expected one of: {known})")


def resolve(path: str | Path) -> tuple[Path, str | None]:
    """``dialplan/`` or ``dialplan/<tenant>``: (project root, tenant id or None)."""
    p = Path(path)
    if (p / "tenant.yaml").is_file():
        return p.parent, p.name
    return p, None


@contextmanager
def _scratch() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="fsapps-simulate-"))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def simulate(
    root: str | Path,
    tenant_id: str,
    to: str | None = None,
    caller: str = "10000",
    digits: list[str] | None = None,
    at: datetime | None = None,
    branches: dict[str, str] | None = None,
    variables: dict[str, str] | None = None,
    speed: float = 50.0,
    hangup_after: float = 300.0,
    sounds: str | Path | None = None,
    controller_up: bool = True,
    message_seconds: float = 10.0,
    real_apps: bool = False,
    store: Any = None,
    records: Any = None,
    roster: Roster | None = None,
) -> Trace:
    """``real_apps``: the controller runs fsapps' own node applications (with
    ``store`` and ``records``, on the switch's virtual clock) instead of
    answering from ``branches`` and ``variables``. Without ``records`` the
    simulated call keeps no records (and says nothing about it)."""
    from fsapps.config import ControllerSettings, Settings
    from fsapps.controller import Controller
    from fsapps.sim.directory import Directory
    from fsapps.sim.endpoints import CallerScript
    from fsapps.sim.switch import Switch
    from fsapps.sim.xmlconf import load_document
    from fsapps.sim.xmldialplan import XmlDialplan

    root = Path(root)
    sounds_dir = Path(sounds) if sounds is not None else root.resolve().parent / "sounds"
    project = check(root, sounds=sounds_dir, roster=roster)
    if project.problems:
        raise SimulateError("\n".join(str(p) for p in project.problems))
    tenant = find_tenant(project, tenant_id)
    if to is None:
        if not tenant.access_numbers:
            raise SimulateError(f"tenant {tenant.id!r} has no access numbers")
        to = sorted(tenant.access_numbers)[0]
    elif to not in tenant.access_numbers:
        known = ", ".join(sorted(tenant.access_numbers))
        raise SimulateError(f"{to} is not an access number of {tenant.id!r} (expected one of: {known})")
    zone = ZoneInfo(tenant.timezone)
    start = (at.replace(tzinfo=zone) if at and at.tzinfo is None else at or datetime.now(zone)).timestamp()

    from fsapps.apps import APPLICATIONS
    from fsapps.apps.context import AppContext

    operator = dataclasses.replace(project.operator, sounds=str(sounds_dir))
    context = AppContext(
        dataclasses.replace(project, operator=operator), store=store,
        records=records if records is not None else _KeepNothing(),
    )  # fmt: skip
    scripted = ScriptedFlow(tenant, dict(branches or {}), dict(variables or {}))
    apps = APPLICATIONS if real_apps else {"flow": scripted}
    settings = Settings(controller=ControllerSettings(listen="127.0.0.1", port=0))
    controller = Controller(settings, applications=apps, context=context).start()
    try:
        # With the controller down the address is one nobody listens on: the socket app fails over.
        address = f"127.0.0.1:{controller.server.port}" if controller_up else f"127.0.0.1:{free_port()}"
        operator = dataclasses.replace(operator, controllers=[address])
        files = render(dataclasses.replace(project, operator=operator))
        with _scratch() as scratch:
            install(files, scratch / "conf")
            document = load_document(scratch / "conf")
            sw = Switch(
                dialplan=XmlDialplan.from_document(document),
                directory=Directory.from_document(document),
                speed=speed,
                start=start,
                recordings_dir=str(scratch / "recordings"),
            ).start()
            context.now = lambda: datetime.fromtimestamp(sw.clock.now(), UTC)
            events: list[SimEvent] = []
            sw.watchers.append(events.append)
            try:
                script = CallerScript(
                    keypad=list(digits or []), hangup_after=hangup_after, speech_seconds=message_seconds
                )
                ch = sw.place_call(to, caller_id_number=caller, script=script)
                if not ch.destroyed.wait(sw.clock.to_wall(hangup_after + 60) + 10):
                    ch.hangup("MANAGER_REQUEST")
                    ch.destroyed.wait(5)
                mine = [e for e in events if e.uuid == ch.uuid or _sets_variable_of(e, ch.uuid)]
                trace = build_trace(tenant, operator, mine, ch.created_at, ch.hangup_cause)
                trace.switch_log = sw.call_log(ch.uuid)
                trace.notes = project.notes
                return trace
            finally:
                sw.stop()
    finally:
        controller.stop(grace=1.0)


class _KeepNothing:
    """Where a simulated call's usage records go when nobody asked to keep them."""

    def write(self, *records: Any) -> None:
        pass


class ScriptedFlow:
    """The controller's flow application, answering from a script instead of deciding."""

    def __init__(self, tenant: Tenant, branches: dict[str, str], variables: dict[str, str]) -> None:
        self.tenant = tenant
        self.branches = branches
        self.variables = variables  # what the applications would have found (a lookup's fields)

    def __call__(self, session, args: str) -> None:
        flow = self.tenant.flows.get(session.getVariable("fsapps_flow") or "")
        node = flow.nodes.get(session.getVariable("fsapps_node") or "") if flow else None
        if node is None:
            return  # unknown node: no branch, the dialplan falls back
        if node.type == "lookup":
            for name, value in self.variables.items():
                session.setVariable(name, value)
        session.setVariable("fsapps_branch", self.branches.get(node.id) or default_branch(node))


def default_branch(node: Node) -> str:
    for branch in node.children:
        if branch != "fallback":
            return branch
    return "done"


def build_trace(
    tenant: Tenant, operator: Operator, events: list[SimEvent], t0: float, cause: str | None
) -> Trace:
    """The path of one call, from its CHANNEL_EXECUTE, DTMF and hangup events."""
    trace = Trace(tenant.id)
    numbers: dict[str, tuple[str, Node]] = {}
    prompts: dict[str, str] = {}
    for flow in tenant.flows.values():
        for node in flow.nodes.values():
            numbers[node_number(flow.name, node.id)] = (flow.name, node)
    r = RenderContext(tenant, operator, next(iter(tenant.flows.values())))
    for name in tenant.prompts:
        prompts[r.prompt(name)] = name
    current: tuple[str, Node] | None = None
    routed = False
    chosen: str | None = None  # the branch the controller named for the current node

    def add(ev: SimEvent, kind: str, text: str) -> None:
        at = int(ev.get("Event-Date-Timestamp") or 0) / 1e6 - t0
        trace.steps.append(Step(round(max(at, 0.0), 1), kind, text))

    def heard(ev: SimEvent, prompt: str) -> None:
        # mod_sndfile opened <dir>/8000/<file> for <dir>/<file>: name the prompt by the latter.
        head, _, tail = prompt.rpartition("/8000/")
        name = prompts.get(prompt) or (prompts.get(f"{head}/{tail}") if head else None)
        label = name or (prompt[4:] if prompt.startswith("say:") else prompt)
        trace.prompts.append(label)
        add(ev, "prompt", f"{name} ({_short(prompt)})" if name else _short(prompt))

    for ev in events:
        if ev.name == "DTMF":
            digit = ev.get("DTMF-Digit") or ""
            if trace.steps and trace.steps[-1].kind == "keyed":
                last = trace.steps[-1]
                trace.steps[-1] = Step(last.at, last.kind, last.text + digit)
            else:
                add(ev, "keyed", digit)
            continue
        if ev.name == "CHANNEL_HANGUP":
            trace.hangup_cause = ev.get("Hangup-Cause")
            where = f" at {current[0]}.{current[1].id}" if current else ""
            add(ev, "end", f"hangup {trace.hangup_cause}{where}")
            continue
        if ev.name == "CUSTOM" and ev.get("VM-Action") == "leave-message":
            add(ev, "voicemail", f"message of {ev.get('VM-Message-Len')} s kept in box {ev.get('VM-User')}")
            continue
        if ev.name == "PLAYBACK_START":
            # Every prompt played, including the ones applications play inside (an invalid prompt).
            heard(ev, ev.get("Playback-File-Path") or "")
            continue
        if ev.name == "CHANNEL_EXECUTE_COMPLETE" and ev.get("Application") == "play_and_get_digits":
            var = _pagd_variable(ev.get("Application-Data") or "")
            value = ev.get(f"variable_{var}") if var else None
            if var and value and not var.startswith("fx_"):
                trace.variables[var] = value
                add(ev, "variable", f"{var} = {value}")
            continue
        if ev.name == "API":
            # The controller sets variables with uuid_setvar (fsapps.session.setVariable).
            _, name, value = [*separate_string(ev.get("API-Command-Argument") or "", " ", 3), "", ""][:3]
            app, data = "set", f"{name}={value}"
        elif ev.name != "CHANNEL_EXECUTE":
            continue
        else:
            app, data = ev.get("Application") or "", ev.get("Application-Data") or ""
        if app == "transfer":
            target = data.split(" ")[0]
            if target.endswith("__route"):
                routed = True
                continue
            if target in numbers:
                flow_name, node = numbers[target]
                if current is not None and current[0] == flow_name:
                    taken = [b for b, t in current[1].children.items() if t == node.id]
                    if chosen in taken:
                        taken = [chosen]
                    elif chosen is None and routed and "fallback" in taken:
                        taken = ["fallback"]  # handed over, yet no branch came back
                    if taken:
                        trace.branches.append((f"{current[0]}.{current[1].id}", "|".join(taken)))
                        if routed:
                            add(ev, "branch", f"{current[1].id} -> {'|'.join(taken)}")
                routed, chosen = False, None
                current = (flow_name, node)
                trace.nodes.append(f"{flow_name}.{node.id}")
                add(ev, "node", f"{flow_name}.{node.id} ({node.type})")
            else:
                add(ev, "transfer", data)
        elif app == "say":
            add(ev, "prompt", f"say {data}")
            trace.prompts.append(f"say {data}")
        elif app in ("set", "export", "multiset"):
            # multiset: blank-separated name=value pairs (render.coalesce_sets writes only those).
            for pair in data.split(" ") if app == "multiset" else [data]:
                name, _, value = pair.partition("=")
                if name == "fsapps_branch" and value:
                    chosen = value
                    add(ev, "controller", f"branch {value}")
                elif not name.startswith("fsapps_") and name not in INTERNAL_VARIABLES and value:
                    trace.variables[name] = value
                    add(ev, "variable", f"{name} = {value}")
        elif app == "socket":
            add(ev, "controller", "hand-off: socket " + data.split(" ")[0])
        elif app in ("voicemail", "bridge"):
            add(ev, app, data)
    if trace.hangup_cause is None:
        trace.hangup_cause = cause
    return trace


def _sets_variable_of(ev: SimEvent, uuid: str) -> bool:
    if ev.name != "API" or ev.get("API-Command") != "uuid_setvar":
        return False
    return (ev.get("API-Command-Argument") or "").split(" ", 1)[0] == uuid


def _pagd_variable(data: str) -> str | None:
    argv = separate_string(data, " ", 11)
    return argv[7] if len(argv) > 7 else None


def _short(prompt: str, width: int = 60) -> str:
    text = prompt[4:] if prompt.startswith("say:") else prompt
    text = f'"{text}"' if prompt.startswith("say:") else Path(text).name
    return text if len(text) <= width else text[: width - 3] + '..."'
