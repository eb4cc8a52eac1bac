"""YAML that remembers where each value came from.

Mappings load as ``YMap`` (a dict) and sequences as ``YList`` (a list); both
keep the position of each of their values, so a problem found later can be
reported as ``file:line:col``. Duplicate keys are an error, as a silent
last-wins would hide a mistake.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


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

    def at(self, key: Any) -> Where:
        """Where the value of ``key`` is, or the mapping itself when it is absent."""
        return self.value_where.get(key, self.where)

    def key_at(self, key: Any) -> Where:
        return self.key_where.get(key, self.where)


class YList(list[Any]):
    where: Where
    item_where: list[Where]

    def at(self, index: int) -> Where:
        return self.item_where[index] if 0 <= index < len(self.item_where) else self.where


def at(container: Any, key: Any, fallback: Where) -> Where:
    """Where ``container[key]`` came from, for any loaded value (defaults have no position)."""
    if isinstance(container, YMap | YList):
        return container.at(key)
    return fallback


class YamlProblem(ValueError):
    def __init__(self, where: Where, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


def _where(node: yaml.Node, file: str) -> Where:
    m = node.start_mark
    return Where(file, m.line + 1, m.column + 1)


# libyaml's parser when the wheel has it (it does on Linux): about 8x faster than the pure one.
_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[valid-type,misc]
    file = "<string>"

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> YMap:
        out = YMap()
        out.where = _where(node, self.file)
        out.key_where, out.value_where = {}, {}
        self.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) or key is None:
                raise YamlProblem(_where(key_node, self.file), "a key must be a plain value")
            key = str(key) if not isinstance(key, str) else key
            if key in out:
                raise YamlProblem(_where(key_node, self.file), f"duplicate key {key!r}")
            out[key] = self.construct_object(value_node, deep=True)
            out.key_where[key] = _where(key_node, self.file)
            out.value_where[key] = _where(value_node, self.file)
        return out

    def construct_yaml_seq(self, node: yaml.SequenceNode):
        out = YList()
        out.where = _where(node, self.file)
        out.item_where = [_where(n, self.file) for n in node.value]
        yield out
        out.extend(self.construct_object(n, deep=True) for n in node.value)

    def construct_yaml_map(self, node: yaml.MappingNode):
        yield self.construct_mapping(node)


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_yaml_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _Loader.construct_yaml_seq)


def load(path: str | Path, text: str | None = None) -> Any:
    """Load one YAML document; syntax errors raise YamlProblem with the position."""
    file = str(path)
    source = Path(path).read_text(encoding="utf-8") if text is None else text
    loader = _Loader(source)
    loader.file = file
    try:
        return loader.get_single_data()
    except YamlProblem:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Where(file, mark.line + 1, mark.column + 1) if mark else Where(file, 1, 1)
        raise YamlProblem(where, f"not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise YamlProblem(Where(file, 1, 1), f"not valid YAML: {exc}") from None
    finally:
        loader.dispose()
