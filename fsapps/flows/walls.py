"""What a tenant's flows may not do: reach the switch, the other tenants or the operator's network.

A flow is the tenant's to write, but it runs in the operator's switch. Each
rule here returns None when the value is fine, else what is wrong and what
is expected (``fsapps check`` puts it at the value's file:line:col). Pure:
the lookup hosts come from the operator's settings, the roster from the
caller.

FreeSWITCH looks channel variables up without regard to case
(switch_event.c:825-840, strcasecmp), so names are compared in lowercase.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from collections.abc import Iterable
from typing import Any

from fsapps import escape
from fsapps.flows.yamlsrc import quote

# --- variables a flow may not set -------------------------------------------------

# fsapps' own markers: the controller and the CDR collector trust them. fsapps_tenant says whose
# flows run and whose rows a call writes (fsapps/apps/flow.py, fsapps/store/cdr.py); fsapps_flow,
# fsapps_node and fsapps_app pick the application; fsapps_queue, fsapps_agent, fsapps_recording,
# fsapps_call_uuid, fsapps_wait_seconds and fsapps_access_number go into the CDRs.
OWN_PREFIX = "fsapps_"
# ... except those flows set on purpose: the caller's account manager and private agent for the
# queue's sticky routing (fsapps/apps/queue.py), the number a callback goes to (fsapps/apps/callback.py).
FLOW_SETTABLE = frozenset({"fsapps_account_manager", "fsapps_private_agent", "fsapps_callback_number"})

# What FreeSWITCH sets and the CDRs, bills and surveys read (fsapps/store/cdr.py, fsapps/apps/survey.py).
SWITCH_RECORDED = frozenset({
    "start_uepoch", "answer_uepoch", "end_uepoch", "billsec", "duration", "waitsec", "hangup_cause",
    "originating_leg_uuid", "cc_agent", "cc_queue",
})  # fmt: skip

# Variables whose value FreeSWITCH 1.10.12 runs: as a dialplan application, an API command,
# a transfer anywhere, or Python code. A prefix covers every variable that starts with it.
RUNS_PREFIXES = (
    # switch_channel_execute_on (switch_channel.c:3780-3805) runs the value of every variable whose
    # name starts with its prefix (strncasecmp, l.3793): execute_on_answer, _media, _ring,
    # _pre_answer (switch_channel.c:3510, 3565, 3895), _originate (switch_ivr_originate.c), and the
    # modules' own: execute_on_fax_* (mod_spandsp_fax.c:382-724), execute_on_sip_* (sofia.c:10310,
    # sofia_glue.c:975), execute_on_media_timeout (switch_core_media.c:2822), execute_on_fsk, ...
    "execute_on_",
    # switch_channel_api_on (switch_channel.c:3700-3725, strncasecmp l.3714) runs API commands the
    # same way: api_on_answer, api_on_media, api_on_ring, ..., api_on_fax_success (mod_spandsp_fax.c:714).
    "api_on_",
    # switch_channel_api_on too, at bridge start and end (switch_ivr_bridge.c:648, 854).
    "api_before_bridge",
    "api_after_bridge",
    # bridge_pre_execute_app/_data, and the _aleg_/_bleg_ forms (switch_ivr_bridge.c:406, 1769-1781).
    "bridge_pre_execute_",
    # record_post_process_exec_app (switch_ivr_async.c:1361-1364, an execute_on prefix) and
    # record_post_process_exec_api (switch_ivr_async.c:1366, switch_ivr_play_say.c:1000).
    "record_post_process_exec_",
)
RUNS_NAMES = frozenset({
    "exec_after_bridge_app", "exec_after_bridge_arg",  # switch_ivr_bridge.c:858
    # a transfer to any extension in any context once a bridge ends (switch_ivr_bridge.c:998, 1264,
    # 1452, 1934-1936): another tenant's flows
    "transfer_after_bridge", "transfer_after_early_bridge",
    "api_hangup_hook", "session_in_hangup_hook",  # switch_core_state_machine.c:850-852
    "api_reporting_hook",  # switch_core_state_machine.c:934
    # pasted into Python source and run: sys.path.append("<value>") (mod_python3.c:248-258)
    "python_script_path",
    "loopback_app", "loopback_app_arg",  # mod_loopback.c:419-425
})  # fmt: skip


# Names the switch and fsapps read with meaning: whose variables are exported (export_vars,
# bridge_export_vars: switch_channel.c:1257-1290, switch_ivr_bridge.c:1517), where a transfer
# lands (force_transfer_*: switch_ivr.c), the channel's own UUID (OutboundCall.uuid is the
# Unique-ID, but fsapps' own code and the switch read ${uuid}), and the switch's global
# directories and settings, which a channel variable of the same name shadows when anything
# refers to it (switch_channel_get_variable_dup falls back to globals, switch_channel.c:1005):
# ${recordings_dir} names where a queue records, ${sounds_dir} what a prompt plays.
RESERVED = frozenset({
    "export_vars", "bridge_export_vars", "force_transfer_context", "force_transfer_dialplan", "uuid",
    "base_dir", "recordings_dir", "sounds_dir", "conf_dir", "log_dir", "run_dir", "db_dir", "mod_dir",
    "htdocs_dir", "script_dir", "temp_dir", "grammar_dir", "certs_dir", "storage_dir", "cache_dir",
    "data_dir", "localstate_dir", "fonts_dir", "images_dir", "default_password", "domain", "domain_name",
    "hostname", "local_ip_v4", "local_ip_v6", "core_uuid", "switchname",
})  # fmt: skip


def bare_name(name: str) -> str:
    """The variable a name sets: ``export nolocal:x`` and ``_nolocal_x`` set ``x`` on the legs
    the call bridges to (switch_channel.c:1280-1284, mod_dptools.c export)."""
    low = name.lower()
    for prefix in ("nolocal:", "_nolocal_"):
        if low.startswith(prefix):
            return name[len(prefix) :]
    return name


def variable_problem(name: str) -> str | None:
    """Why a flow may not set channel variable ``name`` (on this leg or, with a nolocal
    prefix, on the legs it bridges to), or None."""
    low = bare_name(name).lower()
    if low != name.lower() and bare_name(low) != low:
        return f"{name} names a nolocal variable twice (expected one prefix at most)"
    if low in RESERVED:
        return f"{name} is read by the switch or fsapps with a meaning of its own (expected another name)"
    if low.startswith(OWN_PREFIX) and low not in FLOW_SETTABLE:
        allowed = ", ".join(sorted(FLOW_SETTABLE))
        return f"{name} is fsapps' own variable (expected another name; flows may set only {allowed})"
    if low in SWITCH_RECORDED:
        return f"{name} is set by FreeSWITCH and read into the call records (expected another name)"
    if low in RUNS_NAMES or low.startswith(RUNS_PREFIXES):
        return f"{name} makes the switch run what it holds (expected another name)"
    return None


# --- ${...} in values ---------------------------------------------------------------

_REFERENCE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _expansions(value: str) -> Iterable[tuple[str, str]]:
    """(opening, inside) for each ``${...}`` or ``$${...}`` in ``value``, braces balanced."""
    i = 0
    while (start := value.find("${", i)) >= 0:
        opening = "$${" if start > 0 and value[start - 1] == "$" else "${"
        depth, j = 1, start + 2
        while j < len(value) and depth:
            depth += {"{": 1, "}": -1}.get(value[j], 0)
            j += 1
        yield opening, value[start + 2 : j - 1 if depth == 0 else j]
        i = j


# What a flow may refer to with ${name}: what its own nodes store (each of them inert: set and
# export values checked here, collected digits, looked-up fields fsapps stores inert), what
# fsapps' applications store, and, where the switch expands the text once only (a say value, a
# prompt), the caller's fields, which the switch itself cleans (switch_caller.h:61). Not the
# switch's globals (${default_password}) and not other channel variables (a SIP header's text
# is neither cleaned nor inert: "$\\'{...}" becomes "${...}" in one expansion).
FSAPPS_STORED = frozenset({
    "fsapps_queue", "fsapps_queue_outcome", "fsapps_agent", "fsapps_outage_id", "fsapps_callback_requested",
    "fsapps_access_number", "fsapps_account_manager", "fsapps_private_agent", "fsapps_callback_number",
})  # fmt: skip
CALLER_FIELDS = frozenset({"caller_id_name", "caller_id_number", "destination_number", "ani"})


def flow_variables(tenant: Any) -> frozenset[str]:
    """The variables a tenant's flows store themselves."""
    out: set[str] = set(FSAPPS_STORED)
    for flow in tenant.flows.values():
        for node in flow.nodes.values():
            data = node.data if isinstance(node.data, dict) else {}
            if node.type == "set" and isinstance(data.get("variables"), dict):
                out.update(bare_name(str(k)) for k in data["variables"])
            elif node.type == "collect" and isinstance(data.get("variable"), str):
                out.add(data["variable"])
            elif node.type == "lookup" and isinstance(data.get("fields"), list):
                prefix = data.get("prefix") if isinstance(data.get("prefix"), str) else ""
                out.update(f"{prefix}{f}" for f in data["fields"] if isinstance(f, str))
    return frozenset(out)


