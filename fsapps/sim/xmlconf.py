"""FreeSWITCH's XML configuration loader: the preprocessor, then one document.

switch_xml.c ``preprocess`` (l.1424-1644) works line by line before any
XML parsing: ``$${name}`` is replaced by a global variable (empty when
unset), a line holding ``<include>``, ``</include>`` or ``<?`` is dropped
whole, and an ``X-PRE-PROCESS`` line runs its command instead of being
copied (``set`` a global, ``include`` a glob relative to the including
file's own directory, sorted as glob(3) sorts). Commenting such a line out
does not stop it. The result is parsed as one document.

This module does the same for the emulator and for ``fsapps render``,
which loads what it wrote before swapping it in. Each output line keeps the
file and line it came from, so a parse error names the source file.
"""

from __future__ import annotations

import glob as globlib
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

MAX_DEPTH = 100  # switch_xml.c:1433
_GLOBAL_REF = re.compile(r"\$\$\{([^}]*)\}")
_CMD = re.compile(r'cmd="([^"]*)"')
_DATA = re.compile(r'data="([^"]*)"')

# The root used when a conf directory has no freeswitch.xml of its own: the
# vanilla one's dialplan and directory sections (conf/freeswitch.xml:45-55).
DIALPLAN_ONLY_ROOT = """<?xml version="1.0"?>
<document type="freeswitch/xml">
  <section name="dialplan" description="Regex/XML Dialplan">
    <X-PRE-PROCESS cmd="include" data="dialplan/*.xml"/>
  </section>
  <section name="directory" description="User Directory">
    <X-PRE-PROCESS cmd="include" data="directory/*.xml"/>
  </section>
</document>
"""


class ConfError(ValueError):
    """The assembled configuration is not XML; the message names file:line."""


@dataclass(frozen=True)
class Line:
    text: str
    file: str
    number: int


def _expand_globals(text: str, variables: dict[str, str]) -> str:
    return _GLOBAL_REF.sub(lambda m: variables.get(m.group(1), ""), text)


def preprocess(text: str, file: str, cwd: Path, variables: dict[str, str], depth: int = 0) -> list[Line]:
    if depth > MAX_DEPTH:
        raise ConfError(f"{file}: include depth over {MAX_DEPTH} (an include loop?)")
    out: list[Line] = []
    # switch_fp_read_dline ends a line at '\n' only (switch_utils.c), not at U+2028 and the like.
    for number, raw in enumerate(text.split("\n"), 1):
        line = _expand_globals(raw, variables)
        if "<include>" in line or "</include>" in line or "<?" in line:
            continue
        lower = line.lower()
        at = lower.find("x-pre-process")
        if at >= 0:
            if at == 0 or line[at - 1] != "<":
                continue
            cmd, data = _CMD.search(line), _DATA.search(line)
            if cmd and data:
                _command(cmd.group(1).lower(), data.group(1), cwd, variables, depth, out)
            continue
        out.append(Line(line, file, number))
    return out


def _command(cmd: str, data: str, cwd: Path, variables: dict[str, str], depth: int, out: list[Line]) -> None:
    if cmd == "set":
        name, eq, value = data.partition("=")
        if eq:
            variables[name.strip()] = value.strip()
    elif cmd == "include":
        pattern = data if data.startswith("/") else str(cwd / data)
        for path in sorted(globlib.glob(pattern)):
            p = Path(path)
            text = p.read_text(encoding="utf-8", errors="replace")
            out += preprocess(text, path, p.parent, variables, depth + 1)
    # exec, exec-set, stun-set, env-set: nothing the emulator needs.


def load_document(conf: str | Path, variables: dict[str, str] | None = None) -> ET.Element:
    """The whole configuration under ``conf`` as FreeSWITCH assembles it."""
    conf = Path(conf)
    root = conf / "freeswitch.xml"
    text = root.read_text(encoding="utf-8") if root.is_file() else DIALPLAN_ONLY_ROOT
    lines = preprocess(text, str(root), conf, variables if variables is not None else {})
    return parse_lines(lines)


def parse_lines(lines: list[Line]) -> ET.Element:
    try:
        return ET.fromstring("\n".join(line.text for line in lines))
    except ET.ParseError as exc:
        row, col = exc.position
        src = lines[row - 1] if 0 < row <= len(lines) else None
        where = f"{src.file}:{src.number}:{col + 1}" if src else "the assembled configuration"
        reason = str(exc).rsplit(": line ", 1)[0]
        raise ConfError(f"{where}: not well-formed XML ({reason})") from None


def dialplan_section(document: ET.Element) -> ET.Element | None:
    """The first <section name="dialplan"> (switch_xml_find_child is case-insensitive)."""
    for section in document.findall("section"):
        if (section.get("name") or "").lower() == "dialplan":
            return section
    return None
