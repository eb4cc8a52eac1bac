"""switch_channel_expand_variables_check (switch_channel.c:3986-4270), step by step.

This is the judge of fsapps.escape: every function there is tested by pushing
hostile text through it and then through this expansion, which must give the
text back as it was meant. So it follows the switch's scan character by
character, quirks included, rather than a regular expression:

- the input is returned untouched unless it holds a ``${``/``$${`` (with
  backslashes allowed between ``$`` and ``{``, switch_utils.h:784
  switch_string_var_check_const) or escaped data (a backslash before
  ``\\ n s t '``, switch_utils.h:383 switch_string_has_escaped_data);
- ``\\$`` is a literal ``$`` and ``\\$$`` one literal ``$`` too (l.4021-4027);
  ``\\'`` vanishes (l.4028); ``\\\\`` is one backslash (l.4031);
- ``$$`` not followed by ``{`` leaves one ``$`` (l.4040-4057);
- ``${name}`` is a variable, whose value is expanded again (l.4171): a
  stored ``${...}`` runs when anything refers to its variable;
  ``${name:off:len}`` cuts and ``${name[i]}`` indexes (l.4154-4203);
- ``${api(args)}`` and ``${api args}`` run an API command (l.4099-4130,
  4204-4236), whose output is not expanded again;
- the character right after a closing ``}`` is copied as it is, escape or
  not (l.4258-4268);
- nesting beyond 100 levels stops expanding (l.3995).
"""

from __future__ import annotations

import re
from collections.abc import Callable

# The two tests that decide whether the switch looks at a string at all: written here
# apart from fsapps.escape's, so that the judge does not share the code it judges.
_REFERENCE = re.compile(r"\$\\*\{")  # switch_string_var_check_const, switch_utils.h:784
_ESCAPED = re.compile(r"\\[\\nst']")  # switch_string_has_escaped_data, switch_utils.h:383



def has_reference(text: str) -> bool:
    """switch_string_var_check_const: what switch_channel_set_variable refuses to store."""
    return _REFERENCE.search(text) is not None


Lookup = Callable[[str, int], "str | None"]  # (name, index or -1) -> value
Api = Callable[[str, str], "str | None"]  # (command, args) -> output, None on failure


def _atoi(text: str) -> int:
    from fsapps.sim.strings import atoi

    return atoi(text)


def expand(text: str, lookup: Lookup, api: Api, *, api_expansion: bool = True, recur: int = 0) -> str:
    if recur > 100 or not text:
        return text
    if not (_REFERENCE.search(text) or _ESCAPED.search(text)):
        return text
    out: list[str] = []
    n = len(text)
    p = 0
    nv = False

    def at(i: int) -> str:
        return text[i] if 0 <= i < n else ""

    while p < n:
        vtype = 0
        if text[p] == "\\":
            nxt = at(p + 1)
            if nxt == "$":
                nv = True
                p += 1
                if at(p + 1) == "$":
                    p += 1
            elif nxt == "'":
                p += 2  # the backslash and the quote are both dropped
                continue
            elif nxt == "\\":
                out.append("\\")
                p += 2
                continue
        if text[p] == "$" and not nv:
            glob = False
            if at(p + 1) == "$":
                p += 1
                glob = True
            if at(p + 1) == "{":
                vtype = 3 if glob else 1
            else:
                nv = True
        if nv:
            out.append(text[p])
            nv = False
            p += 1
            continue
        if vtype:
            s = p + 2  # past '$' and '{'
            br = 1
            e = s
            end = None
            while e < n:
                c = text[e]
                if br == 1 and c == "}":
                    br = 0
                    end = e
                    e += 1
                    break
                if br > 0:
                    if e != s and c == "{":
                        br += 1
                    elif br > 1 and c == "}":
                        br -= 1
                e += 1
            vname = text[s : end if end is not None else n]
            p = e
            vval: str | None = None
            for i, c in enumerate(vname):
                if c == " ":
                    vval, vname = vname[i + 1 :], vname[:i]
                    break
                if c == "(":
                    vval, vname = vname[i + 1 :], vname[:i]
                    br = 1
                    break
            sub: str | None = None
            if vval is not None:
                vname = vname.rstrip(" ")
                for i, c in enumerate(vval):
                    if c == "(":
                        br += 1
                    elif br > 1 and c == ")":
                        br -= 1
                    elif br == 1 and c == ")":
                        vval = vval[:i]
                        break
                name = expand(vname, lookup, api, api_expansion=api_expansion, recur=recur + 1)
                args = expand(vval, lookup, api, api_expansion=api_expansion, recur=recur + 1)
                sub = api(name, args) if api_expansion else "<API Execute Permission Denied>"
            else:
                name = expand(vname, lookup, api, api_expansion=api_expansion, recur=recur + 1)
                offset = ooffset = 0
                if ":" in name:
                    name, _, cut = name.partition(":")
                    offset = _atoi(cut)
                    if ":" in cut:
                        ooffset = _atoi(cut.partition(":")[2])
                idx = -1
                if "[" in name and "]" in name[name.index("[") :]:
                    name, _, rest = name.partition("[")
                    idx = _atoi(rest)
                sub = lookup(name, idx)
                if sub is not None:
                    sub = expand(sub, lookup, api, api_expansion=api_expansion, recur=recur + 1)
                    if offset >= 0:
                        sub = "" if offset > len(sub) else sub[offset:]
                    elif -offset <= len(sub):
                        sub = sub[len(sub) + offset :]
                    if 0 < ooffset < len(sub):
                        sub = sub[:ooffset]
            if sub:
                out.append(sub)
            if p < n:
                if text[p] == "$":
                    continue  # seen again as the start of a reference
                out.append(text[p])  # copied as it is (l.4264)
            p += 1
            continue
        out.append(text[p])
        p += 1
    return "".join(out)
