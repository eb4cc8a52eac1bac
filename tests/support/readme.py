"""The README's examples as data: its fenced blocks, its sections, its ``fsapps`` command lines."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

PATH = Path(__file__).resolve().parents[2] / "README.md"
TEXT = PATH.read_text(encoding="utf-8")


@dataclass(frozen=True)
class Block:
    lang: str  # what follows the opening ```, "" for none
    body: str  # without the fence's indentation
    line: int  # of the opening fence, from 1

    @property
    def first(self) -> str:
        return self.body.split("\n", 1)[0]


def blocks(text: str = TEXT) -> list[Block]:
    """Every fenced block, indented ones (inside a list item) included."""
    found: list[Block] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        opening = re.fullmatch(r"( *)```(\w*)", lines[i])
        if opening is None:
            i += 1
            continue
        indent, lang = opening.groups()
        end = lines.index(f"{indent}```", i + 1)
        body = "\n".join(line[len(indent) :] for line in lines[i + 1 : end])
        found.append(Block(lang, body + "\n", i + 1))
        i = end + 1
    return found


def section(title: str, text: str = TEXT) -> str:
    """From the heading ``title`` to the next heading of its level or above."""
    start = text.index(title)
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else len(text)]


def yaml_files() -> dict[str, str]:
    """The YAML blocks that name their file on their first line (``# dialplan/acme/tenant.yaml``)."""
    return {b.first[2:]: b.body for b in blocks() if b.lang == "yaml" and b.first.startswith("# dialplan/")}


def example_key(line: str) -> str:
    """A command line as the tests name it: the README's text, runs of blanks as one."""
    return re.sub(r"\s+", " ", line.strip())


def shell_examples() -> list[str]:
    """Every line of a ``sh`` block that runs ``fsapps``, comment included."""
    return [
        example_key(line)
        for b in blocks()
        if b.lang == "sh"
        for line in b.body.splitlines()
        if line.startswith("fsapps ")
    ]


def command(line: str) -> list[str]:
    """The words of a command line as a shell splits them, its comment left out."""
    return shlex.split(line, comments=True)


def comment(line: str) -> str:
    """What follows the command's ``#`` (one outside quotes, after a blank), or ""."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[i + 1 :].strip()
    return ""


def inline_commands(text: str = TEXT) -> list[str]:
    """Commands the prose gives in backticks with arguments (``fsapps sim --conf conf/``,
    ``python -m ...``): three words or more, other than one a ``sh`` block's line runs."""
    run = {tuple(command(line)) for line in shell_examples()}
    spans = re.findall(r"`((?:fsapps|python -m) [^`]+)`", text)
    return sorted({s for s in spans if len(s.split()) >= 3 and tuple(s.split()) not in run})
