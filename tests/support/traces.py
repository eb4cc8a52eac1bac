"""Load the Event Socket conversations recorded against a real FreeSWITCH.

The recordings live in ``../shared/fs-traces`` (or ``$FSAPPS_SHARED/fs-traces``).
Their README says the HOSTNAME and /PATH placeholders changed some messages'
lengths without their Content-Length headers: ``repair_lengths`` recomputes
them so the joined stream is byte-exact framing again.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def shared_dir() -> Path:
    return Path(os.environ.get("FSAPPS_SHARED", ROOT.parent / "shared"))


def traces_dir() -> Path:
    d = shared_dir() / "fs-traces"
    if not d.is_dir():
        if os.environ.get("CI"):
            raise FileNotFoundError(f"{d} is missing; CI keeps ../shared beside the clone")
        pytest.skip(f"recorded traces not found at {d} (set FSAPPS_SHARED)")
    return d


@dataclass(frozen=True)
class Line:
    t: float
    dir: str
    conn: int
    data: bytes
    eof: bool = False


@dataclass(frozen=True)
class Trace:
    name: str
    header: dict
    lines: tuple[Line, ...]

    def from_fs(self, conn: int = 1) -> list[bytes]:
        return [ln.data for ln in self.lines if ln.dir == "from_fs" and ln.conn == conn and not ln.eof]

    def stream(self, conn: int = 1) -> bytes:
        return b"".join(self.from_fs(conn))

    def to_fs(self, conn: int = 1) -> list[bytes]:
        return [ln.data for ln in self.lines if ln.dir == "to_fs" and ln.conn == conn]


_CLEN = re.compile(rb"^Content-Length: (\d+)$", re.M)


def repair_lengths(msg: bytes) -> bytes:
    head, sep, body = msg.partition(b"\n\n")
    if b"Content-Length: " not in head:
        return msg
    if b"Content-Type: text/event-plain" in head:
        inner_head, isep, inner_body = body.partition(b"\n\n")
        if isep and _CLEN.search(inner_head):
            inner_head = _CLEN.sub(b"Content-Length: %d" % len(inner_body), inner_head)
            body = inner_head + isep + inner_body
    head = _CLEN.sub(b"Content-Length: %d" % len(body), head)
    return head + sep + body


def load(name: str) -> Trace:
    path = traces_dir() / f"{name}.jsonl"
    rows = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
    lines = []
    for r in rows[1:]:
        if "data_b64" in r:
            import base64

            data = base64.b64decode(r["data_b64"])
        else:
            data = r.get("data", "").encode()
        if r["dir"] == "from_fs" and data:
            data = repair_lengths(data)
        lines.append(Line(r["t"], r["dir"], r.get("conn", 0), data, bool(r.get("eof"))))
    return Trace(name, rows[0], tuple(lines))


ALL = [
    "s01_inbound_auth_api",
    "s02_inbound_events_call",
    "s03_inbound_events_json",
    "s04_outbound_ivr",
    "s05_outbound_caller_hangup",
    "s06_originate_bridge",
]
