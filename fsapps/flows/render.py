"""``fsapps render``: the flow model as FreeSWITCH dialplan XML. Pure.

For each tenant, two files (paths relative to the generation directory
that fsapps.flows.install swaps in under conf/fsapps/):

- ``public/<tenant>.xml``: each access number, in the vanilla ``public``
  context, marks the call as the tenant's (fsapps_tenant, timezone for time
  conditions, language, TTS engine and voice) and transfers it to the first
  node of its flow in the tenant's own context;
- ``contexts/<tenant>.xml``: the context ``fsapps_<tenant>``, one extension
  per node (``fx__<flow>__<node>``) and, where the next step depends on what
  the node did, one route extension per branch (``fx__<flow>__<node>__route``);
- ``directory/<tenant>.xml``: the tenant's voicemail boxes as users of its
  domain, which mod_voicemail requires (mod_voicemail.c:3417).

Native nodes are plain dialplan, so self-service keeps working with every
controller down; logic nodes hand the call to the controllers listed in
operator.yaml and fall back natively. Output is byte-identical for the same
input: files and extensions come in a fixed order and carry no timestamps.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from fsapps import escape
from fsapps.escape import Part, Text
from fsapps.flows.model import Flow, Node, Operator, Project, Tenant
from fsapps.flows.nodes import NODE_TYPES
from fsapps.flows.nodes.base import Action

SPECIAL = set(r"\.^$|?*+()[]{}")


def regex_escape(value: str) -> str:
    return "".join("\\" + c if c in SPECIAL else c for c in value)


def node_number(flow: str, node: str) -> str:
    return f"fx__{flow}__{node}"


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("fsapps.flows", "templates"),
        autoescape=False,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["xa"] = escape.xml_attr
    env.filters["comment"] = escape.xml_comment
    env.filters["regex_escape"] = regex_escape
    env.filters["safe_name"] = lambda s: re.sub(r"[^A-Za-z0-9]", "_", s)
    return env


@dataclass
class Extension:
    name: str
    number: str  # a regex body, already escaped
    actions: list[Action]
    conditions: list[dict[str, str]] = field(default_factory=list)


class RenderContext:
    """What a node type needs to render itself."""

    def __init__(self, tenant: Tenant, operator: Operator, flow: Flow) -> None:
        self.tenant, self.operator, self.flow = tenant, operator, flow

    def prompt_parts(self, name: str) -> list[Part]:
        """A prompt as the pieces of an argument: the operator's sound directory (which may
        name the switch's ${sounds_dir}) and the tenant's file, or TTS text, as written."""
        p = self.tenant.prompts[name]
        if p.file:
            return [f"{self.operator.sounds}/{self.tenant.language}/", Text(p.file)]
        return tts_parts(p.text or "")

    def prompt(self, name: str) -> str:
        """A prompt as playback's argument."""
        return escape.app_data(*self.prompt_parts(name))

    @staticmethod
    def tts(text: str) -> str:
        return escape.app_data(*tts_parts(text))

    def variable(self, node: Node) -> str:
        return f"fx_{self.flow.name}_{node.id}"

    @staticmethod
    def args(fields: list[Part | list[Part]]) -> str:
        """Blank-separated arguments (fsapps.escape.app_args)."""
        return escape.app_args(*fields)

    def transfer_to(self, node_id: str) -> str:
        return f"{node_number(self.flow.name, node_id)} XML {self.tenant.context}"

    def transfer_to_flow(self, flow: str) -> str:
        return f"{node_number(flow, self.tenant.flows[flow].start)} XML {self.tenant.context}"

    def handoff(self, node: Node, app: str, *, esl_only: bool = False) -> list[Action]:
        """``esl_only``: the application needs the controller (the queue: its ACD runs on
        gevent, which mod_python3's threads cannot host), whatever the runtime."""
        where = [("set", f"fsapps_flow={self.flow.name}"), ("set", f"fsapps_node={node.id}")]
        if self.operator.runtime == "embedded" and not esl_only:
            # mod_python3 runs the application on the channel's thread; the dialplan goes on after it.
            return [*where, ("python", f"fsapps.embedded {app}")]
        targets = socket_targets(self.operator.controllers, app, self.operator.controller_choice)
        return [*where, ("set", "socket_resume=true"), ("socket", f"{targets} async full")]


