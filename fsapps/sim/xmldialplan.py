"""The XML dialplan (mod_dialplan_xml) for the emulator.

The hunt follows mod_dialplan_xml.c: ``dialplan_hunt`` (l.620-716) picks the
context (first name match, case-insensitive, else ``global``) and walks its
extensions until one matches without ``continue="true"``; ``parse_exten``
(l.98-601) evaluates conditions in order. The quirks are FreeSWITCH's and
are kept on purpose, each checked on the real switch:

- break defaults to on-false; a failing condition ends the extension but
  the actions earlier conditions queued stay queued (l.576-590);
- a failing condition with anti-actions counts as a match (l.503);
- time attributes and a field in one condition OR together: the actions
  run when either passes, the match follows the regex (l.201-224, 409-419);
- ``$1``.. come from the condition's own regex and only into actions
  (l.507-541); DP_MATCH keeps the groups;
- ``inline="true"`` runs the application during the hunt when it may run
  there (SAF_ROUTING_EXEC, l.48-80), else drops it;
- data holding ``\\'`` is never queued (switch_caller.c:567).
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from fsapps.sim.apps.registry import is_true
from fsapps.sim.strings import atoi
from fsapps.sim.timecheck import TIME_ATTRIBUTES, channel_zone, datetime_check
from fsapps.sim.xmlconf import ConfError, dialplan_section, load_document

if TYPE_CHECKING:
    from fsapps.sim.channel import Channel

log = logging.getLogger("fsapps.sim")
Action = tuple[str, str]
MAX_RECUR = 100

# mod_dptools applications flagged SAF_ROUTING_EXEC (may run inline during the hunt).
INLINE_OK = {
    "check_acl", "verbose_events", "novideo", "cng_plc", "early_hangup", "eval", "set_media_stats",
    "stop", "set_zombie_exec", "presence", "log", "info", "event", "export", "bridge_export", "set",
    "multiset", "push", "unshift", "set_global", "set_profile_var", "unset", "multiunset", "set_user",
}  # fmt: skip

# switch_caller_get_field_by_name (switch_caller.c:193-319), the string fields.
PROFILE_FIELDS = {
    "dialplan", "username", "caller_id_name", "caller_id_number", "orig_caller_id_name",
    "orig_caller_id_number", "callee_id_name", "callee_id_number", "ani", "aniii", "network_addr",
    "rdnis", "destination_number", "uuid", "source", "transfer_source", "context", "chan_name",
    "profile_index",
}  # fmt: skip


def compile_expression(expression: str) -> re.Pattern[str] | None:
    """switch_regex_perform (switch_regex.c:55): /pattern/flags, Asterisk _patterns, else PCRE."""
    flags = 0
    if expression.startswith("/"):
        end = expression.rfind("/")
        if end <= 0:
            return None
        for f in expression[end + 1 :]:
            flags |= {"i": re.IGNORECASE, "s": re.DOTALL}.get(f, 0)
        expression = expression[1:end]
    elif expression.startswith("_"):
        expression = asterisk_pattern(expression[1:])
    try:
        return re.compile(expression, flags)
    except re.error:
        return None  # "COMPILE ERROR": no match


def asterisk_pattern(pat: str) -> str:
    """switch_utils.c:1386: N [2-9], X [0-9], Z [1-9], . anything, the rest literal."""
    out = {"N": "[2-9]", "X": "[0-9]", "Z": "[1-9]", ".": ".*"}
    return "^" + "".join(out.get(c, re.escape(c)) for c in pat) + "$"


def substitute(data: str, match: re.Match[str] | None) -> str:
    """switch_perform_substitution (switch_regex.c:131): $N and ${N}; other $ stay."""

    def group(n: int) -> str:
        if match is None or n > (match.re.groups or 0):
            return ""
        return match.group(n) or ""

    return re.sub(r"\$(?:\{(\d{1,9})\}|(\d{1,9}))", lambda m: group(int(m.group(1) or m.group(2))), data)


class XmlDialplan:
    """Hunts a channel through the <section name="dialplan"> of a FreeSWITCH configuration."""

    def __init__(self, section: ET.Element, server_zone: tzinfo = UTC) -> None:
        self.section = section
        self.server_zone = server_zone
        self.execute_inline: Callable[[Channel, str, str], None] = _execute_inline
        self.conf: Path | None = None
        self.variables: dict[str, str] = {}
        self.on_reload: Callable[[ET.Element], None] | None = None  # e.g. to refresh the directory

    def reload(self) -> str:
        """reloadxml (mod_commands.c reload_xml_function): on an error the old tree stays
        and the reply still starts +OK, with the error in brackets."""
        if self.conf is None:
            return "Success"
        try:
            document = load_document(self.conf, dict(self.variables))
        except (ConfError, OSError) as exc:
            return str(exc)
        section = dialplan_section(document)
        self.section = section if section is not None else ET.Element("section", name="dialplan")
        if self.on_reload is not None:
            self.on_reload(document)
        return "Success"

    @classmethod
    def from_conf(
        cls, conf: str | Path, server_zone: tzinfo = UTC, variables: dict[str, str] | None = None
    ) -> XmlDialplan:
        """``variables``: globals for $${name} (vars.xml's X-PRE-PROCESS set lines).

        ``reloadxml`` then reads the directory again."""
        dp = cls.from_document(load_document(conf, dict(variables or {})), server_zone)
        dp.conf, dp.variables = Path(conf), dict(variables or {})
        return dp

    @classmethod
    def from_document(cls, document: ET.Element, server_zone: tzinfo = UTC) -> XmlDialplan:
        section = dialplan_section(document)
        if section is None:
            section = ET.Element("section", name="dialplan")
        return cls(section, server_zone)

    @classmethod
    def from_files(cls, files: dict[str, str], server_zone: tzinfo = UTC) -> XmlDialplan:
        """A dialplan from rendered context files ({name: text}); each holds <include><context>."""
        section = ET.Element("section", name="dialplan")
        for name in sorted(files):
            body = ET.fromstring(files[name])
            for ctx in body.iter("context"):
                section.append(ctx)
        return cls(section, server_zone)

    def context(self, name: str) -> ET.Element | None:
        for wanted in (name, "global"):
            for ctx in self.section.findall("context"):
                if (ctx.get("name") or "").lower() == wanted.lower():
                    return ctx
        return None

    # --- the hunt ------------------------------------------------------------------------

    def hunt(self, channel: Channel) -> list[Action] | None:
        ctx = self.context(channel.profile.context)
        if ctx is None:
            channel.note(f"context {channel.profile.context} not found")
            return None
        extensions = ctx.findall("extension")
        if is_true(channel.get_var("auto_hunt")):
            dest = channel.profile.destination_number.lower()
            for i, x in enumerate(extensions):
                if (x.get("name") or "").lower() == dest:
                    extensions = extensions[i:]
                    break
        hunt = _Hunt(self, channel)
        for xexten in extensions:
            proceed = hunt.parse_exten(xexten, xexten.get("name") or "UNKNOWN", 0)
            if proceed and not is_true(xexten.get("continue")):
                break
        return hunt.actions


def _execute_inline(ch: Channel, app: str, data: str) -> None:
    from fsapps.sim.session import execute

    execute(ch, app, data)


class _Hunt:
    def __init__(self, dialplan: XmlDialplan, channel: Channel) -> None:
        self.dp = dialplan
        self.ch = channel
        # None until any action or anti-action is seen: then the call has an extension
        # (switch_caller_extension_new), even if it ends up empty.
        self.actions: list[Action] | None = None

    def _field(self, name: str) -> str:
        if "$" in name:
            return self.ch.expand(name)
        key = name.lower()
        if key in PROFILE_FIELDS:
            if key == "uuid":
                return self.ch.uuid
            if key == "chan_name":
                return self.ch.profile.chan_name
            return str(getattr(self.ch.profile, key, "") or "")
        return ""

    def _time(self, node: ET.Element) -> int:
        if not any(a in node.attrib for a in TIME_ATTRIBUTES):
            return -1  # most conditions: no zone to look up
        server = self.dp.server_zone
        zone = channel_zone(self.ch.get_var("tod_tz_offset"), self.ch.get_var("timezone"), server)
        return datetime_check(node.attrib, self.ch.switch.clock.now(), zone, server)

    @staticmethod
    def _expression(node: ET.Element) -> str:
        child = node.find("expression")
        if child is not None:
            return child.text or ""
        return node.get("expression", "")

    def _add(self, app: str, data: str, inline: bool) -> None:
        if self.actions is None:
            self.actions = []
        if inline:
            if app not in INLINE_OK:
                self.ch.note(f"{app} cannot be executed inline")
                return
            self.dp.execute_inline(self.ch, app, data)
            return
        if "\\'" in data:
            self.ch.note(f"App not added, invalid character sequence in data string [{data}]")
            return
        self.actions.append((app, data))

    def _run(self, xcond: ET.Element, tag: str, captures: bool, match: re.Match[str] | None) -> None:
        for xaction in xcond.findall(tag):
            app = xaction.get("application", "")
            data = xaction.text if xaction.text and xaction.text.strip() else xaction.get("data", "")
            if captures:
                data = substitute(data, match)
            loops = atoi(xaction.get("loop", "1")) if xaction.get("loop") is not None else 1
            for _ in range(loops):
                self._add(app, data, is_true(xaction.get("inline")))

    def _set_matches(self, name: str, match: re.Match[str]) -> None:
        # switch_capture_regex pushes every group; pushing "" deletes the variable (switch_channel.c:1571).
        values: list[str] = []
        for i in range((match.re.groups or 0) + 1):
            g = match.group(i) or ""
            values = [*values, g] if g else []
        if not values:
            self.ch.set_var(name, None)
        else:
            self.ch.set_var(name, values[0] if len(values) == 1 else "ARRAY::" + "|:".join(values))

    def parse_exten(self, node: ET.Element, name: str, recur: int) -> int:
        proceed = 0
        req_nest = True
        if recur:
            if recur > MAX_RECUR:
                self.ch.note("dialplan recursion limit")
                return 0
            if node.get("require-nested") is not None:
                req_nest = is_true(node.get("require-nested"))
        for xcond in node.findall("condition"):
            anti = True
            brk = (xcond.get("break") or "on-false").lower()
            if brk not in ("on-true", "on-false", "always", "never"):
                brk = "on-false"
            tm = self._time(xcond)
            if tm == 1:
                anti, proceed = False, 1
            elif tm == 0:
                proceed = 0
            field = xcond.get("field")
            match: re.Match[str] | None = None
            expression = ""
            if xcond.get("regex") is not None:
                anti, proceed, match, field, expression = self._regex_block(xcond, anti, proceed)
            else:
                expression = self.ch.expand(self._expression(xcond))
                if field is not None:
                    data = self._field(field)
                    pattern = compile_expression(expression)
                    match = pattern.search(data) if pattern is not None else None
                    proceed = 1 if match else 0
                    if match:
                        anti = False
                elif tm == -1:
                    anti, proceed = False, 1  # an absolute condition
            if anti:
                if xcond.find("anti-action") is not None:
                    self._run(xcond, "anti-action", False, None)
                    proceed = 1
            else:
                captures = field is not None and "(" in expression
                if captures and match is not None:
                    self._set_matches("DP_MATCH", match)
                # With the time passing and the regex failing there are no groups: $N is empty.
                self._run(xcond, "action", captures, match)
            if (not anti and brk == "on-true") or (anti and brk == "on-false") or brk == "always":
                break
            if proceed and xcond.find("condition") is not None:
                proceed = self.parse_exten(xcond, name, recur + 1)
                if not proceed:
                    if brk == "never":
                        continue
                    break
        return 1 if not req_nest else proceed

    def _regex_block(
        self, xcond: ET.Element, anti: bool, proceed: int
    ) -> tuple[bool, int, re.Match[str] | None, str | None, str]:
        """<condition regex="all|any|xor"> with <regex> children (mod_dialplan_xml.c:227-379)."""
        rule = (xcond.get("regex") or "").lower()
        every, xor = rule == "all", rule == "xor"
        for var in [v for v in self.ch.variables if v.startswith("DP_REGEX_MATCH")]:
            self.ch.set_var(var, None)
        passed = failed = 0
        saved: tuple[re.Match[str] | None, str | None, str, int] | None = None
        field: str | None = None
        expression = ""
        live: re.Match[str] | None = None  # the C ``re``: kept when the loop breaks before freeing it
        for total, xregex in enumerate(xcond.findall("regex"), 1):
            tm = self._time(xregex)
            expression = self.ch.expand(self._expression(xregex))
            field = xregex.get("field")
            live = None
            if field is not None:
                pattern = compile_expression(expression)
                live = pattern.search(self._field(field)) if pattern is not None else None
                proceed = 1 if live else 0
                if live:
                    passed += 1
                    if not every and not xor:
                        break
                else:
                    failed += 1
                    if every and not xor:
                        break
            elif tm in (-1, 1):
                passed += 1
                proceed = 1
                if not every and not xor:
                    break
            else:
                failed += 1
                if every:
                    break
            if field is not None and "(" in expression:
                if live is not None:
                    self._set_matches(f"DP_REGEX_MATCH_{total}", live)
                saved = (live, field, expression, proceed)
            live = None  # switch_regex_safe_free(re)
        if (xor and passed == 1) or (not xor and ((every and not failed) or (not every and passed))):
            anti = False
        if saved is not None:
            match, field, expression, proceed = saved
            return anti, proceed, match, field, expression
        return anti, proceed, live, field, expression
