"""What a YAML syntax error probably is, said at the line where it is.

libyaml notices most slips one line late and in its own terms: ``name： Acme``
(a full-width colon), ``type:answer`` (no space) and an unclosed quote read
as text that runs on, and the error comes where that text cannot go on
("could not find expected ':'" on the next line). The lines around the
error are searched for those slips; the first found is reported where it
is, with what was probably meant.
"""

from __future__ import annotations

import re

import yaml

from fsapps.flows.yamlsrc import quote

FULL_WIDTH_COLON = "\uff1a"
# A key at the start of a line (or list item), or after { or , in a flow mapping.
_KEY_START = r"(?:^\s*(?:-\s+)?|[{,]\s*)"
_FULL_WIDTH_KEY = re.compile(_KEY_START + r"([^\s:#'\"{}\[\],][^:#'\"{}\[\],\n]*?)\s*" + FULL_WIDTH_COLON)
_NO_SPACE_KEY = re.compile(r"^\s*(?:-\s+)?([A-Za-z_][\w-]*):(?=[^\s:/])(\S*)")
# A quoted scalar starts a value: at the line's start, after "- ", ": ", "{", "[" or ",".
_QUOTE_START = re.compile(r"(?:^\s*(?:-\s+)?|:\s+|[{\[,]\s*)(['\"])")
FLOW_OPENED = {
    "while parsing a flow mapping": ("{", "'}' after its last item"),
    "while parsing a flow sequence": ("[", "']' after its last item"),
}
LOOK_BACK = 2  # lines before the error (or its context) searched for the slip


def _unclosed_quote(line: str) -> int | None:
    """The index of a quote that opens a value and is not closed on ``line``."""
    pos = 0
    while (m := _QUOTE_START.search(line, pos)) is not None:
        q, start = m.group(1), m.start(1)
        i = start + 1
        while i < len(line):
            if q == '"' and line[i] == "\\":
                i += 2
                continue
            if line[i] == q:
                if q == "'" and line[i + 1 : i + 2] == "'":
                    i += 2
                    continue
                break
            i += 1
        else:
            return start
        pos = i + 1
    return None


def _slip(line: str) -> tuple[int, str] | None:
    """(0-based column, message) for the first slip on ``line``, or None."""
    if (m := _FULL_WIDTH_KEY.search(line)) is not None:
        key = m.group(1).strip()
        return m.end() - 1, (
            f"a full-width colon {FULL_WIDTH_COLON} after {quote(key)} "
            f"(expected ':' followed by a space, as in '{key}: ...')"
        )
    if (m := _NO_SPACE_KEY.search(line)) is not None:
        key, rest = m.group(1), m.group(2)
        return m.end(1), f"no space after ':' (expected ':' followed by a space, as in '{key}: {rest}')"
    if (col := _unclosed_quote(line)) is not None:
        q = line[col]
        return col, f"the quote {q} opened here is not closed (expected a closing {q} on this line)"
    return None


def explain_syntax(exc: yaml.MarkedYAMLError, source: str) -> tuple[tuple[int, int], str]:
    """((line, col), message), 1-based, for a syntax error in ``source``."""
    lines = source.splitlines()
    problem, context = exc.problem_mark, exc.context_mark
    mark = problem or context
    if mark is None:
        return (1, 1), f"not valid YAML: {exc.problem or exc.context}"
    if exc.context == "while scanning a quoted scalar" and context is not None:
        q = lines[context.line][context.column] if context.line < len(lines) else '"'
        where = (context.line + 1, context.column + 1)
        return where, f"the quote {q} opened here is not closed (expected a closing {q})"
    line = lines[mark.line] if mark.line < len(lines) else ""
    problem = exc.problem or ""
    # libyaml does not name the character a token cannot start with (PyYAML's scanner says '\t').
    unnamed_tab = "cannot start any token" in problem and line[mark.column : mark.column + 1] == "\t"
    if "tab" in problem or "'\\t'" in problem or unnamed_tab:
        col = line.find("\t")
        where = (mark.line + 1, (col if col >= 0 else mark.column) + 1)
        return where, "a tab in the indentation (expected spaces: YAML does not indent with tabs)"
    last = min(mark.line, len(lines) - 1)
    first = (context.line if context is not None and context.line <= mark.line else mark.line) - LOOK_BACK
    for n in range(max(first, 0), last + 1):
        if (found := _slip(lines[n])) is not None:
            col, message = found
            return (n + 1, col + 1), message
    if exc.context == "while scanning a simple key" and context is not None:
        # A line that is not ``key: value``; libyaml says so at the next line.
        where = (context.line + 1, context.column + 1)
        return where, "expected 'key: value' on this line (a ':' followed by a space)"
    if exc.context in FLOW_OPENED and context is not None:
        opened, closing = FLOW_OPENED[exc.context]
        where = (context.line + 1, context.column + 1)
        return where, f"the {opened} opened here is not closed (expected {closing}, with ',' between items)"
    return (mark.line + 1, mark.column + 1), f"not valid YAML: {exc.problem or exc.context}"
