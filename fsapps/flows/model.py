"""The flow model: what ops write in dialplan/, as plain values with positions.

dialplan/
  operator.yaml                controllers, TTS, sound location, gateways, lookup hosts
  <tenant>/tenant.yaml         id, domain, timezone, language, access numbers,
                               calendars, prompts, queues
  <tenant>/flows/<flow>.yaml   nodes: {id: {type, data, children: {branch: node id}}}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from fsapps.flows.yamlsrc import Where, YMap


@dataclass(frozen=True)
class Problem:
    where: Where
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class Prompt:
    name: str
    where: Where
    file: str | None = None  # under sounds/<language>/
    text: str | None = None  # spoken by the TTS engine


@dataclass
class Calendar:
    """When a tenant is open: weekly hours, minus holidays and closed ranges.

    ``weekly`` maps a FreeSWITCH wday (1 = Sunday .. 7 = Saturday) to
    [start, end) minute-of-day ranges.
    """

    name: str
    where: Where
    weekly: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    holidays: list[date] = field(default_factory=list)
    closed: list[tuple[datetime, datetime]] = field(default_factory=list)


@dataclass
class Node:
    id: str
    type: str
    data: YMap
    children: dict[str, str]  # branch -> target node id
    where: Where
    child_where: dict[str, Where] = field(default_factory=dict)  # where each branch's target is
    branch_where: dict[str, Where] = field(default_factory=dict)  # where each branch name is

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)


@dataclass
class Flow:
    name: str
    start: str
    nodes: dict[str, Node]
    file: str
    where: Where
    declared: set[str] = field(default_factory=set)  # every node id written, valid or not


@dataclass
class Queue:
    name: str
    where: Where
    data: YMap


@dataclass
class Tenant:
    id: str
    name: str
    domain: str
    timezone: str
    language: str
    directory: str
    where: Where
    access_numbers: dict[str, tuple[str, Where]] = field(default_factory=dict)
    calendars: dict[str, Calendar] = field(default_factory=dict)
    prompts: dict[str, Prompt] = field(default_factory=dict)
    queues: dict[str, Queue] = field(default_factory=dict)
    flows: dict[str, Flow] = field(default_factory=dict)
    unreadable_flows: set[str] = field(default_factory=set)  # flow files that did not parse
    field_where: dict[str, Where] = field(default_factory=dict)  # where tenant.yaml's id, domain... are

    @property
    def context(self) -> str:
        """The tenant's dialplan context."""
        return f"fsapps_{self.id}"


@dataclass
class Operator:
    controllers: list[str] = field(default_factory=lambda: ["127.0.0.1:8084"])
    # in-order: each call to the first controller that answers; spread: each call starts at
    # a controller its UUID picks (fsapps.flows.render.socket_targets).
    controller_choice: str = "in-order"
    tts_engine: str = "flite"
    tts_voice: str = "kal"
    sounds: str = "$${sounds_dir}/fsapps"
    gateways: list[str] = field(default_factory=list)
    runtime: str = "esl"  # esl: socket to the controllers; embedded: mod_python3 in the switch
    # The hosts lookup nodes may call: "host" (any port) or "host:port". A host that resolves
    # to a private, loopback or link-local address is called only when it is listed.
    lookup_hosts: list[str] = field(default_factory=list)
    file: str = "dialplan/operator.yaml"


@dataclass(frozen=True)
class Roster:
    """Who serves whom, as the operator's database has it (agents, agent_tenants, tenants)."""

    agents: dict[str, frozenset[str]]  # agent id -> the tenants it serves
    domains: dict[str, str]  # domain, lowercase -> the tenant that owns it


@dataclass
class Project:
    root: str
    operator: Operator
    tenants: list[Tenant]
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was not checked, and why
