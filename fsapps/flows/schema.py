"""JSON Schemas for the YAML files, and their errors as ``file:line:col`` problems.

The same definitions validate what ``fsapps check`` reads and are written
to ``fsapps/flows/schemas/*.schema.json`` for editors (the YAML language
server completes and checks files that name them). A test keeps the
written files equal to these definitions.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from fsapps.acd.config import queue_schema
from fsapps.flows.model import Problem
from fsapps.flows.nodes import NODE_TYPES
from fsapps.flows.nodes.base import PROMPT_NAME
from fsapps.flows.nodes.set_vars import VARIABLE
from fsapps.flows.yamlsrc import Where, YList, YMap, quote, show, slip_message, written

# No "__": it separates flow and node in extension numbers (fx__<flow>__<node>).
NAME = r"^[a-z0-9]+(_[a-z0-9]+)*$"
HHMM_RANGE = r"^([01]\d|2[0-4]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$"
DAYS = r"^(mon|tue|wed|thu|fri|sat|sun)(-(mon|tue|wed|thu|fri|sat|sun))?(,(mon|tue|wed|thu|fri|sat|sun)(-(mon|tue|wed|thu|fri|sat|sun))?)*$"  # noqa: E501
DATE = r"^\d{4}-\d{2}-\d{2}$"
DATETIME = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$"
# A lookup host: a name or IPv4 address, or an IPv6 address in brackets; with a port or not.
LOOKUP_HOST = r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$"

OPERATOR = {
    "$id": "https://fsapps.invalid/schemas/operator.schema.json",
    "title": "fsapps operator settings (dialplan/operator.yaml)",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "controllers": {
            "type": "array", "minItems": 1,
            "items": {"type": "string", "pattern": r"^[A-Za-z0-9.:\[\]-]+:\d+$"},
            "description": "fsapps controllers (host:port), tried in order",
        },
        "controller_choice": {
            "type": "string", "enum": ["in-order", "spread"],
            "description": "in-order (default): each call goes to the first controller that answers; "
                           "spread: each call starts at a controller its UUID picks, the others "
                           "following in turn, so calls spread evenly over the controllers",
        },
        "tts": {"type": "object", "additionalProperties": False,
                "properties": {"engine": {"type": "string"}, "voice": {"type": "string"}}},
        "sounds": {"type": "string", "description": "where the prompts are deployed on the switch"},
        "gateways": {"type": "array", "items": {"type": "string"}},
        "lookup_hosts": {
            "type": "array", "items": {"type": "string", "pattern": LOOKUP_HOST},
            "description": "the hosts lookup nodes may call (host, or host:port for that port only); "
                           "a host on a private, loopback or link-local address must be listed here",
        },
        "runtime": {"type": "string", "enum": ["esl", "embedded"],
                    "description": "where logic nodes run: the controller over outbound ESL (default), "
                                   "or inside FreeSWITCH through mod_python3"},
    },
}  # fmt: skip

CALENDAR = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "weekly": {
            "type": "object",
            "propertyNames": {"pattern": DAYS},
            "additionalProperties": {
                "oneOf": [
                    {"type": "string", "pattern": HHMM_RANGE},
                    {"type": "array", "items": {"type": "string", "pattern": HHMM_RANGE}, "minItems": 1},
                ]
            },
        },
        "holidays": {"type": "array", "items": {"type": "string", "pattern": DATE}},
        "closed": {
            "type": "array",
            "items": {
                "type": "object", "additionalProperties": False, "required": ["from", "to"],
                "properties": {"from": {"type": "string", "pattern": DATETIME},
                               "to": {"type": "string", "pattern": DATETIME}},
            },
        },
    },
}  # fmt: skip

PROMPT = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "file": {"type": "string", "description": "a WAV under sounds/<language>/"},
        "text": {"type": "string", "description": "spoken by the TTS engine"},
    },
    "oneOf": [{"required": ["file"]}, {"required": ["text"]}],
}

TENANT = {
    "$id": "https://fsapps.invalid/schemas/tenant.schema.json",
    "title": "fsapps tenant (dialplan/<tenant>/tenant.yaml)",
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "name", "domain", "timezone", "language"],
    "properties": {
        "id": {"type": "string", "pattern": NAME},
        "name": {"type": "string", "minLength": 1},
        "domain": {"type": "string", "pattern": r"^[A-Za-z0-9.-]+$"},
        "timezone": {"type": "string", "description": "an IANA zone, e.g. Asia/Shanghai"},
        "language": {"type": "string", "enum": ["en", "zh"]},
        "access_numbers": {
            "type": "object",
            "propertyNames": {"pattern": r"^\+?[0-9*#]+$"},
            "additionalProperties": {"type": "string", "pattern": NAME, "description": "the flow it starts"},
        },
        "calendars": {"type": "object", "propertyNames": {"pattern": NAME}, "additionalProperties": CALENDAR},
        "prompts": {
            "type": "object",
            "propertyNames": {"pattern": r"^[A-Za-z0-9_.-]+$"},
            "additionalProperties": PROMPT,
        },
        "queues": {
            "type": "object",
            "propertyNames": {"pattern": NAME},
            "additionalProperties": queue_schema(),
        },
    },
}


def node_schema(for_editors: bool = False) -> dict[str, Any]:
    node: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["type"],
        "properties": {
            "type": {"type": "string", "enum": sorted(NODE_TYPES)},
            "data": {"type": "object"},
            "children": {
                "type": "object",
                "additionalProperties": {"type": "string", "pattern": NAME},
                "description": "branch name -> node id",
            },
        },
    }
    if for_editors:
        node["allOf"] = [
            {
                "if": {"properties": {"type": {"const": name}}},
                "then": {"properties": {"data": t.data_schema()}, "description": t.summary},
            }
            for name, t in sorted(NODE_TYPES.items())
        ]
    return node


def flow_schema(for_editors: bool = False) -> dict[str, Any]:
    return {
        "$id": "https://fsapps.invalid/schemas/flow.schema.json",
        "title": "fsapps call flow (dialplan/<tenant>/flows/<flow>.yaml)",
        "type": "object",
        "additionalProperties": False,
        "required": ["nodes"],
        "properties": {
            "name": {"type": "string", "pattern": NAME},
            "start": {"type": "string", "pattern": NAME},
            "nodes": {
                "type": "object",
                "propertyNames": {"pattern": NAME},
                "additionalProperties": node_schema(for_editors),
                "minProperties": 1,
            },
        },
    }


def editor_schemas() -> dict[str, dict[str, Any]]:
    return {"operator": OPERATOR, "tenant": TENANT, "flow": flow_schema(for_editors=True)}


SCHEMA_DIR = Path(__file__).parent / "schemas"


def write_editor_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for name, schema in editor_schemas().items():
        path = directory / f"{name}.schema.json"
        path.write_text(json.dumps({"$schema": "https://json-schema.org/draft/2020-12/schema", **schema},
                                   indent=2, ensure_ascii=False) + "\n")  # fmt: skip
        out.append(path)
    return out


# --- validation with positions ------------------------------------------------------

# What each pattern means, in words: a regex is never the "expected" of a message.
PATTERN_HINTS = {
    NAME: "lowercase letters, digits and _",
    HHMM_RANGE: "a time range like 08:00-18:30",
    DAYS: "days like mon-fri or sat,sun",
    DATE: "a date like 2026-12-25",
    DATETIME: "a date and time like 2026-12-24 18:00",
    LOOKUP_HOST: "a host name or address, with :port or not, like api.example.com or 127.0.0.1:8090",
    VARIABLE: "a variable name: letters, digits and _, not starting with a digit",
    PROMPT_NAME["pattern"]: "letters, digits and _ . -",
    r"^[A-Za-z0-9_-]+$": "letters, digits, _ and -",
    r"^[a-z0-9_]+$": "lowercase letters, digits and _",
    r"^[a-z_][a-z0-9_]*$": "lowercase letters, digits and _, not starting with a digit",
    r"^[A-Za-z0-9.:\[\]-]+:\d+$": "host:port, like 127.0.0.1:8084",
    r"^[A-Za-z0-9.-]+$": "a domain like acme.example",
    r"^\+?[0-9*#]+$": "a number of digits, * and #, with + first for an international one, in quotes",
    r"^\+?[0-9]+$": "a phone number of digits, with + first for an international one, in quotes",
    r"^[A-Za-z0-9_*#+-]+$": "an extension: letters, digits and _ * # + -",
    r"^[0-9*#]$": "one key, in quotes: a digit, * or #",
    r"^[A-Z]{3}$": "a currency code like HKD",
    "^https?://": "an http:// or https:// URL",
}


def _locate(doc: Any, path: list[Any]) -> tuple[Any, Any]:
    """The container holding the value at ``path`` and the last key."""
    parent, key = None, None
    node = doc
    for step in path:
        parent, key = node, step
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            break
    return parent, key


def _where(doc: Any, path: list[Any], fallback: Where) -> Where:
    parent, key = _locate(doc, path)
    if isinstance(parent, YMap):
        return parent.at(key)
    if isinstance(parent, YList) and isinstance(key, int):
        return parent.at(key)
    if isinstance(doc, YMap | YList):
        return doc.where
    return fallback


def _container(doc: Any, path: list[Any]) -> Any:
    parent, key = _locate(doc, path)
    return parent[key] if parent is not None and path else doc


def _describe(value: Any, as_written: str | None = None) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return show(value, as_written)


def _read_as(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, date):
        return "a date"
    return "nothing" if value is None else "something else"


def _not_text(value: Any, text: str | None) -> str | None:
    """For a scalar YAML read as other than text where text was expected: what to write."""
    if text is None or value is None or isinstance(value, str | dict | list):
        return None
    return slip_message(value, text) or (
        f'YAML reads the unquoted {text} as {_read_as(value)} (expected it in quotes: "{text}")'
    )


def explain(err: ValidationError, doc: Any, fallback: Where) -> Problem:
    path = list(err.absolute_path)
    v, s = err.validator, err.schema
    parent, key = _locate(doc, path)
    text = written(parent, key) if path else None
    if v == "additionalProperties":
        container = err.instance
        extra = sorted(k for k in container if k not in s.get("properties", {})
                       and not any(re.search(p, k) for p in s.get("patternProperties", {})))  # fmt: skip
        where = _where(doc, path, fallback)
        if isinstance(container, YMap) and extra:
            where = container.key_at(extra[0])
        allowed = ", ".join(sorted(s.get("properties", {})))
        name = extra[0] if extra else "?"
        hint = _colon_hint(name)
        return Problem(where, f"unknown field {quote(name)}{hint} (expected one of: {allowed})")
    if v == "required":
        missing = err.message.split("'")[1] if "'" in err.message else "?"
        where = err.instance.where if isinstance(err.instance, YMap) else _where(doc, path, fallback)
        return Problem(where, f"missing field {quote(missing)}")
    where = _where(doc, path, fallback)
    if "propertyNames" in err.absolute_schema_path:
        # The instance is the key itself; the path is its mapping's.
        container = _container(doc, path)
        bad = err.instance if isinstance(err.instance, str) else "?"
        if isinstance(container, YMap) and bad in container:
            where = container.key_at(bad)
        return Problem(where, f"name {quote(bad)} is not allowed here (expected {_pattern_hint(s)})")
    if v == "type":
        want = s["type"] if isinstance(s["type"], str) else " or ".join(s["type"])
        wants_text = "string" in ([s["type"]] if isinstance(s["type"], str) else s["type"])
        if wants_text and (message := _not_text(err.instance, text)) is not None:
            return Problem(where, message)
        return Problem(where, f"expected {_article(want)}, got {_describe(err.instance, text)}")
    if v == "enum":
        options = [str(o) for o in s["enum"]]
        if str(err.instance) == text and text in options and (message := _not_text(err.instance, text)):
            return Problem(where, message)
        shown = "no value" if err.instance is None else f"unexpected value {show(err.instance, text)}"
        return Problem(where, f"{shown} (expected one of: {', '.join(options)})")
    if v == "pattern":
        return Problem(where, f"unexpected value {show(err.instance)} (expected {_pattern_hint(s)})")
    if v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        lo = s.get("minimum", s.get("exclusiveMinimum"))
        hi = s.get("maximum", s.get("exclusiveMaximum"))
        shown = show(err.instance, text)
        low = "above" if "exclusiveMinimum" in s else "from"
        span = f"{low} {lo} to {hi}" if hi is not None else f"{low} {lo}"
        return Problem(where, f"{shown} is out of range (expected a number {span})")
    if v in ("oneOf", "anyOf"):
        fitting = _branch_of_its_kind(err)
        if fitting is not None:  # a tier {agent, level: 0}: what is wrong inside the mapping
            return explain(fitting, doc, fallback)
        if isinstance(err.instance, str):
            forms = [o for o in s.get("oneOf") or s.get("anyOf") or [] if o.get("type") == "string"]
            if forms and "pattern" in forms[0]:
                return Problem(
                    where, f"unexpected value {show(err.instance)} (expected {_pattern_hint(forms[0])})"
                )
        return Problem(where, f"{_describe(err.instance, text)} does not fit (expected {_one_of_hint(s)})")
    if v in ("minItems", "minProperties", "minLength"):
        return Problem(where, "must not be empty")
    if v in ("maxItems", "maxProperties"):
        return Problem(where, f"too many (expected at most {s[v]})")
    return Problem(where, err.message)


def _branch_of_its_kind(err: ValidationError) -> ValidationError | None:
    """Of a oneOf whose one branch alone takes a value of this JSON type (a mapping where
    the others are strings), that branch's first error: said about what is wrong in it."""
    kinds = {"object": YMap, "array": list, "string": str}
    branches = err.schema.get("oneOf") or err.schema.get("anyOf") or []
    mine = [i for i, b in enumerate(branches) if isinstance(err.instance, kinds.get(b.get("type"), ()))]
    if len(mine) != 1:
        return None
    inside = [e for e in err.context or () if e.schema_path and e.schema_path[0] == mine[0]]
    return inside[0] if inside else None


