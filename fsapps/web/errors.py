"""Every error the API answers is JSON: ``{"code": ..., "message": ...}`` (and ``detail``
for input that failed validation). ``code`` is stable, for scripts to branch on; the
message is for people and may change."""

from __future__ import annotations

from typing import Any

from apiflask import HTTPError

# The code of an error raised without one of its own, by HTTP status.
CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_attempts",
    500: "internal_error",
    503: "unavailable",
}


class ApiError(HTTPError):
    """An error with its own stable code: ``raise ApiError(404, "no_such_agent", "...")``."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None,
                 detail: dict[str, Any] | None = None) -> None:  # fmt: skip
        super().__init__(status, message, extra_data={"code": code}, headers=headers, detail=detail or {})


def body(error: HTTPError) -> tuple[dict[str, Any], int, Any]:
    """apiflask's error processor: the one shape of every error response."""
    out: dict[str, Any] = {
        "code": error.extra_data.get("code") or CODES.get(error.status_code, f"http_{error.status_code}"),
        "message": error.message,
    }
    if error.detail:
        out["detail"] = error.detail
    return out, error.status_code, error.headers


ERROR_SCHEMA = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {
        "code": {"type": "string", "description": "stable: branch on it"},
        "message": {"type": "string", "description": "for people"},
        "detail": {"type": "object", "description": "which input failed and why (422)"},
    },
}
