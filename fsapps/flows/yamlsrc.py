"""YAML that remembers where each value came from, and how it was written.

Mappings load as ``YMap`` (a dict) and sequences as ``YList`` (a list); both
keep the position of each of their values, so a problem found later can be
reported as ``file:line:col``. Duplicate keys are an error, as a silent
last-wins would hide a mistake.

YAML 1.1 reads some unquoted text as something else: ``02164321234`` is the
octal number 298951324, ``+8613800000000`` loses its ``+``, ``on`` is true,
``2026-10-01`` a date. The text as written is kept beside such values
(``written``) so messages can quote what the person wrote, and a number
that does not read back as it was written is a "slip" worth reporting.

Aliases (``*name``) are refused where they are met, before anything is
built from them: nine nested aliases in 1.5 KB (a "billion laughs") expand
to hundreds of millions of values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.events import AliasEvent

STR_TAG = "tag:yaml.org,2002:str"


@dataclass(frozen=True)
class Where:
    file: str
    line: int  # 1-based
    col: int  # 1-based

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class YMap(dict[str, Any]):
    where: Where
    key_where: dict[Any, Where]
    value_where: dict[Any, Where]
    # Values YAML read as something other than text (a number, true, a date,
    # nothing), as they were written; and keys read as numbers or true/false.
    written: dict[Any, str]
    key_written: dict[Any, str]

    def at(self, key: Any) -> Where:
        """Where the value of ``key`` is, or the mapping itself when it is absent."""
        return self.value_where.get(key, self.where)

    def key_at(self, key: Any) -> Where:
        return self.key_where.get(key, self.where)


class YList(list[Any]):
    where: Where
    item_where: list[Where]
    written: dict[int, str]

    def at(self, index: int) -> Where:
        return self.item_where[index] if 0 <= index < len(self.item_where) else self.where


def new_map(where: Where) -> YMap:
    out = YMap()
    out.where, out.key_where, out.value_where, out.written, out.key_written = where, {}, {}, {}, {}
    return out


def at(container: Any, key: Any, fallback: Where) -> Where:
    """Where ``container[key]`` came from, for any loaded value (defaults have no position)."""
    if isinstance(container, YMap | YList):
        return container.at(key)
    return fallback


def written(container: Any, key: Any) -> str | None:
    """How ``container[key]`` was written, when YAML read it as something other than text."""
    if isinstance(container, YMap | YList):
        return getattr(container, "written", {}).get(key)
    return None


class YamlProblem(ValueError):
    def __init__(self, where: Where, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


# --- values as a person writes them -------------------------------------------------


def quote(text: str) -> str:
    """``text`` as a YAML quoted string: single quotes, or double with escapes when needed."""
    if any(c < " " or c == "\x7f" for c in text):
        return json.dumps(text, ensure_ascii=False)
    return "'" + text.replace("'", "''") + "'"


def show(value: Any, as_written: str | None = None) -> str:
    """A value in messages, as YAML text (never a Python repr); ``as_written`` wins."""
    if value is None:
        return "nothing"
    if as_written is not None:
        return as_written
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{show(k)}: {_inner(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_inner(v) for v in value) + "]"
    return quote(str(value))


def _inner(value: Any) -> str:
    return "null" if value is None else show(value)


def slip_message(value: Any, text: str, key: bool = False) -> str | None:
    """What YAML made of an unquoted ``text``, when that is not what was written; else None.

    Only whole numbers and (for keys) true/false: ``1.50`` read as 1.5 loses nothing.
    """
    what = "key " if key else ""
    if isinstance(value, bool):
        if not key:
            return None
        read = "true" if value else "false"
        return f'YAML reads the unquoted {what}{text} as {read} (expected it in quotes: "{text}")'
    if not isinstance(value, int) or str(value) == text:
        return None
    digits = text.lstrip("+-")
    kind = "octal number" if len(digits) > 1 and digits[0] == "0" and digits[1:2].isdigit() else "number"
    return f'YAML reads the unquoted {what}{text} as the {kind} {value} (expected it in quotes: "{text}")'


# --- loading ----------------------------------------------------------------------


def _where(mark: Any, file: str) -> Where:
    return Where(file, mark.line + 1, mark.column + 1)


# libyaml's parser when the wheel has it (it does on Linux): about 8x faster than the pure one.
# Its events are composed into nodes here, in Python, so that an alias is refused where it is.
_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(Composer, _Base):  # type: ignore[valid-type,misc]
    file = "<string>"

    def __init__(self, stream: str) -> None:
        _Base.__init__(self, stream)
        Composer.__init__(self)
        self.slips: list[YamlProblem] = []

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(AliasEvent):
            event = self.get_event()
            raise YamlProblem(
                _where(event.start_mark, self.file),
                f"an alias *{event.anchor} (expected the value written out: "
                "fsapps files take no YAML anchors and aliases)",
            )
        return super().compose_node(parent, index)

    def _note(self, node: yaml.Node, value: Any, into: dict[Any, str], key: Any, is_key: bool) -> None:
        if isinstance(node, yaml.ScalarNode) and node.tag != STR_TAG and not node.style:
            into[key] = node.value
            message = slip_message(value, node.value, key=is_key)
            if message is not None:
                self.slips.append(YamlProblem(_where(node.start_mark, self.file), message))

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> YMap:
        out = new_map(_where(node.start_mark, self.file))
        self.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) or key is None:
                raise YamlProblem(_where(key_node.start_mark, self.file), "a key must be a plain value")
            text_key = str(key) if not isinstance(key, str) else key
            if text_key in out:
                raise YamlProblem(_where(key_node.start_mark, self.file), f"duplicate key {quote(text_key)}")
            value = self.construct_object(value_node, deep=True)
            out[text_key] = value
            out.key_where[text_key] = _where(key_node.start_mark, self.file)
            out.value_where[text_key] = _where(value_node.start_mark, self.file)
            self._note(key_node, key, out.key_written, text_key, True)
            self._note(value_node, value, out.written, text_key, False)
        return out

    def construct_yaml_seq(self, node: yaml.SequenceNode):
        out = YList()
        out.where = _where(node.start_mark, self.file)
        out.item_where = [_where(n.start_mark, self.file) for n in node.value]
        out.written = {}
        yield out
        for i, n in enumerate(node.value):
            value = self.construct_object(n, deep=True)
            out.append(value)
            self._note(n, value, out.written, i, False)

    def construct_yaml_map(self, node: yaml.MappingNode):
        yield self.construct_mapping(node)


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_yaml_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _Loader.construct_yaml_seq)


def load(path: str | Path, text: str | None = None, slips: list[YamlProblem] | None = None) -> Any:
    """Load one YAML document; syntax errors raise YamlProblem with the position.

    ``slips``: where to add the numbers YAML read otherwise than written (the
    document still loads; the caller decides they are problems).
    """
    from fsapps.flows.yamlerrors import explain_syntax

    file = str(path)
    source = Path(path).read_text(encoding="utf-8") if text is None else text
    loader = _Loader(source)
    loader.file = file
    try:
        doc = loader.get_single_data()
    except YamlProblem:
        raise
    except yaml.MarkedYAMLError as exc:
        where, message = explain_syntax(exc, source)
        raise YamlProblem(Where(file, *where), message) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(Where(file, 1, 1), f"not valid YAML: {exc}") from None
    except RecursionError:
        message = "nested too deep (expected a few levels of indentation)"
        raise YamlProblem(Where(file, 1, 1), message) from None
    finally:
        loader.dispose()
    if slips is not None:
        slips += loader.slips
    return doc
