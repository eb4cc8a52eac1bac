"""The OpenAPI document, generated from the routes and schemas (no database needed).

The repository keeps a copy in fsapps/web/openapi.json, for readers and clients'
generators; tests/integration/test_api_openapi.py fails when it differs from the code.
Regenerate it with ``fsapps openapi --out fsapps/web/openapi.json``.
"""

from __future__ import annotations

import json
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