def reference_problem(value: str, known: Iterable[str], *, once: bool) -> str | None:
    """Why ``value`` may not refer to the variables it names, or None. ``once``: the switch
    expands the text once (say, prompts); otherwise it is stored and expanded again (set,
    export), where only the flow's own inert variables may be named."""
    allowed = set(known) | (CALLER_FIELDS if once else set())
    if any(ord(c) < 32 or c == "\x7f" for c in value):
        return "a control character in a value the switch reads (expected text on one line)"
    for opening, inside in _expansions(value):
        if opening == "${" and _REFERENCE.fullmatch(inside) and inside not in allowed:
            hint = ", ".join(sorted(allowed - FSAPPS_STORED - CALLER_FIELDS)[:8]) or "none yet"
            return (
                f"${{{inside}}} is not a variable this tenant's flows store (expected one set, collected "
                f"or looked up by its flows: {hint}; the switch's own settings are not readable)"
            )
    return None


def expansion_problem(value: str) -> str | None:
    """Why a flow may not write ``value`` where FreeSWITCH expands it, or None.

    ``${name args}`` and ``${name(args)}`` run the API command ``name`` (a space or a
    parenthesis makes it one: switch_channel.c:4104-4135, run at l.4227; API expansion is on
    unless switch.conf says otherwise, switch_core.c:1826): ``${system(...)}`` runs a shell.
    ``$${name}`` is the switch's global (vars.xml: passwords among them).
    """
    for opening, inside in _expansions(value):
        if opening == "$${":
            return f"$${{{inside}}} reads the switch's global settings (expected ${{name}} of a variable)"
        if not _REFERENCE.fullmatch(inside):
            return f"${{{inside}}} runs a command on the switch (expected only ${{name}} of a variable)"
    return None


