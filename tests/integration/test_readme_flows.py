"""The README's flow example is valid and does what its text says."""

from __future__ import annotations

import re
import wave
from pathlib import Path

from fsapps.flows.check import check
from fsapps.flows.simulate import simulate

README = Path(__file__).resolve().parents[2] / "README.md"


def yaml_blocks() -> dict[str, str]:
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n# (dialplan/\S+)\n(.*?)```", text, re.S)
    return {path: body for path, body in blocks}


def test_readme_flow_example_checks_clean_and_runs(tmp_path: Path) -> None:
    blocks = yaml_blocks()
    assert set(blocks) == {"dialplan/acme/tenant.yaml", "dialplan/acme/flows/main.yaml"}
    for rel, body in blocks.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(body)
    prompt = tmp_path / "sounds/en/acme/8000/hello.wav"
    prompt.parent.mkdir(parents=True)
    with wave.open(str(prompt), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 8000)
    assert check(tmp_path / "dialplan").problems == []
    trace = simulate(tmp_path / "dialplan", "acme", digits=["2", "123456"], at=_monday_10(),
                     variables={"acme_balance": "42.10"}, speed=50, hangup_after=40)  # fmt: skip
    assert ("main.find", "found") in trace.branches
    assert "say en CURRENCY pronounced 42.10" in trace.prompts


def _monday_10():
    from datetime import datetime

    return datetime(2026, 11, 23, 10, 0)