HEX = "0123456789abcdef"


def socket_targets(controllers: list[str], app: str, choice: str = "in-order") -> str:
    """The ``socket`` application's hosts, ``|``-separated: it tries them in order
    (mod_event_socket.c:442-452, the first that connects takes the call).

    ``spread``: the list starts at a controller picked by the last hex digit of the call's
    UUID (random, so calls spread evenly), the others following in turn. The switch picks
    when it expands the action's data: one ``${regex(m:~${uuid}~[..]$~hosts~n)}`` per
    starting controller, whose digit classes do not overlap, so exactly one expands to its
    list and the others to nothing (mod_commands.c regex_function: ``m:~`` makes ``~`` the
    separator, so the lists keep their ``|``; flag ``n``: no match gives "")."""
    hosts = [f"{c}/{app}" for c in controllers]
    if choice != "spread" or len(hosts) < 2:
        return "|".join(hosts)
    starts = min(len(hosts), len(HEX))
    parts = []
    for i in range(starts):
        digits = HEX[i::starts]
        rotation = "|".join(hosts[i:] + hosts[:i])
        parts.append(f"${{regex(m:~${{uuid}}~[{digits}]$~{rotation}~n)}}")
    return "".join(parts)


def tts_parts(text: str) -> list[Part]:
    """switch_ivr_play_file's ``say:`` prefix speaks with tts_engine/tts_voice (set at entry)."""
    return ["say:", Text(escape.spoken(text))]


# A value ``multiset`` passes through as written: no blank (its separator), quote or
# backslash (switch_split, switch_utils.c:2796-2874, reads those), no ``$`` (base_set
# expands the value, mod_dptools.c:1668), nothing the XML would need escaped.
_CONSTANT = re.compile(r"[A-Za-z0-9_.:/+@-]*\Z")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def coalesce_sets(actions: list[Action]) -> list[Action]:
    """Runs of ``set`` with constant values as one ``multiset`` (mod_dptools.c:1682-1707,
    base_set for each blank-separated part). Every application the channel runs costs
    the switch a CHANNEL_EXECUTE and a CHANNEL_EXECUTE_COMPLETE event, each carrying a
    copy of every channel variable (switch_core_session_exec, switch_core_session.c:2944,2967;
    switch_channel_event_set_extended_data): on a flow's entry that was most of the
    switch's CPU per call."""
    out: list[Action] = []
    run: list[str] = []

    def flush() -> None:
        if len(run) == 1:
            out.append(("set", run[0]))
        elif run:
            out.append(("multiset", " ".join(run)))
        run.clear()

    for app, data in actions:
        name, eq, value = data.partition("=")
        if app == "set" and eq and _NAME.match(name) and _CONSTANT.match(value):
            run.append(data)
            continue
        flush()
        out.append((app, data))
    flush()
    return out


def entry_actions(tenant: Tenant, operator: Operator, flow: str, number: str) -> list[Action]:
    """``export`` sets the variable on this leg too (switch_channel.c:1339)."""
    f = tenant.flows[flow]
    # The access number is the destination the extension matched, literally (regex_escape).
    access = number if _CONSTANT.match(number) else "${destination_number}"
    return coalesce_sets(
        [
            ("export", f"fsapps_tenant={tenant.id}"),
            ("set", f"timezone={tenant.timezone}"),
            ("set", f"default_language={tenant.language}"),
            ("set", f"tts_engine={operator.tts_engine}"),
            ("set", f"tts_voice={operator.tts_voice}"),
            ("set", f"fsapps_access_number={access}"),
            ("transfer", f"{node_number(flow, f.start)} XML {tenant.context}"),
        ]
    )


