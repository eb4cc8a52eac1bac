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

from fsapps import escape
from fsapps.escape import Part, Text
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
        path = escape.playback_arg(path)
        self.call.execute("playback", f"{path}@@{sample_count}" if sample_count else path)

    def speak(self, text: str) -> None:
        engine = self.getVariable("tts_engine") or "flite"
        voice = self.getVariable("tts_voice") or "kal"
        # speak takes the text after the second '|' as it is (mod_dptools.c speak_function).
        self.call.execute("speak", escape.app_data(Text(f"{engine}|{voice}|"), Text(text)))

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
        """Stored at once and inert (fsapps.escape): a caller's or a lookup's "${...}" stays
        text however often the dialplan refers to the variable later. Set with the api, whose
        reply is immediate, as mod_python3's setVariable is: an ``execute set`` would wait for
        the switch's next socket poll (up to 20 ms, mod_event_socket.c:1496)."""
        reply = self.call.api(escape.setvar_command(self.call.uuid, name, value))
        if not reply.startswith("+OK"):
            if not self.call.ready:
                raise CallerHungUp(self.call.hangup_cause or "hangup")
            # A socket without ``full`` may not run api commands: set it in the channel's turn.
            self.call.execute("set", escape.set_data(name, value))
        self.call.variables[name] = escape.inert(value)

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
        var = escape.variable_name(var_name or "fsapps_digits")
        args: list[Part | list[Part]] = [
            str(min_digits), str(max_digits), str(max_tries), str(timeout), terminators or "none",
            _media_arg(audio_files), _media_arg(bad_input_audio_files or "silence"), var,
            Text(digits_regex or ".*"), str(digit_timeout or timeout),
        ]  # fmt: skip
        if transfer_on_failure:
            args.append(transfer_on_failure)
        done = self.call.execute("play_and_get_digits", escape.app_args(*args))
        digits = done.variable(var) or ""
        self.call.variables[var] = digits
        return digits


def _media_arg(path: str) -> Part | list[Part]:
    """A file or ``say:`` text as one of play_and_get_digits' blank-separated arguments."""
    if path.startswith("say:"):
        return ["say:", Text(escape.spoken(path[4:]))]
    return path


__all__ = ["CallerHungUp", "EslSession", "Session"]