def _colon_hint(name: str) -> str:
    """An unknown field that is a key and value run together: 'prompt:hello', 'prompt：hello'."""
    for colon in (":", "\uff1a"):
        k, sep, rest = name.partition(colon)
        if sep and k:
            return f": a key and value run together? (write '{k}: {rest.strip()}', a ':' and a space)"
    return ""


def _article(word: str) -> str:
    names = {"object": "a mapping", "array": "a list", "string": "a string", "integer": "a whole number",
             "number": "a number", "boolean": "true or false"}  # fmt: skip
    return names.get(word, word)


def _pattern_hint(s: dict[str, Any]) -> str:
    pattern = s.get("pattern", "")
    # Every pattern in the schemas has words (tests/unit/test_flows_schema.py); a regex is the last resort.
    return PATTERN_HINTS.get(pattern) or s.get("description") or f"a value matching {pattern}"


def _one_of_hint(s: dict[str, Any]) -> str:
    options = s.get("oneOf") or s.get("anyOf") or []
    keys = [sorted(o.get("required", [])) for o in options if o.get("required")]
    if keys:
        return "exactly one of: " + ", ".join("/".join(k) for k in keys)
    return "one of the allowed forms"


def validate(doc: Any, schema: dict[str, Any], fallback: Where) -> list[Problem]:
    validator = Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(doc), key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    # A value of the wrong type outside a list of choices fails both "type" and "enum": one
    # problem is enough, the choices' (which says when quoting it is all it takes).
    choices = {tuple(map(str, e.absolute_path)) for e in errors if e.validator == "enum"}
    errors = [e for e in errors
              if not (e.validator == "type" and tuple(map(str, e.absolute_path)) in choices)]  # fmt: skip
    seen: set[tuple[Where, str]] = set()
    out = []
    for err in errors:
        p = explain(err, doc, fallback)
        if (p.where, p.message) not in seen:
            seen.add((p.where, p.message))
            out.append(p)
    return out


if __name__ == "__main__":  # python -m fsapps.flows.schema: rewrite the editor schemas
    for path in write_editor_schemas():
        print(path)
