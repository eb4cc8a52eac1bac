"""The same scenario's Event Socket conversations on both targets, compared.

Each acceptance scenario records what the controller said and heard
(fsapps.testing.conversation) on the real FreeSWITCH and on fsapps.sim. The
conversations are outlined: commands with run-specific values normalised
(UUIDs, times, ports, temporary directories), replies by their text, and
only the events fsapps reads, by name (with the application for
CHANNEL_EXECUTE_COMPLETE) and with the headers fsapps reads. The outlines
must be equal except where DELIBERATE (tests/support/replay.py) says why.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable

from fsapps.esl import codec
from fsapps.testing.conversation import Conversation, Recorder
from tests.support.replay import DELIBERATE

# The events an outbound session handles (fsapps/esl/server.py _init_handlers), the
# BACKGROUND_JOB an inbound client waits on, and the headers read from each.
READ_EVENTS: dict[str, tuple[str, ...]] = {
    "CHANNEL_EXECUTE_COMPLETE": ("Unique-ID", "Application", "Application-UUID", "Event-Date-Timestamp"),
    "DTMF": ("Unique-ID", "DTMF-Digit", "Event-Date-Timestamp"),
    "CHANNEL_ANSWER": ("Unique-ID", "Event-Date-Timestamp"),
    "CHANNEL_HANGUP": ("Unique-ID", "Hangup-Cause", "Event-Date-Timestamp"),
    "CHANNEL_HANGUP_COMPLETE": ("Unique-ID", "Hangup-Cause", "Event-Date-Timestamp"),
    "CHANNEL_BRIDGE": ("Unique-ID", "Other-Leg-Unique-ID", "Bridge-A-Unique-ID", "Bridge-B-Unique-ID"),
    "CHANNEL_UNBRIDGE": ("Unique-ID", "Other-Leg-Unique-ID", "Bridge-A-Unique-ID", "Bridge-B-Unique-ID"),
    "BACKGROUND_JOB": ("Job-UUID",),
}

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
EPOCH = re.compile(r"\b1[0-9]{9}(\.[0-9]+)?\b")
# Whole seconds, quoted in a multiset and bare in a dial string: which second it lands
# on is the clock's (and the machine's load), not the controller's.
WAITED = re.compile(r"fsapps_queue_wait='?[0-9]+'?")
PORT = re.compile(r"(127\.0\.0\.1|localhost):[0-9]+")
TMP = re.compile(r"/tmp/\S*?/(dialplan|recordings|conf|state)\b")
# The agents' phones: sipp's SIP URIs on the real switch, registered users in the emulator.
CONTACT = re.compile(r"sofia/[a-z]+/\S+?@127\.0\.0\.1:<port>")


def normalise(text: str) -> str:
    text = UUID.sub("<uuid>", text)
    text = EPOCH.sub("<time>", text)
    text = WAITED.sub("fsapps_queue_wait=<seconds>", text)
    text = PORT.sub(r"\1:<port>", text)
    return TMP.sub(r"<tmp>/\1", text)


def _command(cmd: codec.Command) -> str:
    if cmd.name == "sendmsg":
        what = cmd.header("call-command") or ""
        if what == "execute":
            arg = cmd.header("execute-app-arg") or cmd.body
            return normalise(f"> execute {cmd.header('execute-app-name')} {arg}".rstrip())
        return normalise(f"> {what} {cmd.header('hangup-cause') or ''}".rstrip())
    return normalise(f"> {cmd.line}")


def _heard(msg: codec.Message) -> str | None:
    if isinstance(msg, codec.Event):
        wanted = READ_EVENTS.get(msg.name)
        if wanted is None:
            return None
        line = f"< {msg.name}"
        if msg.name == "CHANNEL_EXECUTE_COMPLETE":
            line += f" {msg.get('Application')}"
        missing = [h for h in wanted if h not in msg.fields]
        if missing:
            line += f" (no {', '.join(missing)})"
        return line
    if isinstance(msg, codec.CommandReply):
        if "Event-Name" in msg.headers:
            return "< connected"
        return normalise(f"< {msg.reply_text}")
    if isinstance(msg, codec.ApiResponse):
        return normalise(f"< {msg.text.strip().splitlines()[0] if msg.text.strip() else ''}")
    if isinstance(msg, codec.DisconnectNotice):
        return "< disconnect" + (" (linger)" if msg.lingering else "")
    return None


def outline(conv: Conversation) -> list[str]:
    lines: list[str] = [f"[{conv.kind}]"]
    for entry in conv.entries:
        msg = entry.message
        line = _command(msg) if isinstance(msg, codec.Command) else _heard(msg)
        if line is not None:
            lines.append(line)
    return lines


def outlines(recorder: Recorder) -> list[list[str]]:
    return [outline(c) for c in recorder.conversations]


def _without_break_retries(lines: list[str]) -> list[str]:
    """One ``uuid_break`` (and its reply) per application, however many were sent."""
    out: list[str] = []
    broken = False
    skip_reply = False
    for line in lines:
        if line.startswith("> execute "):
            broken = False
        if line.startswith("> api uuid_break "):
            if broken:
                skip_reply = True
                continue
            broken = True
        elif skip_reply and line.startswith("< +OK"):
            skip_reply = False
            continue
        out.append(line)
    return out


def _without_broken_clips(lines: list[str]) -> list[str]:
    """Drop each playback the controller broke (a hold clip) with its breaks; the call's
    other lines, which may arrive while the clip plays, stay in their order."""
    out: list[str] = []
    clip: list[str] | None = None  # the open playback's own lines
    broken = False
    for line in lines:
        if line.startswith("> execute playback "):
            if clip is not None:
                out.extend(clip)
            clip, broken = [line], False
            continue
        if clip is not None:
            if line.startswith("> api uuid_break "):
                broken = True
                clip.append(line)
                continue
            if line == "< +OK" and clip[-1].startswith(">"):
                clip.append(line)
                continue
            if line == "< CHANNEL_EXECUTE_COMPLETE playback":
                if not broken:
                    out.extend([*clip, line])
                clip = None
                continue
            if line.startswith("> "):
                # The controller moved on before the clip completed.
                out.extend(clip)
                clip = None
        out.append(line)
    if clip is not None:
        out.extend(clip)
    return out


def _hangup_tail(lines: list[str]) -> list[str]:
    if "< CHANNEL_HANGUP" not in lines:
        return lines
    # The linger notice goes out the moment the listener sees the channel down
    # (mod_event_socket.c:1465-1486, read_packet), which can be before the switch has
    # queued the CHANNEL_HANGUP event for it (seen on 1.10.12): it counts as the tail's.
    early = "< disconnect (linger)" in lines[: lines.index("< CHANNEL_HANGUP")]
    if early:
        lines = [line for line in lines if line != "< disconnect (linger)"]
    at = lines.index("< CHANNEL_HANGUP") + 1
    raced = ("< CHANNEL_EXECUTE_COMPLETE socket", "< CHANNEL_HANGUP_COMPLETE", "< disconnect (linger)")
    tail = [line for line in lines[at:] if line not in raced]
    notice = ["< disconnect (linger)"] if early or "< disconnect (linger)" in lines[at:] else []
    if "> exit" in tail:
        i = tail.index("> exit")
        tail = [*tail[:i], *notice, *tail[i:]]
    else:
        tail += notice
    return [*lines[:at], *tail]


def _no_digits_after_hangup(lines: list[str]) -> list[str]:
    if "< CHANNEL_HANGUP" not in lines:
        return lines
    at = lines.index("< CHANNEL_HANGUP") + 1
    return [*lines[:at], *(line for line in lines[at:] if line != "< DTMF")]


def _completions_early(lines: list[str]) -> list[str]:
    """Each CHANNEL_EXECUTE_COMPLETE as early as the commands allow: just after its own
    execute's reply, moving back over commands and replies only (never over an event)."""
    out: list[str] = []
    matched: dict[str, int] = {}  # app -> how many of its executes have completed
    for line in lines:
        if not line.startswith("< CHANNEL_EXECUTE_COMPLETE "):
            out.append(line)
            continue
        app = line.split(" ", 2)[2]
        executes = [i for i, o in enumerate(out) if o.split(" ")[:3] == [">", "execute", app]]
        n = matched.get(app, 0)
        matched[app] = n + 1
        floor = executes[n] + 1 if n < len(executes) else len(out)
        if floor < len(out) and out[floor] == "< +OK":
            floor += 1  # after its own reply
        at = len(out)
        while at > floor and (out[at - 1].startswith("> ") or out[at - 1].startswith("< +OK")):
            at -= 1
        out.insert(at, line)
    return out


