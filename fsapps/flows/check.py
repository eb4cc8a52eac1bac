"""``fsapps check``: everything wrong with dialplan/, each as file:line:col.

Structure (fields, types, names) is the schema's job (fsapps.flows.schema);
this module checks meaning: references to prompts, calendars, queues,
flows and nodes; branch names; prompt files on disk; nodes no call can
reach; loops no call can leave; access numbers and domains claimed twice;
and the tenant walls (fsapps.flows.walls): recordings under the tenant's
own directory, and, given the operator's roster, queue tiers of agents who
serve the tenant and domains no other tenant owns.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

from fsapps.acd.config import PROMPT_SETTINGS
from fsapps.flows import yamlsrc
from fsapps.flows.load import load_project
from fsapps.flows.model import Flow, Problem, Project, Roster, Tenant
from fsapps.flows.nodes import NODE_TYPES
from fsapps.flows.nodes.menu import DIGITS
from fsapps.flows.walls import expansion_problem, flow_variables, record_template_problem, reference_problem
from fsapps.flows.yamlsrc import Where, YList, YMap, show

NO_ROSTER = (
    "queue tiers were not checked against the agent roster, nor domains against the database's "
    "tenants: no database configured (database.dsn in --config, or FSAPPS_DATABASE_DSN)"
)

# Node types after which the call is somewhere else or over.
ENDS = {"hangup", "voicemail", "goto", "transfer"}


def check(root: str | Path, sounds: str | Path | None = None, roster: Roster | None = None) -> Project:
    """``roster``: the operator's agents and tenants (fsapps.flows.roster); None: not checked (a note)."""
    project = load_project(root)
    sounds_dir = Path(sounds) if sounds is not None else Path(root).resolve().parent / "sounds"
    seen_numbers: dict[str, tuple[str, Where]] = {}
    for tenant in project.tenants:
        project.problems += check_tenant(tenant, project, sounds_dir, roster)
        for number, (_, where) in sorted(tenant.access_numbers.items()):
            if number in seen_numbers:
                other, other_where = seen_numbers[number]
                message = f"access number {number} is already used by tenant {show(other)} at {other_where}"
                project.problems.append(Problem(where, f"{message} (expected each number in one tenant)"))
            else:
                seen_numbers[number] = (tenant.id, where)
    project.problems += _domains(project, roster)
    if roster is None and any(_tiers(q.data) for t in project.tenants for q in t.queues.values()):
        project.notes.append(NO_ROSTER)
    if not project.tenants and not project.problems:
        where = Where(str(root), 1, 1)
        project.problems.append(Problem(where, "no tenants here (expected <dir>/<tenant>/tenant.yaml)"))
    # One slip can be found twice (as a slip, and by the schema): say it once.
    project.problems = sorted(
        set(project.problems), key=lambda p: (p.where.file, p.where.line, p.where.col, p.message)
    )
    return project


def _domains(project: Project, roster: Roster | None) -> list[Problem]:
    """A domain is one tenant's: its voicemail boxes and directory live under it."""
    out = []
    seen: dict[str, Tenant] = {}
    for tenant in project.tenants:
        domain = tenant.domain.lower()
        where = _at_field(tenant, "domain")
        if domain in seen:
            other = seen[domain]
            first = _at_field(other, "domain")
            message = f"domain {tenant.domain} is already used by tenant {show(other.id)} at {first}"
            out.append(Problem(where, f"{message} (expected each domain in one tenant)"))
            continue
        seen[domain] = tenant
        owner = roster.domains.get(domain) if roster is not None else None
        if owner is not None and owner != tenant.id:
            message = f"domain {tenant.domain} belongs to tenant {show(owner)} in the database"
            out.append(Problem(where, f"{message} (expected a domain of this tenant's own)"))
    return out


def _at_field(tenant: Tenant, key: str) -> Where:
    return tenant.field_where.get(key, tenant.where)


def _tiers(data: object) -> list[tuple[str, Where]]:
    """(agent id, where it is written) for each of a queue's tiers."""
    tiers = data.get("tiers") if isinstance(data, YMap) else None
    if not isinstance(tiers, YList):
        return []
    out = []
    for i, item in enumerate(tiers):
        if isinstance(item, str):
            out.append((item, tiers.at(i)))
        elif isinstance(item, YMap) and isinstance(item.get("agent"), str):
            out.append((item["agent"], item.at("agent")))
    return out


# Variables a set node may fill with an agent id: the queue offers the call to that agent.
AGENT_VARIABLES = ("fsapps_account_manager", "fsapps_private_agent")


def _named_agents(tenant: Tenant) -> list[tuple[str, Where]]:
    """Agents a flow names itself: a set node's literal fsapps_private_agent / _account_manager."""
    out = []
    for flow in tenant.flows.values():
        for node in flow.nodes.values():
            variables = node.get("variables") if node.type == "set" else None
            if not isinstance(variables, YMap):
                continue
            for name, value in variables.items():
                if name.lower() in AGENT_VARIABLES and isinstance(value, str) and "$" not in value and value:
                    out.append((value, variables.at(name)))
    return out


