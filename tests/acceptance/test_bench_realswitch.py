"""`./dev bench realswitch` as the README describes it, at a tiny size on the real switch:
the same sipp load through a mod_callcenter queue and through the fsapps ACD, offered and
bridged latencies by the switch's clock, calls served, and fsapps' ratio to
mod_callcenter. Its figures are noise at this size; what it prints is not."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.targets import real_switch_available

ROOT = Path(__file__).resolve().parents[2]
ROW = r"\s+[\d.]+" * 6 + r"\s+(\d+)/(\d+) \((\d+)\)"


def test_realswitch_bench_runs_both_systems_and_prints_its_figures_and_ratios() -> None:
    real_switch_available()
    if shutil.which("sipp") is None:
        pytest.skip("the bench's callers and phones are sipp (apt-get install sip-tester)")
    got = subprocess.run(
        ["./dev", "bench", "realswitch", "--rates", "2", "--seconds", "2", "--min-calls", "4",
         "--talk", "1", "--warmup", "0"],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    out = got.stdout
    assert got.returncode == 0, out[-2000:] + got.stderr[-3000:]
    assert "2 calls/s, 4 calls each" in out, out
    assert re.search(r"offered ms\s+bridged ms\s+completed", out), out
    for system in ("mod_callcenter", "fsapps"):
        row = re.search(rf"^{system}{ROW}$", out, re.M)
        assert row is not None, out + got.stderr[-3000:]
        served, placed, sipp_ok = map(int, row.groups())
        assert (served, placed) == (4, 4) and sipp_ok == 4, row.group(0) + "\n" + got.stderr[-3000:]
    ratio = re.search(r"^fsapps/mod_callcenter" + r"\s+[\d.]+x" * 7 + "$", out, re.M)
    assert ratio is not None, out
    assert re.search(r"offered p99 by rate: mod_callcenter 2/s \d+ ms; fsapps 2/s \d+ ms", out), out
    busy = re.search(r"cores busy \(everything on it\): mod_callcenter (\d+)%, fsapps (\d+)%", out)
    assert busy is not None and all(0 <= int(b) <= 100 for b in busy.groups()), out
    # Every caller's place is written (the join) at the least: a figure read from PostgreSQL.
    db = re.search(r"PostgreSQL per call: ([\d.]+) transactions that wrote or notified, ([\d.]+) KiB", out)
    assert db is not None and float(db.group(1)) >= 1 and float(db.group(2)) > 0, out