SOCKET_RESUME_OFF = "> api uuid_setvar <uuid> socket_resume false"


def _socket_resume_after_the_bridge(lines: list[str]) -> list[str]:
    """The bridged caller's socket_resume command and its reply, put right after the
    CHANNEL_BRIDGE that prompted it (the controller sends it from its event loop)."""
    out = list(lines)
    for i in [i for i, line in enumerate(out) if line == SOCKET_RESUME_OFF]:
        reply = next((j for j in range(i + 1, len(out)) if out[j].startswith(("< +OK", "< -ERR"))), None)
        bridge = max((j for j in range(i) if out[j] == "< CHANNEL_BRIDGE"), default=None)
        if reply is None or bridge is None:
            continue
        answer = out.pop(reply)
        command = out.pop(i)
        out[bridge + 1 : bridge + 1] = [command, answer]
    return out


# A dial-string value: the date's comma is full-width there (fsapps.escape.dial_value).
RFC2822_DATE = re.compile(r",RFC2822_DATE=[^,}\]]*")

# Each normalisation for a deliberate difference, by its name in DELIBERATE.
RULES: dict[str, Callable[[list[str]], list[str]]] = {
    "uuid_break retries": _without_break_retries,  # before the clips' rule: it keeps one break
    "RFC2822_DATE exported": lambda lines: [RFC2822_DATE.sub("", line) for line in lines],
    "agents' phones": lambda lines: [CONTACT.sub("<phone>", line) for line in lines],
    "hold music between offers": _without_broken_clips,  # on the order as heard: breaks, then completion
    "completions of queued executes": _completions_early,
    "the hangup's tail": _hangup_tail,
    "digits after the hangup": _no_digits_after_hangup,
    "the bridged caller's socket_resume": _socket_resume_after_the_bridge,
}


