"""The JSON Schemas shipped for editors: equal to what fsapps checks with, and the examples fit them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator

from fsapps.flows.schema import PATTERN_HINTS, SCHEMA_DIR, editor_schemas

EXAMPLES = Path(__file__).resolve().parents[2] / "dialplan"


def test_written_schemas_are_current() -> None:
    for name, schema in editor_schemas().items():
        written = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))
        written.pop("$schema")
        assert written == json.loads(json.dumps(schema)), f"run: python -m fsapps.flows.schema ({name})"


def test_every_example_file_names_its_schema_and_fits_it() -> None:
    files = sorted(EXAMPLES.rglob("*.yaml"))
    assert len(files) >= 10
    for path in files:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        m = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
        assert m, f"{path}: first line should name its schema"
        schema_path = (path.parent / m.group(1)).resolve()
        assert schema_path.parent == SCHEMA_DIR.resolve(), path
        schema = json.loads(schema_path.read_text(encoding="utf-8"))
        errors = list(
            Draft202012Validator(schema).iter_errors(yaml.safe_load(path.read_text(encoding="utf-8")))
        )
        assert errors == [], f"{path}: {errors[0].message if errors else ''}"


def test_editor_schema_knows_each_node_types_fields() -> None:
    flow = editor_schemas()["flow"]
    node = flow["properties"]["nodes"]["additionalProperties"]
    menu = next(rule for rule in node["allOf"] if rule["if"]["properties"]["type"]["const"] == "menu")
    data = menu["then"]["properties"]["data"]
    assert data["additionalProperties"] is False and "prompt" in data["required"]
    bad = {"nodes": {"m": {"type": "menu", "data": {"promt": "x"}}}}
    assert list(Draft202012Validator(flow).iter_errors(bad))


def _patterns(schema: object) -> set[str]:
    if isinstance(schema, dict):
        own = {schema["pattern"]} if isinstance(schema.get("pattern"), str) else set()
        return own.union(*(_patterns(v) for v in schema.values()))
    if isinstance(schema, list):
        return set().union(*(_patterns(v) for v in schema))
    return set()


def test_every_pattern_is_explained_in_words() -> None:
    """A message's "expected" never shows a regex: each pattern in the schemas has words."""
    patterns = set().union(*(_patterns(s) for s in editor_schemas().values()))
    assert len(patterns) >= 15
    assert patterns - set(PATTERN_HINTS) == set()
