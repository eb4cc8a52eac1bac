"""A server-sent events client over real HTTP, as a browser's EventSource reads a stream:
frames of ``id:``, ``event:`` and ``data:`` lines ended by a blank line; ``:`` comments."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Frame:
    id: str
    event: str
    data: Any  # the parsed JSON
    comments: tuple[str, ...] = ()


@dataclass
class Stream:
    """One open stream. ``status`` and ``headers`` of the answer; ``body`` for an error."""

    status: int
    headers: dict[str, str]
    body: Any = None
    frames: list[Frame] = field(default_factory=list)  # every event read so far
    comments: list[str] = field(default_factory=list)
    ended: bool = False
    _resp: http.client.HTTPResponse | None = None
    _conn: http.client.HTTPConnection | None = None

    def next(self, timeout: float = 10.0) -> Frame | None:
        """The next event (heartbeats skipped into ``comments``); None once the server ended
        the stream. socket.timeout when nothing came in ``timeout`` seconds."""
        assert self._resp is not None and self._conn is not None and self._conn.sock is not None
        deadline = time.monotonic() + timeout
        fields: dict[str, str] = {}
        while True:
            left = deadline - time.monotonic()
            if left <= 0:  # heartbeats came, no event
                raise TimeoutError(f"no event within {timeout}s")
            self._conn.sock.settimeout(left)
            raw = self._resp.readline()
            if not raw:
                self.ended = True
                return None
            line = raw.decode().rstrip("\n")
            if line == "":
                if "event" in fields or "data" in fields:
                    frame = Frame(fields.get("id", ""), fields.get("event", "message"),
                                  json.loads(fields.get("data", "null")))  # fmt: skip
                    self.frames.append(frame)
                    return frame
                fields = {}
                continue
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
                continue
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value

    def until(self, wanted: Callable[[Frame], bool], timeout: float = 20.0) -> list[Frame]:
        """Events read until one that is ``wanted`` (included); AssertionError if the stream
        ends or goes quiet first."""
        deadline = time.monotonic() + timeout
        got = []
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"no wanted event within {timeout}s: {got}"
            try:
                frame = self.next(timeout=left)
            except TimeoutError:
                raise AssertionError(f"no wanted event within {timeout}s: {got}") from None
            assert frame is not None, f"the stream ended: {got}"
            got.append(frame)
            if wanted(frame):
                return got

    def rest(self, timeout: float = 10.0) -> list[Frame]:
        """Every event until the server ends the stream."""
        got = []
        while (frame := self.next(timeout)) is not None:
            got.append(frame)
        return got

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self.ended = True


def open_stream(port: int, path: str, token: str | None = None, last_id: str | None = None,
                headers: dict[str, str] | None = None) -> Stream:  # fmt: skip
    """GET the stream; for a 200, read up to its opening comment, so that the server's
    subscription exists before the caller makes anything happen."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    h = {"Accept": "text/event-stream", **(headers or {})}
    if token:
        h["Authorization"] = f"Bearer {token}"
    if last_id is not None:
        h["Last-Event-ID"] = last_id
    conn.request("GET", path, headers=h)
    resp = conn.getresponse()
    got = {k.lower(): v for k, v in resp.getheaders()}
    if resp.status != 200:
        body = resp.read()
        conn.close()
        return Stream(resp.status, got, json.loads(body) if body else None, ended=True)
    s = Stream(resp.status, got, _resp=resp, _conn=conn)
    while True:  # the opening block: retry and a comment naming where the stream starts
        line = resp.readline().decode().rstrip("\n")
        if line.startswith(":"):
            s.comments.append(line[1:].strip())
        if line == "":
            return s
