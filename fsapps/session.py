"""The dialplan application contract: ``handler(session, args)``.

Applications are written against the method names of mod_python3's
``freeswitch.Session`` (src/mod/languages/mod_python3, generated from
src/include/switch_cpp.h CoreSession), so the same code can later run
embedded in FreeSWITCH. ``EslSession`` is that contract over an outbound
Event Socket call.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from fsapps.esl.expand import literal
from fsapps.esl.server import CallerHungUp, OutboundCall

log = logging.getLogger("fsapps.session")


class Session(Protocol):
    """The subset of switch_cpp.h CoreSession that fsapps applications use."""

    def answer(self) -> None: ...
    def preAnswer(self) -> None: ...
    def hangup(self, cause: str = "NORMAL_CLEARING") -> None: ...
    def ready(self) -> bool: ...
    def streamFile(self, path: str, sample_count: int = 0) -> None: ...
    def speak(self, text: str) -> None: ...
    def sleep(self, ms: int, sync: int = 0) -> None: ...
    def getVariable(self, name: str) -> str | None: ...
    def setVariable(self, name: str, value: str) -> None: ...
    def execute(self, app: str, data: str = "") -> None: ...
    def playAndGetDigits(
        self,
        min_digits: int,
        max_digits: int,
        max_tries: int,
        timeout: int,
        terminators: str,
        audio_files: str,
        bad_input_audio_files: str,
        digits_regex: str,
        var_name: str | None = None,
        digit_timeout: int = 0,
        transfer_on_failure: str | None = None,
    ) -> str: ...


CALLER_FIELDS = {
    "caller_id_number": "Caller-Caller-ID-Number",
    "caller_id_name": "Caller-Caller-ID-Name",
    "destination_number": "Caller-Destination-Number",
    "ani": "Caller-ANI",
    "network_addr": "Caller-Network-Addr",
    "rdnis": "Caller-RDNIS",
    "username": "Caller-Username",
    "dialplan": "Caller-Dialplan",
    "uuid": "Unique-ID",
}


class EslSession:
    """CoreSession's methods as Event Socket commands on one call.

    Methods raise ``CallerHungUp`` once the call is gone, which ends the
    application cleanly (the server catches it); ``ready()`` lets an
    application check first instead.
    """

    def __init__(self, call: OutboundCall) -> None:
        self.call = call
        self.context: Any = None  # the runtime's AppContext (fsapps.apps.context)

    @property
    def uuid(self) -> str:
        return self.call.uuid

    def ready(self) -> bool:
        return self.call.ready

    def answer(self) -> None:
        # A no-op on an answered channel, as in mod_python3; over the Event Socket it would
        # still cost a round trip and the switch's next socket poll (up to 20 ms).
        if not self.call.answered:
            self.call.execute("answer")

    def preAnswer(self) -> None:
        self.call.execute("pre_answer")

    def hangup(self, cause: str = "NORMAL_CLEARING") -> None:
        self.call.hangup(cause)

    def execute(self, app: str, data: str = "") -> None:
        self.call.execute(app, data or None)

    def streamFile(self, path: str, sample_count: int = 0) -> None:
        path = _media(path)
        self.call.execute("playback", f"{path}@@{sample_count}" if sample_count else path)

    def speak(self, text: str) -> None:
        engine = self.getVariable("tts_engine") or "flite"
        voice = self.getVariable("tts_voice") or "kal"
        self.call.execute("speak", f"{engine}|{voice}|{text}")

    def sleep(self, ms: int, sync: int = 0) -> None:
        self.call.execute("sleep", str(int(ms)))

    def getVariable(self, name: str) -> str | None:
        value = self.call.variables.get(name)
        if value is None and name in CALLER_FIELDS:
            # switch_channel_get_variable falls back to the caller profile
            # (switch_caller_get_field_by_name, switch_caller.c), which mod_python3
            # sees; over ESL those fields come as the connect reply's Caller-* headers.
            value = self.call.channel_data(CALLER_FIELDS[name]) or None
        return value

    def setVariable(self, name: str, value: str) -> None:
        # mod_python3 stores the value as given. ``set`` expands it twice, once as the
        # application's argument (switch_core_session.c:2867) and once more in base_set
        # (mod_dptools.c:1667): escaped twice, a caller's or a lookup's "${...}" stays text.
        self.call.execute("set", f"{name}={literal(literal(value))}")
        self.call.variables[name] = value

    def playAndGetDigits(
        self,
        min_digits: int,
        max_digits: int,
        max_tries: int,
        timeout: int,
        terminators: str,
        audio_files: str,
        bad_input_audio_files: str,
        digits_regex: str,
        var_name: str | None = None,
        digit_timeout: int = 0,
        transfer_on_failure: str | None = None,
    ) -> str:
        """mod_python3's order: the regex comes before the variable name (FACTS.md)."""
        var = var_name or "fsapps_digits"
        args = [
            str(min_digits), str(max_digits), str(max_tries), str(timeout), terminators or "none",
            _media(audio_files), _media(bad_input_audio_files or "silence"), var, digits_regex or ".*",
            str(digit_timeout or timeout),
        ]  # fmt: skip
        if transfer_on_failure:
            args.append(transfer_on_failure)
        done = self.call.execute("play_and_get_digits", " ".join(_quote(a) for a in args))
        digits = done.variable(var) or ""
        self.call.variables[var] = digits
        return digits


def _media(path: str) -> str:
    """What to play, as the app's argument. Sound paths are the operator's and may
    name ${variables} the switch fills in (${sounds_dir}); TTS text may carry a
    looked-up value and must arrive as written (no API runs from a "${...}")."""
    if path.startswith("say:"):
        return "say:" + literal(path[4:])
    return path


def _quote(arg: str) -> str:
    """One argument for switch_separate_string: quoted when it holds a blank."""
    if " " in arg or "'" in arg:
        return "'" + arg.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return arg


__all__ = ["CallerHungUp", "EslSession", "Session"]
