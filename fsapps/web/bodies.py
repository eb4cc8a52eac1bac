"""What a request's input may be: a body that is JSON or nothing, no longer than the
service's limit; and no text anywhere (path, query, body) that no database column can hold.

Werkzeug holds a body to MAX_CONTENT_LENGTH by its Content-Length (413), but a body sent
in chunks (no Content-Length) it silently cuts at the limit, so the route would read a
truncated body. Such a body is read here, up to one byte past the limit, and handed on
with its length: past the limit, it is refused as a Content-Length one is.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from flask import Request

from fsapps.web import errors


def check(request: Request, limit: int) -> None:
    """Raise 415 for a body that is not JSON, 413 for a chunked one past ``limit``."""
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if not (request.content_length or chunked):
        return
    if not request.is_json:
        # apiflask reads a body of another type as none at all: the request would be done
        # as if it had been sent empty.
        raise errors.ApiError(415, "unsupported_media_type", "send the body as application/json")
    if chunked:
        environ = request.environ
        data = environ["wsgi.input"].read(limit + 1)
        if len(data) > limit:
            raise errors.ApiError(413, "too_large", f"the body is over {limit} bytes")
        environ["wsgi.input"] = io.BytesIO(data)
        environ["CONTENT_LENGTH"] = str(len(data))
        environ.pop("HTTP_TRANSFER_ENCODING", None)


def unstorable(text: str) -> str | None:
    """Why PostgreSQL cannot store the text (a NUL, or a lone surrogate: bytes that were not
    UTF-8, or a JSON \\udcxx escape), else None."""
    if "\x00" in text:
        return "holds a NUL character"
    if any("\ud800" <= c <= "\udfff" for c in text):
        return "is not valid Unicode (a lone surrogate)"
    return None


def check_text(request: Request) -> None:
    """Refuse (422, naming each field as a failed validation does) text the database would
    refuse with an error of its own (psycopg.DataError, UnicodeEncodeError): a 500 else."""
    detail: dict[str, dict[str, list[str]]] = {}
    found = [("path", k, v) for k, v in (request.view_args or {}).items()]
    found += [("query", k, v) for k, v in request.args.items(multi=True)]
    found += [("query", k, k) for k in request.args]
    if request.is_json:
        found += [("json", k, v) for k, v in _strings(request.get_json(silent=True), "")]
    for where, name, value in found:
        why = unstorable(value) if isinstance(value, str) else None
        if why is not None:
            detail.setdefault(where, {}).setdefault(name or "(body)", []).append(why)
    if detail:
        raise errors.ApiError(422, "invalid_input", "text the service cannot store", detail=detail)


def _strings(value: Any, at: str) -> Iterator[tuple[str, str]]:
    """(where, text) of every string in a JSON document, keys included."""
    if isinstance(value, str):
        yield at, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield at, k
            yield from _strings(v, f"{at}.{k}" if at else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{at}[{i}]")
