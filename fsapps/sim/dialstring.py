"""How switch_ivr_originate reads a dial string, as the switch does it.

After the application's argument is expanded (the bridge app's, once):

1. a dial string holding ``:_:`` is several originates at once
   (switch_ivr_originate.c:1689, SWITCH_ENT_ORIGINATE_DELIM);
2. leading blanks go; ``<...>`` and then ``{...}`` blocks give variables for
   every leg (l.2286-2311); each block ends at the first matching closing
   bracket, quotes or not (switch_find_end_paren, switch_utils.c), and its
   body is split on ``,`` (or ``^^x``) by switch_separate_string, each part
   on its first ``=`` (switch_event_create_brackets, switch_event.c:1664);
3. the rest is split on ``|`` into groups tried in turn (l.2736), and each
   group on ``,`` into legs rung at once (l.2831), except for commas inside a
   leg's ``[...]`` (l.2798-2829);
4. a leg's ``[...]`` blocks give its own variables (l.2862-2893); the rest is
   the endpoint.

Quotes and backslashes act only where switch_separate_string reads them
(fsapps.sim.strings); brackets are never quoted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fsapps.sim.strings import separate_string

ENTERPRISE = ":_:"
_UNQUOTED_COMMA = "\x02"  # UNQUOTED_ESC_COMMA, switch_ivr_originate.c:36
_QUOTED_COMMA = "\x01"


@dataclass
class Leg:
    endpoint: str
    variables: dict[str, str] = field(default_factory=dict)


@dataclass
class DialString:
    variables: dict[str, str]
    groups: list[list[Leg]]
    enterprise: list[str] = field(default_factory=list)  # set when ``:_:`` split it


def find_end_paren(s: str, start: int, open_: str, close: str) -> int:
    """Index of the bracket closing the one at ``start`` (after blanks), or -1."""
    i = start
    while i < len(s) and s[i] == " ":
        i += 1
    if i >= len(s) or s[i] != open_:
        return -1
    depth = 1
    for j in range(i + 1, len(s)):
        if s[j] == open_ and open_ != close:
            depth += 1
        elif s[j] == close:
            depth -= 1
            if not depth:
                return j
    return -1


def brackets(data: str, open_: str, close: str, delim: str, into: dict[str, str]) -> str | None:
    """switch_event_create_brackets on ``data`` (which starts with ``open_``): the variables
    go into ``into``; returns what follows the block, or None for a parse error."""
    end = find_end_paren(data, 0, open_, close)
    if end < 0:
        return None
    body = data[data.index(open_) + 1 : end]
    if body.startswith("^^") and len(body) > 2:
        delim, body = body[2], body[3:]
    for part in separate_string(body, delim, 1024) if body else []:
        pair = separate_string(part, "=", 2)
        if len(pair) == 2:
            into[pair[0]] = pair[1]
    return data[end + 1 :]


def _protect_leg_commas(group: str) -> str:
    """l.2798-2829: commas inside a leg's [...] do not separate legs."""
    out = list(group)
    end = -1
    quoted = alt = False
    for i, c in enumerate(group):
        if end < 0 and c == "[":
            end = find_end_paren(group, i, "[", "]")
            alt = group[i + 1 : i + 3] == "^^"
            quoted = False
        if c == "'":
            quoted = not quoted
        if end >= 0 and i < end and c == "," and (i == 0 or group[i - 1] != "\\"):
            out[i] = _QUOTED_COMMA if (quoted or alt) else _UNQUOTED_COMMA
        if i == end:
            end = -1
    return "".join(out)


def parse(dial: str) -> DialString:
    if ENTERPRISE in dial:
        return DialString({}, [], enterprise=dial.split(ENTERPRISE))
    data = dial.lstrip(" ")
    variables: dict[str, str] = {}
    for open_, close in (("<", ">"), ("{", "}")):
        while data.startswith(open_):
            rest = brackets(data, open_, close, ",", variables)
            if rest is None:
                raise ValueError(f"dial string parse error at {data[:40]!r}")
            data = rest
    data = data.lstrip(" ")
    groups: list[list[Leg]] = []
    for group in separate_string(data, "|", 1024) if data else []:
        legs: list[Leg] = []
        for peer in separate_string(_protect_leg_commas(group), ",", 1024):
            peer = peer.lstrip(" ")
            own: dict[str, str] = {}
            while peer.startswith("["):
                end = find_end_paren(peer, 0, "[", "]")
                head = peer[: end + 1].replace(_QUOTED_COMMA, ",") if end >= 0 else peer
                rest = brackets(head + peer[end + 1 :], "[", "]", _UNQUOTED_COMMA, own)
                if rest is None or rest == peer:
                    raise ValueError(f"dial string parse error at {peer[:40]!r}")
                peer = rest
            if peer:
                legs.append(Leg(peer, own))
        groups.append(legs)
    return DialString(variables, groups)
