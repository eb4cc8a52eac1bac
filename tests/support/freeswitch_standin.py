"""A stand-in for the ``freeswitch`` module mod_python3 gives embedded code.

It follows the API mod_python3 generates from switch_cpp.h (CoreSession:
answer, preAnswer, hangup, ready, streamFile, playAndGetDigits, getVariable,
setVariable, execute, speak, set_tts_params, sleep, get_uuid; see
src/mod/languages/mod_python3/freeswitch.py) and its behaviour once the
caller has gone: calls return at once, ``ready()`` is false. The caller is
a script: the digits keyed at each digit read, and after how many media
operations they hang up.
"""

from __future__ import annotations

import uuid as uuidlib


class Session:
    def __init__(
        self,
        variables: dict[str, str] | None = None,
        keypad: list[str] | None = None,
        hangup_after_media: int | None = None,
    ) -> None:
        self.variables = dict(variables or {})
        self.variables.setdefault("uuid", str(uuidlib.uuid4()))
        self.keypad = list(keypad or [])
        self.hangup_after_media = hangup_after_media
        self.played: list[str] = []
        self.executed: list[tuple[str, str]] = []
        self.answered = False
        self.hangup_cause: str | None = None
        self.tts: tuple[str, str] | None = None

    # --- the caller ---------------------------------------------------------
    def _media(self) -> bool:
        """One media operation; False when the caller has gone (before or now)."""
        if self.hangup_cause is not None:
            return False
        if self.hangup_after_media is not None:
            if self.hangup_after_media <= 0:
                self.hangup_cause = "NORMAL_CLEARING"
                return False
            self.hangup_after_media -= 1
        return True

    # --- CoreSession --------------------------------------------------------
    def get_uuid(self) -> str:
        return self.variables["uuid"]

    def ready(self) -> bool:
        return self.hangup_cause is None

    def answer(self) -> int:
        if self.ready():
            self.answered = True
        return 0

    def preAnswer(self) -> None:
        pass

    def hangup(self, cause: str = "normal_clearing") -> None:
        if self.hangup_cause is None:
            self.hangup_cause = cause

    def getVariable(self, name: str) -> str | None:
        return self.variables.get(name)

    def setVariable(self, name: str, value: str) -> None:
        self.variables[name] = value  # switch_channel_set_variable: stored as given

    def execute(self, app: str, data: str = "") -> None:
        if self.ready():
            self.executed.append((app, data))

    def streamFile(self, file: str, starting_sample_count: int = 0) -> int:
        if self._media():
            self.played.append(file)
        return 0

    def set_tts_params(self, engine: str, voice: str) -> None:
        self.tts = (engine, voice)

    def speak(self, text: str) -> int:
        if self._media():
            self.played.append(f"speak:{text}")
        return 0

    def sleep(self, ms: int, sync: int = 0) -> int:
        self._media()
        return 0

    def playAndGetDigits(
        self, min_digits, max_digits, max_tries, timeout, terminators, audio_files, bad_input_audio_files,
        digits_regex, var_name=None, digit_timeout=0, transfer_on_failure=None,
    ) -> str:  # fmt: skip
        import re

        for _ in range(max(int(max_tries), 1)):
            if not self._media():
                return ""
            self.played.append(audio_files)
            digits = self.keypad.pop(0) if self.keypad else ""
            if len(digits) >= int(min_digits) and re.fullmatch(digits_regex, digits):
                if var_name:
                    self.variables[var_name] = digits
                return digits
        return ""