def comparable(conversations: list[Conversation]) -> list[str]:
    out: list[str] = []
    for conv in conversations:
        lines = outline(conv)
        for rule in RULES.values():
            lines = rule(lines)
        out += lines
    return out


def differences(sim: list[Conversation], real: list[Conversation]) -> str:
    """'' when the outlines agree, else a unified diff (emulator first)."""
    a, b = comparable(sim), comparable(real)
    if a == b:
        return ""
    return "\n".join(difflib.unified_diff(a, b, "fsapps.sim", "FreeSWITCH", lineterm="", n=3))


_first_seen: dict[str, tuple[str, list[Conversation]]] = {}


def agree(scenario: str, where: str, conversations: list[Conversation]) -> None:
    """Compare with the other target's run of the same scenario once both have run (the
    parametrized test runs once per target); the first run only keeps its conversations."""
    other = _first_seen.pop(scenario, None)
    if other is None or other[0] == where:
        _first_seen[scenario] = (where, conversations)
        return
    runs = {where: conversations, other[0]: other[1]}
    same(scenario, runs["sim"], runs["real"])


def same(scenario: str, sim: list[Conversation], real: list[Conversation]) -> None:
    assert sim and real, f"scenario {scenario}: no conversation recorded ({len(sim)} / {len(real)})"
    diff = differences(sim, real)
    assert not diff, f"scenario {scenario}: the controller's conversations differ\n{diff}"


assert set(RULES) <= set(DELIBERATE), set(RULES) - set(DELIBERATE)