def _roster_problems(tenant: Tenant, agents: list[tuple[str, Where]], roster: Roster) -> list[Problem]:
    serving = sorted(a for a, served in roster.agents.items() if tenant.id in served)
    hint = ", ".join(serving) if serving else f"no agent serves {tenant.id} in the database yet"
    out = []
    for agent, where in agents:
        if agent not in roster.agents:
            out.append(Problem(where, f"no agent {show(agent)} in the roster (expected one of: {hint})"))
        elif tenant.id not in roster.agents[agent]:
            message = f"agent {show(agent)} does not serve tenant {show(tenant.id)}"
            out.append(Problem(where, f"{message} (expected one of: {hint})"))
    return out


def check_tenant(
    tenant: Tenant, project: Project, sounds: Path, roster: Roster | None = None
) -> list[Problem]:
    out: list[Problem] = []
    flows = ", ".join(sorted(tenant.flows)) or "no flows yet"
    for number, (name, where) in tenant.access_numbers.items():
        if name not in tenant.flows and name not in tenant.unreadable_flows:
            message = f"access number {number} starts flow {show(name)}, which is not defined"
            out.append(Problem(where, f"{message} (expected one of: {flows})"))
    for prompt in tenant.prompts.values():
        # Both are played as written (say:<text>, <sounds>/<language>/<file>): FreeSWITCH expands them.
        known = flow_variables(tenant)
        for played, allowed in ((prompt.text, known), (prompt.file, ())):
            if not isinstance(played, str):
                continue
            why = expansion_problem(played) or reference_problem(played, allowed, once=True)
            if why is None and allowed == () and "$" in played:
                why = f"a prompt file named with '$' (expected a plain path under sounds/{tenant.language}/)"
            if why is not None:
                out.append(Problem(prompt.where, why))
        if isinstance(prompt.file, str) and (prompt.file.startswith("/") or ".." in prompt.file.split("/")):
            message = f"prompt file {show(prompt.file)} is outside sounds/{tenant.language}/"
            out.append(
                Problem(prompt.where, f"{message} (expected a path under it, like {tenant.id}/hello.wav)")
            )
            continue
        path = sounds / tenant.language / prompt.file if prompt.file else None
        # mod_sndfile opens <dir>/<rate>/<file> before <dir>/<file> (FreeSWITCH's sounds layout).
        if path is not None and not (path.parent / "8000" / path.name).is_file() and not path.is_file():
            want = path.parent / "8000" / path.name
            out.append(Problem(prompt.where, f"prompt file {show(prompt.file)} not found (expected {want})"))
    for queue in tenant.queues.values():
        for key in PROMPT_SETTINGS:
            value = queue.data.get(key) if isinstance(queue.data, dict) else None
            if isinstance(value, str) and value not in tenant.prompts:
                hint = ", ".join(sorted(tenant.prompts)) or "no prompts are defined"
                where = yamlsrc.at(queue.data, key, queue.where)
                message = f"{key} names unknown prompt {show(value)} (expected one of: {hint})"
                out.append(Problem(where, message))
        template = queue.data.get("record-template") if isinstance(queue.data, dict) else None
        if isinstance(template, str) and (why := record_template_problem(template, tenant.id)) is not None:
            out.append(Problem(yamlsrc.at(queue.data, "record-template", queue.where), why))
        if roster is not None:
            out += _roster_problems(tenant, _tiers(queue.data), roster)
    if roster is not None:
        out += _roster_problems(tenant, _named_agents(tenant), roster)
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
                message = f"unknown {ref.kind} {show(ref.name)} (expected one of: {hint})"
                out.append(Problem(ref.where, message))
        allowed = set(kind.allowed_branches())
        for branch, target in node.children.items():
            where = node.child_where.get(branch, node.where)
            is_digit = kind.digit_branches and len(branch) == 1 and branch in DIGITS
            if branch not in allowed and not is_digit:
                expected = ", ".join(
                    sorted(allowed | ({"a digit 0-9 * #"} if kind.digit_branches else set()))
                )
                message = f"unknown branch {show(branch)} for a {node.type} node (expected: {expected})"
                out.append(Problem(node.branch_where.get(branch, where), message))
            if target not in flow.nodes and target not in flow.declared:  # declared: reported already
                message = f"branch {show(branch)} goes to unknown node {show(target)}"
                out.append(Problem(where, f"{message} (expected one of: {', '.join(sorted(flow.nodes))})"))
        for branch in kind.required_branches:
            if branch not in node.children:
                out.append(Problem(node.where, f"a {node.type} node needs a {show(branch)} branch"))
        out += kind.check(node, tenant, project.operator)
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
            message = f"node {show(node_id)} cannot be reached from the start node {show(flow.start)}"
            out.append(Problem(node.where, message))
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
        message = f"node {show(node_id)} is in a loop with no exit"
        exits = "expected a path to a hangup, transfer, voicemail or goto"
        out.append(Problem(nodes[node_id].where, f"{message} ({exits})"))
    return out
