"""The settings the README names are the ones fsapps accepts: a setting renamed or removed in the
code fails here, and so does one the README invents."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from fsapps import config
from fsapps.flows.schema import TENANT

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = README.index(title)
    end = README.find("\n## ", start + 1)
    return README[start : end if end > 0 else len(README)]


def test_the_controller_settings_block_loads_as_written(tmp_path) -> None:
    block = re.search(r"```yaml\n(esl: .*?)```", README, re.S)
    assert block is not None
    path = tmp_path / "fsapps.yaml"
    path.write_text(block.group(1))
    settings = config.load(path, env={})
    written = yaml.safe_load(block.group(1))
    for section, values in written.items():
        for key, value in values.items():
            got = getattr(getattr(settings, section), key)
            assert got == value or (isinstance(got, float) and got == float(value)), (section, key, got)


def test_every_queue_setting_the_readme_names_is_accepted() -> None:
    text = _section("## Queues, agents and supervisors")
    intro = text[: text.index("```yaml")]
    named = set(re.findall(r"`([a-z]+(?:-[a-z]+)+)`", intro))
    queue_settings = set(TENANT["properties"]["queues"]["additionalProperties"]["properties"])
    strategies = set(
        TENANT["properties"]["queues"]["additionalProperties"]["properties"]["strategy"].get("enum", [])
    )
    assert named, "the README names no queue setting"
    assert named <= queue_settings | strategies, sorted(named - queue_settings - strategies)


def test_the_readme_queue_example_checks_against_the_schema() -> None:
    text = _section("## Queues, agents and supervisors")
    block = re.search(r"```yaml\n(queues:.*?)```", text, re.S)
    assert block is not None
    import jsonschema

    queues = yaml.safe_load(block.group(1))
    jsonschema.validate(queues, {"type": "object", "properties": {"queues": TENANT["properties"]["queues"]}})
