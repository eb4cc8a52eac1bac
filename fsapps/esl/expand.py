"""FreeSWITCH's variable expansion, as far as a client must know it to send a
value that arrives unchanged.

Application arguments sent with ``execute`` (``set``, ``export``) pass
through switch_channel_expand_variables, which runs only over text holding
a "${" or escaped data (switch_utils.h:383, 784) and then reads "\\$" as a
literal "$" and "\\\\" as one backslash (switch_channel.c:4021). A value from
a caller or a lookup could otherwise run ``${system(...)}``.
"""

from __future__ import annotations

import re

_VAR = re.compile(r"\$\\*\{")
# A plain ``${name}`` reference, for the places that fill one in themselves.
VARIABLE_REF = re.compile(r"\$\{([^{}]+)\}")
_ESCAPED = re.compile(r"\\[\\nst']")


def needs_expansion(text: str) -> bool:
    return _VAR.search(text) is not None or _ESCAPED.search(text) is not None


def literal(value: str) -> str:
    """``value`` escaped so that expansion gives it back as it is."""
    if not needs_expansion(value):
        return value
    return value.replace("\\", "\\\\").replace("$", "\\$")