# --- recordings ---------------------------------------------------------------------

# ${strftime(<format>)}: % and letters, - _ / only (no spaces, no ${...}, no parentheses).
# The same rule the queue applies when it records (fsapps.escape.recording_path).
_TEMPLATE_PART = escape.RECORD_TEMPLATE.pattern


def record_template_problem(template: str, tenant_id: str) -> str | None:
    """A queue's recording path: under the tenant's own recordings, nothing run or read."""
    base = "$${recordings_dir}/" + tenant_id + "/"
    example = base + "${strftime(%Y-%m-%d)}/${uuid}.wav"
    if not template.startswith(base) or ".." in template or template.endswith("/"):
        return f"a recording path outside {base} (expected a file under it, like {example})"
    if not re.fullmatch(_TEMPLATE_PART, template[len(base) :]):
        return (
            "a recording path may hold letters, digits, . _ - /, ${uuid} and ${strftime(<format>)} only "
            f"(expected like {example})"
        )
    return None


# --- lookup hosts -------------------------------------------------------------------


def _entry(text: str) -> tuple[str, int | None]:
    """``host``, ``host:port``, ``[v6]`` or ``[v6]:port`` -> (lowercase host, port or None)."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    else:
        host, port = text, ""
    return host.lower(), int(port) if port.isdigit() else None


def host_listed(names: Iterable[str], port: int, hosts: Iterable[str]) -> bool:
    """Is any of ``names`` (a host name, the addresses it resolved to) listed for ``port``?"""
    wanted = {n.lower() for n in names}
    for entry in hosts:
        host, entry_port = _entry(entry)
        if host in wanted and entry_port in (None, port):
            return True
    return False


def url_host(url: str) -> tuple[str, int]:
    """(host, port) of an http(s) URL; ValueError when it has none."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url}: expected http://host/... or https://host/...")
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


def lookup_url_problem(url: str, hosts: Iterable[str]) -> str | None:
    """A lookup may call only the hosts the operator listed (``lookup_hosts`` in operator.yaml)."""
    hosts = list(hosts)
    try:
        host, port = url_host(url)
    except ValueError as exc:  # a port that is not a number, no host
        return f"{quote(url)} is not a URL fsapps can call ({exc})"
    if host_listed([host], port, hosts):
        return None
    expected = f"one of: {', '.join(hosts)}" if hosts else "it listed there; none are"
    return f"lookup host {host}:{port} is not in operator.yaml's lookup_hosts (expected {expected})"


def is_public(address: str) -> bool:
    """A global unicast address: not private, loopback, link-local, multicast, reserved..."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast
