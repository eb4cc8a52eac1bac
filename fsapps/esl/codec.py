"""Event Socket frames, both ways, with no I/O.

FreeSWITCH's side of the wire (mod_event_socket.c) sends messages made of a
header block ending in a blank line and, when the block has a Content-Length,
that many bytes of body. The body of ``text/event-plain`` is itself a header
block (values URL-encoded one by one, switch_event.c:1527 switch_event_serialize)
optionally followed by its own Content-Length body.

Parsing is split in two so that the hot path stays cheap: ``MessageReader``
only frames bytes into messages (envelope headers and raw body); an event's
own headers are split into lines on first access and each value is
URL-decoded only when it is read. Lines are split *before* decoding, so an
encoded newline in caller-controlled data (``%0A``) can never forge a header.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import unquote
from xml.etree import ElementTree

__all__ = [
    "MYEVENTS",
    "ApiResponse",
    "AuthRequest",
    "Command",
    "CommandReader",
    "CommandReply",
    "DisconnectNotice",
    "Event",
    "Headers",
    "LogData",
    "Message",
    "MessageReader",
    "ProtocolError",
    "RudeRejection",
    "encode_api_response",
    "encode_auth_request",
    "encode_command",
    "encode_disconnect_notice",
    "encode_event",
    "encode_reply",
    "encode_sendmsg",
    "url_decode",
    "url_encode",
]

# What ``myevents`` subscribes a socket to (parse_command, mod_event_socket.c:2096-2118).
MYEVENTS = frozenset(
    {
        "CHANNEL_ANSWER", "CHANNEL_APPLICATION", "CHANNEL_BRIDGE", "CHANNEL_CREATE",
        "CHANNEL_DATA", "CHANNEL_DESTROY", "CHANNEL_EXECUTE", "CHANNEL_EXECUTE_COMPLETE",
        "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_ORIGINATE", "CHANNEL_UUID",
        "CHANNEL_OUTGOING", "CHANNEL_PARK", "CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA",
        "CHANNEL_STATE", "CHANNEL_UNBRIDGE", "CHANNEL_UNPARK", "DETECTED_SPEECH", "DTMF",
        "NOTALK", "TALK",
    }
)  # fmt: skip

# Frames bigger than this are refused rather than buffered: mod_event_socket
# itself caps a command at 10 MiB (read_packet, max_len = 10485760). These are
# the defaults for the authenticated inbound connection, whose ``api`` replies
# (``show channels`` on a busy switch) can be large; the outbound server, which
# any allowed peer can reach, reads with tighter ones (fsapps.esl.server).
MAX_HEADER_BLOCK = 1 << 20
MAX_BODY = 64 << 20

GOODBYE = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"


class ProtocolError(ValueError):
    """The peer sent bytes that are not an Event Socket frame."""


# --- URL encoding, as switch_url_encode_opt(double_encode=FALSE) does it -----

# switch_utils.h:47 SWITCH_URL_UNSAFE, plus every byte outside 0x20..0x7E.
_UNSAFE = frozenset(b'\r\n #%&+:;<=>?@[\\]^`{|}"')
_HEX = b"0123456789ABCDEF"
_ENCODE_TABLE = [f"%{b:02X}" if (b < 0x20 or b > 0x7E or b in _UNSAFE) else chr(b) for b in range(256)]
_NEEDS_ENCODING = re.compile(r'[^\x21-\x7e]|[\r\n #%&+:;<=>?@\[\\\]^`{|}"]')


def url_encode(value: str) -> str:
    """Encode a header value exactly as FreeSWITCH serializes it.

    An existing ``%XX`` escape with upper-case hex digits is kept, not
    double-encoded (switch_utils.c:3499); an empty value becomes ``_undef_``
    (switch_event.c:1601).
    """
    if not value:
        return "_undef_"
    if not _NEEDS_ENCODING.search(value):
        return value
    raw = value.encode("utf-8", "surrogateescape")
    out: list[str] = []
    n = len(raw)
    for i, b in enumerate(raw):
        if b == 0x25 and n - 1 - i > 1 and raw[i + 1] in _HEX and raw[i + 2] in _HEX:
            out.append("%")
        else:
            out.append(_ENCODE_TABLE[b])
    return "".join(out)


def url_decode(value: str) -> str:
    """Decode one header value (libesl's esl_url_decode on a single line)."""
    if "%" not in value:
        return value
    return unquote(value, errors="replace")


# --- Header blocks -----------------------------------------------------------


_SPLIT_HEADER = operator.methodcaller("split", ": ", 1)


class Headers(Mapping[str, str]):
    """An immutable header block, split on first use and decoded per value.

    Header names are matched exactly, as FreeSWITCH's own lookups are
    case-insensitive only for a few names; the first of duplicate names wins
    (libesl's esl_event_get_header), all are kept in ``items_raw``.
    """

    __slots__ = ("_decoded", "_encoded", "_index", "_pairs", "_text")

    def __init__(self, text: str = "", *, encoded: bool = True) -> None:
        self._text = text
        self._encoded = encoded
        self._pairs: list[tuple[str, str]] | None = None
        self._index: dict[str, str] | None = None
        self._decoded: dict[str, str] = {}

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> Headers:
        h = cls(encoded=False)
        h._pairs = list(pairs)
        return h

    def _split(self) -> dict[str, str]:
        if self._index is None:
            if self._pairs is not None:
                index: dict[str, str] = {}
                for name, value in self._pairs:
                    index.setdefault(name, value)
                self._index = index
            elif not self._text:
                self._index = {}
            else:
                lines = self._text.split("\n")
                try:
                    # One C-level pass; reversed so the first of duplicate names wins.
                    self._index = dict(map(_SPLIT_HEADER, reversed(lines)))
                except ValueError:
                    self._index = self._split_slowly(lines)
        return self._index

    @staticmethod
    def _split_slowly(lines: list[str]) -> dict[str, str]:
        index: dict[str, str] = {}
        for line in lines:
            if not line:
                continue
            name, sep, value = line.partition(": ")
            if not sep:
                if not line.endswith(":"):
                    raise ProtocolError(f"header line without ': ': {line[:80]!r}")
                name, value = line[:-1], ""
            index.setdefault(name, value)
        return index

    def _pairs_in_order(self) -> list[tuple[str, str]]:
        if self._pairs is None:
            pairs = []
            for line in self._text.split("\n"):
                if line:
                    name, _, value = line.partition(": ")
                    pairs.append((name.rstrip(":"), value))
            self._pairs = pairs
        return self._pairs

    def validate(self) -> None:
        """Raise ProtocolError unless every line is ``Name: value``.

        FreeSWITCH URL-encodes values (':' and ' ' included), so a valid
        encoded block has exactly one ': ' per line: a count in C instead of
        a split in Python.
        """
        t = self._text
        if t and (not self._encoded or t.count(": ") != t.count("\n") + 1):
            self._split()

    def _find(self, name: str) -> str | None:
        """The first ``name``'s raw value, without splitting the block."""
        if self._index is not None:
            return self._index.get(name)
        t = self._text
        key = name + ": "
        if t.startswith(key):
            start = len(key)
        else:
            i = t.find("\n" + key)
            if i < 0:
                return None
            start = i + len(key) + 1
        end = t.find("\n", start)
        return t[start:] if end < 0 else t[start:end]

    def __getitem__(self, name: str) -> str:
        try:
            return self._decoded[name]
        except KeyError:
            pass
        raw = self._find(name) if self._pairs is None else self._split().get(name)
        if raw is None:
            raise KeyError(name)
        value = url_decode(raw) if self._encoded else raw
        self._decoded[name] = value
        return value

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        return (self._find(name) if self._pairs is None else self._split().get(name)) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._split())

    def __len__(self) -> int:
        return len(self._split())

    def items_raw(self) -> list[tuple[str, str]]:
        """Every header in wire order, duplicates included, values decoded."""
        self._split()  # validates
        pairs = self._pairs_in_order()
        if not self._encoded:
            return list(pairs)
        return [(n, url_decode(v)) for n, v in pairs]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return self.items_raw() == other.items_raw()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self.items_raw()))

    def __repr__(self) -> str:
        return f"Headers({dict(self)!r})"


def _parse_envelope(text: str) -> Headers:
    headers = Headers(text)
    headers._split()  # envelope blocks are a few lines: check them all at once
    return headers


# --- Messages from FreeSWITCH ------------------------------------------------


@dataclass(frozen=True, eq=True)
class Message:
    """One frame from FreeSWITCH: its envelope headers and raw body."""

    headers: Headers
    body: bytes = b""

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass(frozen=True, eq=True)
class AuthRequest(Message):
    pass


@dataclass(frozen=True, eq=True)
class CommandReply(Message):
    @property
    def reply_text(self) -> str:
        return self.headers.get("Reply-Text", "")

    @property
    def ok(self) -> bool:
        return self.reply_text.startswith("+OK")

    @property
    def job_uuid(self) -> str | None:
        return self.headers.get("Job-UUID")


@dataclass(frozen=True, eq=True)
class ApiResponse(Message):
    @property
    def ok(self) -> bool:
        return not self.body.startswith(b"-ERR") and not self.body.startswith(b"-USAGE")


@dataclass(frozen=True, eq=True)
class DisconnectNotice(Message):
    @property
    def lingering(self) -> bool:
        return self.headers.get("Content-Disposition") == "linger"


@dataclass(frozen=True, eq=True)
class RudeRejection(Message):
    pass


@dataclass(frozen=True, eq=True)
class LogData(Message):
    pass


@dataclass(frozen=True, eq=True)
class Event(Message):
    """An event in any of the three formats; ``fields`` are its own headers."""

    @cached_property
    def _parsed(self) -> tuple[Mapping[str, str], str]:
        ctype = self.content_type
        text = self.body.decode("utf-8", "replace")
        if ctype == "text/event-json":
            return _parse_json_event(text)
        if ctype == "text/event-xml":
            return _parse_xml_event(text)
        return _parse_plain_event(text)

    @property
    def fields(self) -> Mapping[str, str]:
        return self._parsed[0]

    @property
    def payload(self) -> str:
        """The event's own body (a BACKGROUND_JOB's command output)."""
        return self._parsed[1]

    @cached_property
    def name(self) -> str:
        # Every handler's dispatch asks it (three to four times an event under load).
        return self.fields.get("Event-Name", "")

    @property
    def subclass(self) -> str | None:
        return self.fields.get("Event-Subclass")

    @property
    def uuid(self) -> str | None:
        return self.fields.get("Unique-ID")

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.fields.get(name, default)

    def __getitem__(self, name: str) -> str:
        return self.fields[name]

    def variable(self, name: str, default: str | None = None) -> str | None:
        return self.fields.get("variable_" + name, default)


def _parse_plain_event(text: str) -> tuple[Mapping[str, str], str]:
    block, _sep, rest = text.partition("\n\n")
    headers = Headers(block)
    headers.validate()
    clen = headers._find("Content-Length")
    if clen is None:
        return headers, ""
    try:
        n = int(clen)
    except ValueError as exc:
        raise ProtocolError(f"event Content-Length is not a number: {clen!r}") from exc
    payload = rest.encode("utf-8", "surrogateescape")[:n].decode("utf-8", "replace")
    return headers, payload


def _parse_json_event(text: str) -> tuple[Mapping[str, str], str]:
    try:
        obj = json.loads(text)
    except ValueError as exc:
        raise ProtocolError(f"event body is not JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise ProtocolError("event-json body is not an object")
    body = obj.pop("_body", "")
    pairs = [(str(k), v if isinstance(v, str) else json.dumps(v)) for k, v in obj.items()]
    return Headers.from_pairs(pairs), str(body)


def _parse_xml_event(text: str) -> tuple[Mapping[str, str], str]:
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        raise ProtocolError(f"event body is not XML: {exc}") from exc
    pairs = []
    hdrs = root.find("headers")
    if hdrs is not None:
        pairs = [(el.tag, url_decode(el.text or "")) for el in hdrs]
    body_el = root.find("body")
    return Headers.from_pairs(pairs), (body_el.text or "") if body_el is not None else ""


_MESSAGE_TYPES: dict[str, type[Message]] = {
    "auth/request": AuthRequest,
    "command/reply": CommandReply,
    "api/response": ApiResponse,
    "text/event-plain": Event,
    "text/event-json": Event,
    "text/event-xml": Event,
    "text/disconnect-notice": DisconnectNotice,
    "text/rude-rejection": RudeRejection,
    "log/data": LogData,
}


def _frame_length(headers: Headers, max_body: int) -> int:
    raw = headers._split().get("Content-Length")
    if raw is None:
        return 0
    try:
        n = int(raw)
    except ValueError as exc:
        raise ProtocolError(f"Content-Length is not a number: {raw!r}") from exc
    if n < 0 or n > max_body:
        raise ProtocolError(f"Content-Length {n} out of range (at most {max_body})")
    return n


class MessageReader:
    """Frames the byte stream FreeSWITCH sends into messages.

    Feed it bytes in any chunking; it returns the messages completed so far.
    After a ProtocolError the stream cannot be resynchronised and the
    connection must be closed.

    ``max_header`` and ``max_body`` bound what one peer can make it buffer:
    a header block longer than ``max_header`` bytes, or a Content-Length over
    ``max_body``, is a ProtocolError before the bytes are waited for.
    """

    __slots__ = ("_buf", "_pending", "_scan", "max_body", "max_header")

    def __init__(self, max_header: int = MAX_HEADER_BLOCK, max_body: int = MAX_BODY) -> None:
        self._buf = bytearray()
        self._scan = 0
        self._pending: tuple[Headers, int] | None = None
        self.max_header = max_header
        self.max_body = max_body

    def feed(self, data: bytes) -> list[Message]:
        buf = self._buf
        buf += data
        out: list[Message] = []
        while True:
            if self._pending is None:
                # A blank line ahead of a header block is noise, as in read_packet.
                while buf[:1] == b"\n":
                    del buf[:1]
                end = buf.find(b"\n\n", max(self._scan - 1, 0))
                if end < 0 or end > self.max_header:
                    if end > self.max_header or len(buf) > self.max_header:
                        raise ProtocolError(f"header block longer than {self.max_header} bytes")
                    self._scan = len(buf)
                    return out
                block = bytes(buf[:end]).decode("utf-8", "replace")
                del buf[: end + 2]
                self._scan = 0
                headers = _parse_envelope(block)
                if "Content-Type" not in headers:
                    raise ProtocolError(f"frame without Content-Type: {block[:80]!r}")
                self._pending = (headers, _frame_length(headers, self.max_body))
            headers, length = self._pending
            if len(buf) < length:
                return out
            body = bytes(buf[:length])
            del buf[:length]
            self._pending = None
            cls = _MESSAGE_TYPES.get(headers["Content-Type"], Message)
            out.append(cls(headers, body))

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def close(self) -> None:
        """Declare end of stream; a half-received frame is an error."""
        if self._pending is not None or self._buf.strip(b"\n"):
            raise ProtocolError("connection closed in the middle of a frame")


# --- Commands to FreeSWITCH --------------------------------------------------


@dataclass(frozen=True)
class Command:
    """A command as mod_event_socket's read_packet sees it."""

    line: str
    headers: tuple[tuple[str, str], ...] = ()
    body: str = ""

    @property
    def name(self) -> str:
        return self.line.split(" ", 1)[0].lower()

    @property
    def arg(self) -> str:
        parts = self.line.split(" ", 1)
        return parts[1].strip() if len(parts) > 1 else ""

    def header(self, name: str, default: str | None = None) -> str | None:
        lname = name.lower()
        for k, v in self.headers:
            if k.lower() == lname:
                return v
        return default

    def encode(self) -> bytes:
        return encode_command(self.line, self.headers, self.body)


def _check_single_line(what: str, value: str) -> None:
    if "\n" in value or "\r" in value:
        raise ValueError(f"{what} may not contain a line break: {value[:60]!r}")


def encode_command(line: str, headers: Sequence[tuple[str, str]] = (), body: str | bytes = "") -> bytes:
    """Serialise a command; a line break in a value would forge headers, so it is refused."""
    _check_single_line("command", line)
    parts = [line, "\n"]
    for name, value in headers:
        _check_single_line(f"header {name}", name)
        _check_single_line(f"header {name}", value)
        parts.append(f"{name}: {value}\n")
    raw_body = body.encode("utf-8") if isinstance(body, str) else body
    if raw_body:
        parts.append(f"Content-Length: {len(raw_body)}\n")
    parts.append("\n")
    return "".join(parts).encode("utf-8") + raw_body


def encode_sendmsg(
    command: str,
    headers: Sequence[tuple[str, str]],
    uuid: str | None = None,
    app_arg: str | None = None,
) -> bytes:
    """A ``sendmsg`` whose application argument travels in the body when it spans lines.

    switch_ivr.c (switch_ivr_parse_event) reads execute-app-arg from the body
    when content-type is text/plain.
    """
    line = f"sendmsg {uuid}" if uuid else "sendmsg"
    hdrs = [("call-command", command), *headers]
    if app_arg is None:
        return encode_command(line, hdrs)
    if "\n" in app_arg or "\r" in app_arg:
        return encode_command(line, [*hdrs, ("content-type", "text/plain")], app_arg)
    return encode_command(line, [*hdrs, ("execute-app-arg", app_arg)])


class CommandReader:
    """Frames the client's byte stream into commands, as read_packet does.

    mod_event_socket.c:1208: leading blank lines are skipped, ``\\r`` is
    tolerated, header values are taken after ':' and leading spaces with no
    URL decoding, and a Content-Length header is followed by that many bytes
    of body.
    """

    __slots__ = ("_buf", "_pending")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._pending: tuple[str, list[tuple[str, str]], int] | None = None

    def feed(self, data: bytes) -> list[Command]:
        buf = self._buf
        buf += data
        out: list[Command] = []
        while True:
            if self._pending is None:
                while buf[:1] in (b"\n", b"\r"):
                    del buf[:1]
                end = _find_blank_line(buf)
                if end is None:
                    if len(buf) > 10 * 1024 * 1024:
                        raise ProtocolError("command exceeds 10 MiB")
                    return out
                start_body, block_end = end
                block = bytes(buf[:block_end]).decode("utf-8", "replace")
                del buf[:start_body]
                lines = [ln.rstrip("\r") for ln in block.split("\n")]
                line, hdr_lines = lines[0], lines[1:]
                headers: list[tuple[str, str]] = []
                clen = 0
                for hl in hdr_lines:
                    if not hl:
                        continue
                    name, sep, value = hl.partition(":")
                    if not sep:
                        continue
                    value = value.lstrip(" ")
                    if name.lower() == "content-length":
                        # Framing, not content: the body carries it.
                        try:
                            clen = max(int(value), 0)
                        except ValueError as exc:
                            raise ProtocolError(f"bad content-length {value!r}") from exc
                        continue
                    headers.append((name, value))
                self._pending = (line, headers, clen)
            line, headers, clen = self._pending
            if len(buf) < clen:
                return out
            body = bytes(buf[:clen]).decode("utf-8", "replace")
            del buf[:clen]
            self._pending = None
            out.append(Command(line, tuple(headers), body))


def _find_blank_line(buf: bytearray) -> tuple[int, int] | None:
    """End of a header block: two line ends, each optionally preceded by \\r."""
    i = buf.find(b"\n")
    while i >= 0:
        j = i + 1
        if buf[j : j + 1] == b"\r":
            j += 1
        if buf[j : j + 1] == b"\n":
            return j + 1, i
        i = buf.find(b"\n", i + 1)
    return None


# --- Server-side encoders (what FreeSWITCH sends; used by fsapps.sim) -------


def _envelope(headers: Sequence[tuple[str, str]], body: bytes = b"") -> bytes:
    lines = "".join(f"{k}: {v}\n" for k, v in headers)
    return (lines + "\n").encode("utf-8") + body


def encode_auth_request() -> bytes:
    return b"Content-Type: auth/request\n\n"


def encode_reply(reply_text: str, extra: Sequence[tuple[str, str]] = ()) -> bytes:
    """A command/reply; the Reply-Text first, as mod_event_socket writes it."""
    return _envelope([("Content-Type", "command/reply"), ("Reply-Text", reply_text), *extra])


def encode_api_response(body: str) -> bytes:
    raw = body.encode("utf-8")
    return _envelope([("Content-Type", "api/response"), ("Content-Length", str(len(raw)))], raw)


def encode_disconnect_notice(extra: Sequence[tuple[str, str]] = (), body: str = GOODBYE) -> bytes:
    raw = body.encode("utf-8")
    return _envelope(
        [("Content-Type", "text/disconnect-notice"), *extra, ("Content-Length", str(len(raw)))],
        raw,
    )


def serialize_plain(fields: Sequence[tuple[str, str]], body: str | None = None) -> str:
    """switch_event_serialize(encode=TRUE): one ``Name: value`` line per header."""
    out = [f"{k}: {url_encode(v)}\n" for k, v in fields]
    if body:
        out.append(f"Content-Length: {len(body.encode('utf-8'))}\n\n{body}")
    else:
        out.append("\n")
    return "".join(out)


def serialize_json(fields: Sequence[tuple[str, str]], body: str | None = None) -> str:
    """switch_event_serialize_json (switch_event.c:1818): duplicates kept, no spaces."""
    items = list(fields)
    if body:
        items += [("Content-Length", str(len(body.encode("utf-8")))), ("_body", body)]
    dumps = json.dumps
    return (
        "{"
        + ",".join(f"{dumps(k, ensure_ascii=False)}:{dumps(v, ensure_ascii=False)}" for k, v in items)
        + "}"
    )


def serialize_xml(fields: Sequence[tuple[str, str]], body: str | None = None) -> str:
    """switch_event_xmlize: header values URL-encoded inside <headers>."""
    root = ElementTree.Element("event")
    hdrs = ElementTree.SubElement(root, "headers")
    for k, v in fields:
        ElementTree.SubElement(hdrs, k).text = url_encode(v)
    if body:
        ElementTree.SubElement(root, "body").text = body
    return ElementTree.tostring(root, encoding="unicode")


_EVENT_FORMATS = {
    "plain": ("text/event-plain", serialize_plain),
    "json": ("text/event-json", serialize_json),
    "xml": ("text/event-xml", serialize_xml),
}


def encode_event(fields: Sequence[tuple[str, str]], body: str | None = None, fmt: str = "plain") -> bytes:
    """An event as mod_event_socket sends it: Content-Length first (l.1438)."""
    try:
        ctype, serialize = _EVENT_FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown event format {fmt!r}") from None
    raw = serialize(fields, body).encode("utf-8")
    return _envelope([("Content-Length", str(len(raw))), ("Content-Type", ctype)], raw)


def event_from_fields(fields: Sequence[tuple[str, str]], body: str | None = None) -> Event:
    """Build a decoded Event in memory (tests, the emulator's own bookkeeping)."""
    raw = serialize_plain(fields, body).encode("utf-8")
    return Event(Headers.from_pairs([("Content-Type", "text/event-plain")]), raw)