def flow_extensions(tenant: Tenant, operator: Operator, flow: Flow) -> list[Extension]:
    r = RenderContext(tenant, operator, flow)
    out: list[Extension] = []
    for node in flow.nodes.values():
        rendered = NODE_TYPES[node.type].render(node, r)
        number = node_number(flow.name, node.id)
        actions = list(rendered.actions)
        if rendered.routes:
            actions.append(("transfer", f"{number}__route XML {tenant.context}"))
        elif rendered.default is not None and rendered.default in node.children:
            actions.append(("transfer", r.transfer_to(node.children[rendered.default])))
        elif rendered.default is not None or not _ends(actions):
            actions += rendered.otherwise
        out.append(Extension(f"{flow.name}.{node.id}", number, coalesce_sets(actions)))
        if not rendered.routes:
            continue
        route = f"{number}__route"
        for i, rt in enumerate(rendered.routes):
            if rt.actions:
                then = list(rt.actions)
            elif rt.branch in node.children:
                then = [("transfer", r.transfer_to(node.children[rt.branch]))]
            else:
                continue
            out.append(
                Extension(
                    f"{flow.name}.{node.id}.{rt.branch}.{i}", route, coalesce_sets(then), list(rt.conditions)
                )
            )
        if rendered.default is not None and rendered.default in node.children:
            last = [("transfer", r.transfer_to(node.children[rendered.default]))]
        else:
            last = list(rendered.otherwise)
        out.append(Extension(f"{flow.name}.{node.id}.otherwise", route, last))
    return out


def _ends(actions: list[Action]) -> bool:
    return bool(actions) and actions[-1][0] in ("hangup", "transfer")


@dataclass(frozen=True)
class SipPhone:
    """An agent's SIP user in their tenant's directory (the HTTP API provisions it):
    ``a1_hash`` is md5(user:domain:password), which FreeSWITCH takes instead of the password
    (sofia_reg.c:3251 reads the "a1-hash" param; l.3338-3347 computes it from a password)."""

    user: str
    a1_hash: str
    agent: str


def render(project: Project, phones: Mapping[str, Sequence[SipPhone]] | None = None) -> dict[str, str]:
    """{path under the generation directory: XML text}, for a project that checked clean;
    ``phones``: the agents' SIP users, by tenant (from the database)."""
    env = _env()
    public = env.get_template("public.xml.j2")
    context = env.get_template("context.xml.j2")
    directory = env.get_template("directory.xml.j2")
    root = Path(project.root)
    files: dict[str, str] = {}
    for tenant in sorted(project.tenants, key=lambda t: t.id):
        tdir = Path(tenant.directory)
        rel = _rel(tdir / "tenant.yaml", root)
        numbers = sorted((n, flow) for n, (flow, _) in tenant.access_numbers.items())
        files[f"public/{tenant.id}.xml"] = public.render(
            source=rel,
            tenant=tenant,
            numbers=numbers,
            entry_actions=lambda flow, number, t=tenant: entry_actions(t, project.operator, flow, number),
        )
        extensions: list[Extension] = []
        sources = [rel]
        for name in sorted(tenant.flows):
            flow = tenant.flows[name]
            sources.append(_rel(Path(flow.file), root))
            extensions += flow_extensions(tenant, project.operator, flow)
        files[f"contexts/{tenant.id}.xml"] = context.render(
            sources=sources, tenant=tenant, extensions=extensions
        )
        boxes = sorted(
            {
                str(node.get("box"))
                for flow in tenant.flows.values()
                for node in flow.nodes.values()
                if node.type == "voicemail"
            }
        )
        own = sorted((phones or {}).get(tenant.id, ()), key=lambda p: p.user)
        own = [p for p in own if p.user not in boxes]  # a box keeps its id (the API refuses the clash)
        if boxes or own:
            boxes_xml = directory.render(sources=sources, tenant=tenant, boxes=boxes, phones=own)
            files[f"directory/{tenant.id}.xml"] = boxes_xml
    return files


def _rel(path: Path, root: Path) -> str:
    try:
        return str(Path("dialplan") / path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
