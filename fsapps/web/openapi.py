"""The OpenAPI document, generated from the routes and schemas (no database needed).

The repository keeps a copy in fsapps/web/openapi.json, for readers and clients'
generators; tests/integration/test_api_openapi.py fails when it differs from the code.
Regenerate it with ``fsapps openapi --out fsapps/web/openapi.json``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

CHECKED_IN = Path(__file__).with_name("openapi.json")


def spec() -> dict[str, Any]:
    from fsapps.web.app import ApiContext, make_app

    app = make_app(ApiContext(store=None, queues=lambda tenant: {}))  # type: ignore[arg-type]
    with app.app_context():
        return dict(app.spec)  # type: ignore[arg-type]


def document() -> str:
    return json.dumps(spec(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


REFUSALS = {401: "Unauthorized", 403: "Forbidden"}


def complete(spec: dict[str, Any], rules: Iterable[str], public: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """What apiflask leaves out of the document: a ``uuid`` path parameter's format (it
    writes every converter but int and float as a plain string, so a client cannot tell a
    well-formed id), and the 401 and 403 every operation behind a login can answer
    (authentication refuses before any route runs). ``rules``: the app's URL rules;
    ``public``: (method, path) of the operations that need no login."""
    uuids: dict[str, set[str]] = {}
    for rule in rules:
        path = re.sub(r"<(?:[^<:>]+:)?([^<>]+)>", r"{\1}", rule)
        uuids.setdefault(path, set()).update(re.findall(r"<uuid:([^<>]+)>", rule))
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPError"}}}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            for p in op.get("parameters", []):
                if p.get("in") == "path" and p["name"] in uuids.get(path, ()):
                    p["schema"] = {"type": "string", "format": "uuid"}
            if (method.upper(), path) in public:
                continue
            for status, description in REFUSALS.items():
                op["responses"].setdefault(str(status), {"description": description, "content": error})
            op["responses"] = dict(sorted(op["responses"].items()))
    return spec
