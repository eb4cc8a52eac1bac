"""JSON log lines with secrets masked."""

import io
import json
import logging

from fsapps import logs


def test_json_line_with_extra_fields_and_secret_masked() -> None:
    out = io.StringIO()
    logs.setup(level="info", fmt="json", secrets=["hunter2"], stream=out)
    logging.getLogger("fsapps.test").info(
        "auth hunter2 sent to %s", "127.0.0.1", extra={"call": "u1", "pw": "hunter2"}
    )
    line = json.loads(out.getvalue().strip())
    assert line["msg"] == "auth *** sent to 127.0.0.1"
    assert line["call"] == "u1"
    assert line["pw"] == "***"
    assert line["level"] == "info"
    assert "hunter2" not in out.getvalue()
