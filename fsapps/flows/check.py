"""``fsapps check``: everything wrong with dialplan/, each as file:line:col.

Structure (fields, types, names) is the schema's job (fsapps.flows.schema);
this module checks meaning: references to prompts, calendars, queues,
flows and nodes; branch names; prompt files on disk; nodes no call can
reach; loops no call can leave; access numbers claimed twice.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

from fsapps.acd.config import PROMPT_SETTINGS
from fsapps.flows import yamlsrc
from fsapps.flows.load import load_project
from fsapps.flows.model import Flow, Problem, Project, Tenant
from fsapps.flows.nodes import NODE_TYPES
from fsapps.flows.nodes.menu import DIGITS
from fsapps.flows.yamlsrc import Where

# Node types after which the call is somewhere else or over.
ENDS = {"hangup", "voicemail", "goto", "transfer"}


def check(root: str | Path, sounds: str | Path | None = None) -> Project:
    project = load_project(root)
    sounds_dir = Path(sounds) if sounds is not None else Path(root).resolve().parent / "sounds"
    seen_numbers: dict[str, tuple[str, Where]] = {}
    for tenant in project.tenants:
        project.problems += check_tenant(tenant, project, sounds_dir)
        for number, (_, where) in sorted(tenant.access_numbers.items()):
            if number in seen_numbers:
                other, other_where = seen_numbers[number]
                message = f"access number {number} is already used by tenant {other!r} at {other_where}"
                project.problems.append(Problem(where, f"{message} (expected each number in one tenant)"))
            else:
                seen_numbers[number] = (tenant.id, where)
    if not project.tenants and not project.problems:
        where = Where(str(root), 1, 1)
        project.problems.append(Problem(where, "no tenants here (expected <dir>/<tenant>/tenant.yaml)"))
    project.problems.sort(key=lambda p: (p.where.file, p.where.line, p.where.col, p.message))
    return project


def check_tenant(tenant: Tenant, project: Project, sounds: Path) -> list[Problem]:
    out: list[Problem] = []
    flows = ", ".join(sorted(tenant.flows)) or "no flows yet"
    for number, (name, where) in tenant.access_numbers.items():
        if name not in tenant.flows and name not in tenant.unreadable_flows:
            message = f"access number {number} starts flow {name!r}, which is not defined"
            out.append(Problem(where, f"{message} (expected one of: {flows})"))
    for prompt in tenant.prompts.values():
        path = sounds / tenant.language / prompt.file if prompt.file else None
        # mod_sndfile opens <dir>/<rate>/<file> before <dir>/<file> (FreeSWITCH's sounds layout).
        if path is not None and not (path.parent / "8000" / path.name).is_file() and not path.is_file():
            want = path.parent / "8000" / path.name
            out.append(Problem(prompt.where, f"prompt file {prompt.file!r} not found (expected {want})"))
    for queue in tenant.queues.values():
        for key in PROMPT_SETTINGS:
            value = queue.data.get(key) if isinstance(queue.data, dict) else None
            if isinstance(value, str) and value not in tenant.prompts:
                hint = ", ".join(sorted(tenant.prompts)) or "no prompts are defined"
                where = yamlsrc.at(queue.data, key, queue.where)
                out.append(Problem(where, f"{key} names unknown prompt {value!r} (expected one of: {hint})"))
    for flow in tenant.flows.values():
        out += check_flow(flow, tenant, project)
    return out


def _known(kind: str, tenant: Tenant, project: Project) -> set[str]:
    return {
        "prompt": set(tenant.prompts),
        "calendar": set(tenant.calendars),
        "queue": set(tenant.queues),
        "flow": set(tenant.flows),
        "gateway": set(project.operator.gateways),
    }[kind]


def check_flow(flow: Flow, tenant: Tenant, project: Project) -> list[Problem]:
    out: list[Problem] = []
    for node in flow.nodes.values():
        kind = NODE_TYPES[node.type]
        for ref in kind.refs(node):
            known = _known(ref.kind, tenant, project)
            if ref.name not in known:
                hint = ", ".join(sorted(known)) or f"no {ref.kind}s are defined"
                out.append(Problem(ref.where, f"unknown {ref.kind} {ref.name!r} (expected one of: {hint})"))
        allowed = set(kind.allowed_branches())
        for branch, target in node.children.items():
            where = node.child_where.get(branch, node.where)
            is_digit = kind.digit_branches and len(branch) == 1 and branch in DIGITS
            if branch not in allowed and not is_digit:
                expected = ", ".join(
                    sorted(allowed | ({"a digit 0-9 * #"} if kind.digit_branches else set()))
                )
                message = f"unknown branch {branch!r} for a {node.type} node (expected: {expected})"
                out.append(Problem(node.branch_where.get(branch, where), message))
            if target not in flow.nodes and target not in flow.declared:  # declared: reported already
                message = f"branch {branch!r} goes to unknown node {target!r}"
                out.append(Problem(where, f"{message} (expected one of: {', '.join(sorted(flow.nodes))})"))
        for branch in kind.required_branches:
            if branch not in node.children:
                out.append(Problem(node.where, f"a {node.type} node needs a {branch!r} branch"))
        out += kind.check(node, tenant)
    out += _reachability(flow)
    return out


def _can_end(node_type: str, children: dict[str, str]) -> bool:
    """Can the call end at this node, or leave the flow, whatever comes next?"""
    if node_type in ENDS:
        return True
    kind = NODE_TYPES[node_type]
    if kind.logic and "fallback" not in children:
        return True  # no controller: the built-in fallback says sorry and hangs up
    if node_type == "menu" and ("timeout" not in children or "invalid" not in children):
        return True
    return node_type == "collect" and "invalid" not in children


def _reachability(flow: Flow) -> list[Problem]:
    out: list[Problem] = []
    nodes = flow.nodes
    if flow.start not in nodes:
        return out
    reached = {flow.start}
    todo = deque([flow.start])
    while todo:
        for target in nodes[todo.popleft()].children.values():
            if target in nodes and target not in reached:
                reached.add(target)
                todo.append(target)
    for node_id, node in nodes.items():
        if node_id not in reached:
            out.append(
                Problem(node.where, f"node {node_id!r} cannot be reached from the start node {flow.start!r}")
            )
    # Walk backwards from the ways out: a reachable node that cannot get to one loops forever.
    parents: dict[str, set[str]] = {n: set() for n in nodes}
    for node_id, node in nodes.items():
        for target in node.children.values():
            if target in parents:
                parents[target].add(node_id)
    # A branch into a node that did not load (already reported) is not called a loop as well.
    broken = flow.declared - set(nodes)
    can_leave = {
        n
        for n, node in nodes.items()
        if _can_end(node.type, node.children) or any(t in broken for t in node.children.values())
    }
    todo = deque(can_leave)
    while todo:
        for parent in parents[todo.popleft()]:
            if parent not in can_leave:
                can_leave.add(parent)
                todo.append(parent)
    for node_id in sorted(reached - can_leave, key=lambda n: (nodes[n].where.line, n)):
        message = f"node {node_id!r} is in a loop with no exit"
        exits = "expected a path to a hangup, transfer, voicemail or goto"
        out.append(Problem(nodes[node_id].where, f"{message} ({exits})"))
    return out
