"""A queue's tiers rewritten in a tenant.yaml's text, the rest of the file kept as written
(comments, order, quoting): the HTTP API's tiers edit, which then goes live as an upload
of that file does (fsapps.flows.upload), so tenant.yaml stays the one place tiers live.

ruamel.yaml's round trip keeps what PyYAML (the flows' reader) drops: comments and
layout. What it reads is then compared with what the flows' reader sees, before and
after, so a file it would rewrite in any other way is refused rather than changed.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError as RuamelError


@dataclass(frozen=True)
class TierEntry:
    agent: str
    level: int = 1
    position: int | None = None  # None: its place in the list, as tenant.yaml reads a bare id


class TiersError(Exception):
    """``code``: no_tenant_yaml (unreadable), no_such_queue, not_kept (the file would change elsewhere)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def as_yaml(tiers: Sequence[TierEntry]) -> CommentedSeq:
    """The tiers as tenant.yaml writes them (README: ``[cn_li, {agent: cn_zhao, level: 2}]``):
    a bare id where level and position are what a bare id means, on one line."""
    out = CommentedSeq()
    out.fa.set_flow_style()
    for i, t in enumerate(tiers, start=1):
        if t.level == 1 and t.position in (None, i):
            out.append(t.agent)
            continue
        item = CommentedMap(agent=t.agent)
        item.fa.set_flow_style()
        if t.level != 1:
            item["level"] = t.level
        if t.position not in (None, i):
            item["position"] = t.position
        out.append(item)
    return out


def rewrite(text: str, queue: str, tiers: Sequence[TierEntry]) -> str:
    """``text`` (a tenant.yaml) with ``queues.<queue>.tiers`` replaced by ``tiers``."""
    rt = YAML()
    rt.preserve_quotes = True
    rt.width = 4096  # long lines stay one line
    indent, offset = _indents(text)
    rt.indent(mapping=indent, sequence=offset + 2, offset=offset)  # "- " after the dash
    try:
        before = yaml.safe_load(text)
        data = rt.load(text)
    except (yaml.YAMLError, RuamelError) as exc:
        raise TiersError("no_tenant_yaml", f"tenant.yaml does not read as YAML: {exc}") from None
    queues = data.get("queues") if isinstance(data, CommentedMap) else None
    if not isinstance(queues, CommentedMap) or queue not in queues:
        raise TiersError("no_such_queue", f"no queue {queue!r} in tenant.yaml")
    if not isinstance(queues[queue], CommentedMap):
        raise TiersError("not_kept", f"queue {queue!r} is not a mapping in tenant.yaml: upload it instead")
    queues[queue]["tiers"] = as_yaml(tiers)
    out = io.StringIO()
    rt.dump(data, out)
    after = out.getvalue()
    _kept(before, yaml.safe_load(after), queue)
    return after


def _indents(text: str) -> tuple[int, int]:
    """How the file indents (ruamel.yaml writes one way throughout): a nested mapping's
    keys, and a block sequence's dashes under their key; 2 and 0 if it does not say."""
    indent = offset = None
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    for above, line in itertools.pairwise(lines):
        if not above.rstrip().endswith(":"):
            continue
        depth = len(above) - len(above.lstrip())
        inner = len(line) - len(line.lstrip())
        if inner <= depth:
            continue
        if line.lstrip().startswith("- "):
            offset = offset if offset is not None else inner - depth
        elif indent is None:
            indent = inner - depth
    return indent or 2, offset or 0


def _kept(before: Any, after: Any, queue: str) -> None:
    """Everything the flows read but this queue's tiers is as it was."""

    def without_tiers(doc: Any) -> Any:
        doc = dict(doc)
        queues = dict(doc["queues"])
        queues[queue] = {k: v for k, v in (queues[queue] or {}).items() if k != "tiers"}
        return {**doc, "queues": queues}

    if without_tiers(before) != without_tiers(after):
        raise TiersError(
            "not_kept",
            "tenant.yaml cannot be rewritten without changing more than the tiers: upload it instead",
        )
