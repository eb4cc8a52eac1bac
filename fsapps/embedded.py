"""mod_python3 entry point: ``<action application="python" data="fsapps.embedded flow"/>``.

mod_python3 imports *and reloads* this module on every call
(mod_python3.c:275), so it stays a shim: the runtime lives in
fsapps.apps.embedded, imported once per FreeSWITCH process.
"""

from __future__ import annotations

import time
from typing import Any


def handler(session: Any, args: str) -> None:
    called = time.monotonic()  # the first call's imports count toward building the runtime
    from fsapps.apps.embedded import run

    run(session, args, called)
