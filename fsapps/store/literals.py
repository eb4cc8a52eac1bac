"""Values sent to PostgreSQL as one literal instead of a list psycopg adapts item by item.

psycopg dumps a Python list by finding each item's dumper in Python (its
types/array.py); for the few hundred agent ids a dispatcher pass sends, many
times a second, that was a twentieth of a loaded controller's CPU. One string
in PostgreSQL's array syntax, cast with ``::text[]`` in the statement, costs
one dumper and leaves the parsing to the server.
"""

from __future__ import annotations

from collections.abc import Iterable


class TextArray(str):
    """A literal ``text_array`` made: given to it again, it is returned as it is, so a caller
    that sends the same ids pass after pass (every tier's agent) makes it once."""


def text_array(values: Iterable[str]) -> TextArray:
    """``values`` as a PostgreSQL ``text[]`` literal, for a ``%s::text[]`` parameter: each
    item double-quoted with its backslashes and double quotes escaped (PostgreSQL's
    documentation, 8.15.6 Array Input and Output Syntax), so that no item, whatever it
    holds (commas, braces, quotes, NULL, blanks), changes the array's shape."""
    if isinstance(values, TextArray):
        return values
    quoted = ('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
    return TextArray("{" + ",".join(quoted) + "}")
