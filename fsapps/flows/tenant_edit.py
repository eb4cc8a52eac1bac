"""One calendar or prompt of a tenant.yaml rewritten in its text, the rest of the file kept
as written (comments, order, quoting): the HTTP API's business-hours and prompt edits, which
then go live as an upload of that file does (fsapps.flows.upload), as the tiers' edit does
(fsapps.flows.tiers, whose round trip this shares).

Every string written is double-quoted, so the flows' reader (PyYAML) reads back exactly the
text given: an unquoted ``2027-01-01`` would be a date to it. What it reads after is compared
with what it read before plus the change, so a file that would change anywhere else is
refused rather than rewritten."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError as RuamelError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from fsapps.flows.tiers import TiersError, _indents

SECTIONS = ("calendars", "prompts")


# From which depth mappings are written on one line, as the README's examples write them:
# ``welcome: {file: cablenet/welcome.wav}``; a calendar's days one a line, each period inline.
FLOW_FROM = {"prompts": 1, "calendars": 3}


def _node(value: Any, depth: int, flow_from: int) -> Any:
    """``value`` as ruamel writes it: mappings as blocks above ``flow_from``, inline from
    there; sequences inline (``holidays: ["2027-01-01"]``); every string quoted."""
    if isinstance(value, Mapping):
        out = CommentedMap((k, _node(v, depth + 1, flow_from)) for k, v in value.items())
        if depth >= flow_from:
            out.fa.set_flow_style()
        return out
    if isinstance(value, list | tuple):
        seq = CommentedSeq(_node(v, depth + 1, flow_from) for v in value)
        seq.fa.set_flow_style()
        return seq
    if isinstance(value, str):
        return DoubleQuotedScalarString(value)
    return value


def set_entry(text: str, section: str, name: str, value: Mapping[str, Any]) -> str:
    """``text`` (a tenant.yaml) with ``<section>.<name>`` set to ``value`` (added at the end
    of the section if new; the section added if missing). Raises TiersError (its codes:
    no_tenant_yaml, not_kept)."""
    rt, before, data = _load(text, section)
    entries = data.get(section)
    if entries is None:
        entries = data[section] = CommentedMap()
    if not isinstance(entries, CommentedMap):
        raise TiersError("not_kept", f"{section} is not a mapping in tenant.yaml: upload it instead")
    entries[name] = _node(dict(value), 1, FLOW_FROM[section])
    return _dumped(rt, data, {**before, section: {**(before.get(section) or {}), name: _plain(value)}},
                   f"{section}.{name}")


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def remove_entry(text: str, section: str, name: str) -> str:
    """``text`` (a tenant.yaml) without ``<section>.<name>``, the rest kept as written.
    Raises TiersError (no_tenant_yaml, not_kept) as ``set_entry`` does, and KeyError when
    there is no such entry."""
    rt, before, data = _load(text, section)
    entries = data.get(section)
    if not isinstance(entries, CommentedMap) or name not in entries:
        raise KeyError(name)
    del entries[name]
    kept = {k: v for k, v in (before.get(section) or {}).items() if k != name}
    return _dumped(rt, data, {**before, section: kept}, f"{section}.{name}")


def _load(text: str, section: str) -> tuple[YAML, dict[str, Any], CommentedMap]:
    """A round-trip loader set to ``text``'s own indents, the plain data (what the edit is
    checked against) and the round-trip document."""
    if section not in SECTIONS:
        raise ValueError(f"not an editable section: {section}")
    rt = YAML()
    rt.preserve_quotes = True
    rt.width = 4096
    indent, offset = _indents(text)
    rt.indent(mapping=indent, sequence=offset + 2, offset=offset)
    try:
        before = yaml.safe_load(text)
        data = rt.load(text)
    except (yaml.YAMLError, RuamelError) as exc:
        raise TiersError("no_tenant_yaml", f"tenant.yaml does not read as YAML: {exc}") from None
    if not isinstance(data, CommentedMap) or not isinstance(before, dict):
        raise TiersError("no_tenant_yaml", "tenant.yaml is not a mapping: upload it instead")
    return rt, before, data


def _dumped(rt: YAML, data: CommentedMap, wanted: dict[str, Any], what: str) -> str:
    """The edited document as text, if it reads back as ``wanted``: nothing but ``what``
    changed (else TiersError not_kept)."""
    out = io.StringIO()
    rt.dump(data, out)
    after = out.getvalue()
    if yaml.safe_load(after) != wanted:
        raise TiersError("not_kept", f"tenant.yaml cannot be rewritten without changing more than"
                                     f" {what}: upload it instead")  # fmt: skip
    return after
