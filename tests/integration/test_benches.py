"""Each benchmark the README lists that needs no real FreeSWITCH, run as ``./dev bench NAME`` at
tiny sizes: it finishes, and prints each figure the README says it measures with the ratio
against its bound or peer. The figures themselves are not judged (the sizes are too small to
mean anything); that the command still runs and still says what the README says it says is.
All eight take about 45 s here."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import readme

ROOT = Path(__file__).resolve().parents[2]
N = r"-?[\d,]+(?:\.\d+)?"  # a number as the benches print them: 1,234.5

# name -> (tiny sizes, what it must print: one pattern per figure or ratio the README names)
BENCHES: dict[str, tuple[list[str], list[str]]] = {
    "esl": (["--events", "200", "--calls", "10", "--concurrency", "5"], [
        # the codec against merely reading the bytes (bound) and against greenswitch (peer)
        rf"read the bytes only \(bound\) +{N} events/s",
        rf"greenswitch [\d.]+ \(peer\) +{N} events/s",
        rf"ratio fsapps / greenswitch: {N}x; fsapps / bound: {N}",
        # calls through fsapps serve against the same steps run natively
        rf"through fsapps serve: +{N} calls/s",
        rf"ratio serve / native calls/s: {N}",
    ]),
    "store": (["--records", "100", "--greenlets", "5", "--per", "2", "--spool", "500", "--chunk", "100",
               "--transactions", "20"], [
        rf"ratio executemany / single: {N}x; COPY / single: {N}x",
        rf"\(b\) CDR writes from 5 concurrent greenlets.*\n +{N} writes/s; latency p50 {N} ms",
        rf"spool replay of 500 usage records.*\n.*replay / COPY: {N}",
        rf"\(d\) the tenant wall.*(?:\n.*)*\n +one usage record inserted +{N} +{N} +{N}x",
    ]),
    "sockets": (["--calls", "40", "--concurrency", "4", "--checks", "1000"], [
        rf"ratio now/before: {N}",
        rf"refused at accept \(outside allow_from\): +{N} connections/s",
        rf"_admit \(allow-list \+ cap\), per accept +{N} µs",
        rf"known tenant, per record +{N} µs",
        rf"added per call: {N} ms",
    ]),
    "render": (["--tenants", "3"], [
        rf"check \+ render +{N} s +{N}x load",
    ]),
    "ivr": (["--calls", "4", "--concurrency", "2", "--latency-calls", "2", "--latency-concurrency", "1",
             "--accounts", "50"], [
        rf"native +{N} sessions/s \(4 completed, 0 failed\)",
        rf"handoff +{N} sessions/s \(4 completed, 0 failed\)",
        rf"controller +{N} sessions/s \(4 completed, 0 failed\)",
        rf"ratio handoff / native: sessions/s {N}; latency per prompt p50 {N}x",
        rf"ratio controller / native: sessions/s {N}; latency per prompt p50 {N}x",
    ]),
    "acd": (["--rounds", "2", "--calls", "300"], [
        r"decide\(\) with 1,000 agents, 50 queues, 5,000 waiting members",
        rf"ratio decide/bound {N}x",
        rf"Erlang C SL20 {N}%, ASA {N} s; SL ratio {N}",
        rf"skills-based / dedicated: SL ratio {N}, ASA ratio {N}",
    ]),
    "acd_live": (["--calls", "6", "--rate", "10", "--agents", "4", "--offers", "3"], [
        r"fsapps ACD +6/6 bridged",
        rf"ratio \(p50\): {N}x the switch's own bridge",
        rf"NOTIFY round trip \(bound\): p50 {N} ms",
        rf"ratio \(p99\): {N}x the bound",
    ]),
    "events": (["--changes", "20"], [
        rf"\(1\) own controller +20/20: p50 {N} ms, p99 {N} ms",
        rf"\(2\) another controller +20/20: p50 {N} ms, p99 {N} ms",
        rf"\(3\) committed in the db +20/20: p50 {N} ms, p99 {N} ms",
        rf"ratio \(p99\): own {N}x the notifier; another controller {N}x, db {N}x the NOTIFY round trip",
    ]),
}  # fmt: skip
NEEDS_CHROMIUM: set[str] = set()  # benches that drive Chromium: skipped without it, except under CI


def test_the_readme_lists_these_benches_and_the_realswitch_ones() -> None:
    listed = re.findall(r"^- `\./dev bench (\w+)`", readme.section("## Benchmarks"), re.M)
    # Run by hand: the real switch's three, and console_live (Chromium; the browser tier's
    # test_floor_live covers the same path in CI).
    by_hand = {"realswitch", "controller_kill", "ivr_realswitch", "console_live"}
    assert set(BENCHES) | by_hand == set(listed), listed
    assert {p.stem for p in (ROOT / "bench").glob("*.py")} == set(listed)


@pytest.mark.parametrize("name", list(BENCHES))
def test_each_bench_runs_and_prints_its_figures_and_ratios(name: str) -> None:
    args, figures = BENCHES[name]
    if name in NEEDS_CHROMIUM and not (os.environ.get("FSAPPS_CHROMIUM") or shutil.which("chromium")):
        if os.environ.get("CI"):
            pytest.fail("no chromium on PATH")
        pytest.skip("no chromium on PATH (apt-get install chromium; ./dev test does)")
    got = subprocess.run(
        ["./dev", "bench", name, *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert got.returncode == 0, got.stdout[-2000:] + got.stderr[-3000:]
    missing = [f for f in figures if re.search(f, got.stdout) is None]
    assert missing == [], got.stdout
