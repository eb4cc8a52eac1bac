"""sipp as the caller on the real switch: one call from a scenario template.

The templates in tests/acceptance/sipp/ hold ``{name}`` placeholders (caller,
timings, the digit recording) filled here; sipp's own keywords stay in [..].
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from fsapps.testing.sipp import run_bound, start_bound

SCENARIOS = Path(__file__).resolve().parents[1] / "acceptance" / "sipp"
DTMF = Path("/usr/share/sip-tester")
HOW_TO_INSTALL = "no sipp: apt-get install sip-tester (./dev test does it when run as root)"


def sipp_available() -> None:
    if shutil.which("sipp") and (DTMF / "dtmf_2833_0.pcap").exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{HOW_TO_INSTALL}; CI must run the SIP scenarios")
    pytest.skip(HOW_TO_INSTALL)


def digit_pcap(digit: str) -> str:
    name = {"*": "star", "#": "pound"}.get(digit, digit)
    return str(DTMF / f"dtmf_2833_{name}.pcap")


@dataclass
class SippRun:
    returncode: int
    output: str

    @property
    def completed(self) -> bool:
        """sipp's exit status 0: every call of the scenario ended successfully."""
        return self.returncode == 0


def place_call(scenario: str, port: int, service: str, *, timeout: float = 90.0, **fields: object) -> SippRun:
    """One call to ``service`` at the switch's SIP ``port`` on loopback."""
    text = (SCENARIOS / f"{scenario}.xml").read_text().format(**fields)
    with tempfile.TemporaryDirectory(prefix="fsapps-sipp-") as d:
        path = Path(d) / f"{scenario}.xml"
        path.write_text(text)
        proc = run_bound(
            lambda own, media: [
                "sipp", f"127.0.0.1:{port}", "-sf", str(path), "-s", service, "-m", "1", "-l", "1",
                "-i", "127.0.0.1", "-p", str(own), "-mi", "127.0.0.1", "-mp", str(media),
                "-timeout", f"{int(timeout)}s", "-timeout_error", "-nostdin", "-trace_err",
            ],
            Path(d), capture_output=True, text=True, timeout=timeout + 30,
        )  # fmt: skip
        errors = "".join(p.read_text(errors="replace") for p in Path(d).glob("*_errors.log"))
        return SippRun(proc.returncode, proc.stdout[-2000:] + proc.stderr[-2000:] + errors[-3000:])


class Phone:
    """sipp as a phone that takes one call on ``port`` (an agent), in the background."""

    def __init__(self, scenario: str, *, timeout: float = 120.0, **fields: object) -> None:
        self.dir = tempfile.TemporaryDirectory(prefix="fsapps-sipp-uas-")
        path = Path(self.dir.name) / f"{scenario}.xml"
        path.write_text((SCENARIOS / f"{scenario}.xml").read_text().format(**fields))
        # Ready once it holds its SIP and media ports (fsapps.testing.sipp).
        self.proc, self.port = start_bound(
            lambda port, media: [
                "sipp", "-sf", str(path), "-m", "1", "-i", "127.0.0.1", "-p", str(port),
                "-mi", "127.0.0.1", "-mp", str(media), "-rtp_echo",
                "-timeout", f"{int(timeout)}s", "-timeout_error", "-nostdin", "-trace_err",
            ],
            cwd=self.dir.name, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def contact(self, user: str) -> str:
        return f"sofia/external/{user}@127.0.0.1:{self.port}"

    def wait(self, timeout: float = 120.0) -> SippRun:
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        errors = "".join(p.read_text(errors="replace") for p in Path(self.dir.name).glob("*_errors.log"))
        self.dir.cleanup()
        return SippRun(self.proc.returncode, (out or b"").decode(errors="replace")[-2000:] + errors[-3000:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()
