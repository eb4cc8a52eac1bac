"""Recording an answered queue call: the file's path and the applications that
start and stop it. Pure.

The queue's record-template is checked (fsapps.escape.recording_path: under
the tenant's recordings directory, only ``${uuid}`` and ``${strftime(...)}``)
and its ``${uuid}`` is the call's own Unique-ID, not whatever a ``${uuid}``
variable says. ``set`` expands the rest once, on the caller's channel; its
completion reports the expanded name. RECORD_BRIDGE_REQ makes
record_session record only while the channel is bridged (switch_ivr_async.c
l.3040, as mod_callcenter's record on the member channel). The three run in
order ahead of the bridge to the agents: nothing waits for their completions.
"""

from __future__ import annotations

from fsapps import escape

NAME_VARIABLE = "fsapps_recording"


def recording_path(template: str, tenant: str, call_uuid: str) -> str:
    """The path for this call; raises escape.UnsafeValue for a template that is not allowed."""
    return escape.recording_path(template, tenant).replace("${uuid}", escape.uuid_arg(call_uuid))


def start(path: str) -> list[tuple[str, str]]:
    """The applications (name, argument) that start the recording; the first one names the file."""
    return [
        ("set", f"{NAME_VARIABLE}={path}"),
        ("set", "RECORD_BRIDGE_REQ=true"),
        ("record_session", "${" + NAME_VARIABLE + "}"),
    ]


def stop(path: str) -> tuple[str, str]:
    """The application that stops it, given the expanded name."""
    return "stop_record_session", escape.app_arg(path)
