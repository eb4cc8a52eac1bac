"""What ``./dev test`` shows a user whose machine has no FreeSWITCH build (the README's Tests
section): the acceptance tier skips with one line saying how to build it, and under CI
(``CI=true``) that is a failure. Two real-switch modules are run as ``./dev test`` runs
pytest, with FSAPPS_FREESWITCH_PREFIX naming an empty folder."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.support.targets import HOW_TO_BUILD

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
# One that skips in its test, one in its module's fixture (each of its cases).
MODULES = ["tests/acceptance/test_xmlcurl_real.py", "tests/acceptance/test_xml_dialplan.py"]


def run_tier(prefix: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "CI" and not k.startswith("FSAPPS_")}
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *MODULES]
    return subprocess.run(argv, cwd=ROOT, env={**base, "FSAPPS_FREESWITCH_PREFIX": str(prefix), **env},
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_without_a_freeswitch_build_the_acceptance_tier_skips_with_one_line_saying_how_to_build_it(
    tmp_path,
) -> None:
    claim = "Without a FreeSWITCH build the acceptance tier skips with one line saying how to build it"
    assert claim in " ".join(README.split())
    got = run_tier(tmp_path)
    assert got.returncode == 0, got.stdout[-3000:]
    total = re.search(r"^(\d+) skipped in ", got.stdout, re.M)  # pytest's own last line
    assert total is not None and int(total[1]) > 1, got.stdout[-3000:]
    said = [line for line in got.stdout.splitlines() if "FreeSWITCH" in line]
    assert said == [f"{total[1]} skipped: {HOW_TO_BUILD}"], got.stdout[-3000:]
    assert "build.sh" in HOW_TO_BUILD and "FSAPPS_FREESWITCH_PREFIX" in HOW_TO_BUILD
    # In CI the same run fails, saying why.
    ci = run_tier(tmp_path, CI="true")
    assert ci.returncode == 1, ci.stdout[-3000:]
    assert f"{HOW_TO_BUILD}; CI must run the acceptance tier on the real switch" in ci.stdout
