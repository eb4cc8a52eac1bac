"""Read dialplan/ into the flow model, collecting every problem on the way.

Nothing here raises for a user's mistake: each becomes a Problem with
``file:line:col``, and loading goes on with what is usable so one run
reports all of them.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fsapps.flows import schema, yamlsrc
from fsapps.flows.model import Calendar, Flow, Node, Operator, Problem, Project, Prompt, Queue, Tenant
from fsapps.flows.nodes import NODE_TYPES
from fsapps.flows.yamlsrc import Where, YMap, show

DAY_NUMBER = {"sun": 1, "mon": 2, "tue": 3, "wed": 4, "thu": 5, "fri": 6, "sat": 7}  # FreeSWITCH wday
DAY_ORDER = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _yaml(path: Path, problems: list[Problem]) -> Any:
    slips: list[yamlsrc.YamlProblem] = []
    try:
        doc = yamlsrc.load(path, slips=slips)
        problems += [Problem(s.where, s.message) for s in slips]
        return doc
    except yamlsrc.YamlProblem as exc:
        problems.append(Problem(exc.where, exc.message))
    except OSError as exc:
        problems.append(Problem(Where(str(path), 1, 1), f"cannot read: {exc.strerror}"))
    except UnicodeDecodeError as exc:
        source = path.read_bytes()
        line = source[: exc.start].count(b"\n") + 1
        col = exc.start - (source.rfind(b"\n", 0, exc.start) + 1) + 1
        problems.append(Problem(Where(str(path), line, col), "not UTF-8 text (expected a UTF-8 YAML file)"))
    return None


def load_project(root: str | Path) -> Project:
    root = Path(root)
    problems: list[Problem] = []
    operator = load_operator(root, problems)
    tenants = []
    if not root.is_dir():
        problems.append(
            Problem(Where(str(root), 1, 1), "not a directory (expected dialplan/ with one folder per tenant)")
        )
        return Project(str(root), operator, [], problems)
    # A hidden folder is no tenant's (.git; an upload's folder set aside, fsapps.flows.upload).
    for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if not (d / "tenant.yaml").exists():
            if any(d.rglob("*.yaml")):
                problems.append(Problem(Where(str(d), 1, 1), "a tenant folder without tenant.yaml"))
            continue
        tenant = load_tenant(d, problems)
        if tenant is not None:
            tenants.append(tenant)
    return Project(str(root), operator, tenants, problems)


def load_operator(root: Path, problems: list[Problem]) -> Operator:
    path = root / "operator.yaml"
    op = Operator(file=str(path))
    if not path.exists():
        return op
    doc = _yaml(path, problems)
    if doc is None:
        return op
    found = schema.validate(doc, schema.OPERATOR, Where(str(path), 1, 1))
    problems += found
    if found or not isinstance(doc, dict):
        return op
    op.controllers = list(doc.get("controllers", op.controllers))
    op.controller_choice = doc.get("controller_choice", op.controller_choice)
    tts = doc.get("tts") or {}
    op.tts_engine = tts.get("engine", op.tts_engine)
    op.tts_voice = tts.get("voice", op.tts_voice)
    op.sounds = doc.get("sounds", op.sounds)
    op.gateways = list(doc.get("gateways", []))
    op.runtime = doc.get("runtime", op.runtime)
    op.lookup_hosts = list(doc.get("lookup_hosts", []))
    return op


def load_tenant(d: Path, problems: list[Problem]) -> Tenant | None:
    path = d / "tenant.yaml"
    before = len(problems)
    doc = _yaml(path, problems)
    if doc is None:
        if len(problems) == before:  # it read, and holds nothing: the tenant would silently vanish
            message = "an empty tenant.yaml (expected id, name, domain, timezone, language)"
            problems.append(Problem(Where(str(path), 1, 1), message))
        return None
    origin = Where(str(path), 1, 1)
    found = schema.validate(doc, schema.TENANT, origin)
    problems += found
    if not isinstance(doc, YMap) or any(p.message.startswith("missing field") for p in found):
        return None
    tenant = Tenant(
        id=str(doc.get("id")),
        name=str(doc.get("name")),
        domain=str(doc.get("domain")),
        timezone=str(doc.get("timezone")),
        language=str(doc.get("language")),
        directory=str(d),
        where=doc.where,
        field_where=dict(doc.value_where),
    )
    if tenant.id != d.name:
        message = f"id {show(tenant.id)} differs from the folder name (expected {show(d.name)})"
        problems.append(Problem(doc.at("id"), message))
    try:
        ZoneInfo(tenant.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(
            Problem(
                doc.at("timezone"),
                f"unknown timezone {show(tenant.timezone)} (expected an IANA zone like Asia/Shanghai)",
            )
        )
    numbers = doc.get("access_numbers") or {}
    if isinstance(numbers, YMap):
        for number, flow in numbers.items():
            tenant.access_numbers[number] = (str(flow), numbers.at(number))
    for name, cal in (doc.get("calendars") or {}).items():
        if isinstance(cal, YMap):
            tenant.calendars[name] = parse_calendar(name, cal, problems)
    prompts = doc.get("prompts") or {}
    for name, p in prompts.items():
        if isinstance(p, YMap):
            tenant.prompts[name] = Prompt(
                name, yamlsrc.at(prompts, name, doc.where), p.get("file"), p.get("text")
            )
    queues = doc.get("queues") or {}
    for name, q in queues.items():
        if isinstance(q, YMap):
            tenant.queues[name] = Queue(name, yamlsrc.at(queues, name, doc.where), q)
    for f in sorted((d / "flows").glob("*.yaml")) if (d / "flows").is_dir() else []:
        flow = load_flow(f, problems)
        if flow is None:
            tenant.unreadable_flows.add(f.stem)
            continue
        if flow.name in tenant.flows:
            problems.append(
                Problem(
                    flow.where,
                    f"flow {flow.name!r} is defined twice (also in {tenant.flows[flow.name].file})",
                )
            )
            continue
        tenant.flows[flow.name] = flow
    return tenant


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def _days(spec: str) -> list[int]:
    out: list[int] = []
    for part in spec.split(","):
        a, _, b = part.partition("-")
        i, j = DAY_ORDER.index(a), DAY_ORDER.index(b or a)
        span = DAY_ORDER[i : j + 1] if i <= j else DAY_ORDER[i:] + DAY_ORDER[: j + 1]
        out += [DAY_NUMBER[x] for x in span]
    return out


def parse_calendar(name: str, cal: YMap, problems: list[Problem]) -> Calendar:
    out = Calendar(name, cal.where)
    weekly = cal.get("weekly") or {}
    if isinstance(weekly, YMap):
        for spec, hours in weekly.items():
            if not isinstance(spec, str) or not re.fullmatch(schema.DAYS, spec):
                continue  # the schema said so already
            ranges = hours if isinstance(hours, list) else [hours]
            for i, rng in enumerate(ranges):
                if not isinstance(rng, str) or not re.fullmatch(schema.HHMM_RANGE, rng):
                    continue
                where = ranges.at(i) if isinstance(ranges, yamlsrc.YList) else weekly.at(spec)
                lo, hi = (_minutes(x) for x in rng.split("-"))
                if lo >= hi or lo >= 24 * 60 or hi > 24 * 60:
                    problems.append(Problem(where, f"time range {show(rng)} does not go forward within a day "
                                                   "(expected start before end, at most 24:00)"))  # fmt: skip
                    continue
                for day in _days(spec):
                    out.weekly.setdefault(day, []).append((lo, hi))
    holidays = cal.get("holidays") or []
    for i, h in enumerate(holidays):
        if not isinstance(h, str):
            continue  # the schema said so already
        try:
            out.holidays.append(date.fromisoformat(h))
        except ValueError:
            problems.append(
                Problem(yamlsrc.at(holidays, i, cal.where), f"{show(h)} is not a date (expected YYYY-MM-DD)")
            )
    closed = cal.get("closed") or []
    for i, c in enumerate(closed):
        if not isinstance(c, YMap):
            continue
        try:
            start = datetime.strptime(str(c.get("from")), "%Y-%m-%d %H:%M")
            end = datetime.strptime(str(c.get("to")), "%Y-%m-%d %H:%M")
        except ValueError:
            problems.append(
                Problem(
                    yamlsrc.at(closed, i, cal.where),
                    "unparseable time (expected from/to like 2026-12-24 18:00)",
                )
            )
            continue
        if end <= start:
            problems.append(Problem(c.at("to"), "ends before it starts (expected to after from)"))
            continue
        out.closed.append((start, end))
    return out


def load_flow(path: Path, problems: list[Problem]) -> Flow | None:
    before = len(problems)
    doc = _yaml(path, problems)
    if doc is None:
        if len(problems) == before:  # empty or only comments: render would find no nodes
            message = "an empty flow file (expected nodes: with at least one node)"
            problems.append(Problem(Where(str(path), 1, 1), message))
        return None
    origin = Where(str(path), 1, 1)
    found = schema.validate(doc, schema.flow_schema(), origin)
    problems += found
    if not isinstance(doc, YMap) or not isinstance(doc.get("nodes"), YMap):
        return None
    name = str(doc.get("name") or path.stem)
    nodes_map: YMap = doc["nodes"]
    nodes: dict[str, Node] = {}
    for node_id, raw in nodes_map.items():
        if not isinstance(raw, YMap) or raw.get("type") not in NODE_TYPES:
            continue  # the schema reported an unknown or missing type
        data = raw.get("data")
        if data is None:
            data = yamlsrc.new_map(raw.where)
        children = raw.get("children") or YMap()
        node = Node(
            id=node_id, type=raw["type"], data=data if isinstance(data, YMap) else yamlsrc.new_map(raw.where),
            children={str(k): str(v) for k, v in children.items()} if isinstance(children, dict) else {},
            where=nodes_map.key_at(node_id),
            child_where={str(k): children.at(k) for k in children} if isinstance(children, YMap) else {},
            branch_where={str(k): children.key_at(k) for k in children} if isinstance(children, YMap) else {},
        )  # fmt: skip
        if isinstance(data, YMap):
            problems += schema.validate(data, NODE_TYPES[node.type].data_schema(), data.where)
        nodes[node_id] = node
    start = str(doc.get("start") or next(iter(nodes_map), ""))
    if doc.get("start") is not None and start not in nodes_map:
        problems.append(Problem(doc.at("start"), f"start node {show(start)} is not in this flow"))
    return Flow(name, start, nodes, str(path), doc.where, declared=set(nodes_map))
