"""The far ends of emulated calls: callers dialling in, phones being dialled.

Times are virtual seconds (see fsapps.sim.clock). A caller's timeline
counts from the moment their call is answered, as sipp scenarios do after
their ACK.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import gevent

if TYPE_CHECKING:
    from fsapps.sim.channel import Channel


def play_timeline(ch: Channel, dtmf: Sequence[tuple[float, str]], hangup_after: float | None) -> bool:
    """Press digits at their times from now; True when it is time to hang up."""
    clock = ch.switch.clock
    t0 = clock.now()
    for at, digits in sorted(dtmf, key=lambda x: x[0]):
        if ch.wait(t0 + at - clock.now(), lambda: False) == "hangup":
            return False
        ch.queue_dtmf(digits)
    if hangup_after is None:
        return False
    return ch.wait(t0 + hangup_after - clock.now(), lambda: False) != "hangup"


@dataclass
class CallerScript:
    """A calling party: digits to press and when to hang up, after answer.

    ``answers`` are (words, digits): once a prompt containing ``words``
    starts, the caller presses ``digits`` ``reaction`` seconds later, each
    answer once and in order, as a person would. ``keypad`` is what the
    caller keys at each digit read, in order, whatever the prompt ("" keys
    nothing and lets the read time out).
    """

    dtmf: Sequence[tuple[float, str]] = ()
    answers: Sequence[tuple[str, str]] = ()
    keypad: Sequence[str] = ()
    speech_seconds: float = 0.0  # how long the caller talks when recorded (the emulator has no audio)
    reaction: float = 0.5
    hangup_after: float | None = None  # seconds after answer; None: wait for the switch
    give_up_after: float | None = None  # seconds from the start if never answered
    hungup_by_caller: bool = field(default=False, init=False)

    def attach(self, ch: Channel) -> None:
        ch.speech_seconds = self.speech_seconds
        pending = list(self.answers)

        def on_prompt(what: str) -> None:
            if pending and pending[0][0].lower() in what.lower():
                _, digits = pending.pop(0)
                gevent.spawn(self._press_later, ch, digits)

        if pending:
            ch.prompt_listeners.append(on_prompt)
        keys = list(self.keypad)

        def on_read() -> None:
            if keys:
                digits = keys.pop(0)
                if digits:
                    gevent.spawn(self._press_later, ch, digits)

        if keys:
            ch.input_listeners.append(on_read)
        gevent.spawn(self._run, ch)

    def _press_later(self, ch: Channel, digits: str) -> None:
        if ch.wait(self.reaction, lambda: False) != "hangup":
            ch.queue_dtmf(digits)

    def _run(self, ch: Channel) -> None:
        limit = self.give_up_after if self.give_up_after is not None else float("inf")
        # Early media counts too: a caller hears and can key during pre-answer prompts.
        ch.wait(limit, lambda: ch.answered or ch.early_media)
        if not ch.up:
            return
        if not (ch.answered or ch.early_media):
            self.hungup_by_caller = True
            ch.note("caller gave up before answer")
            ch.hangup("ORIGINATOR_CANCEL")
            return
        if play_timeline(ch, self.dtmf, self.hangup_after):
            self.hungup_by_caller = True
            ch.note("caller hung up")
            ch.hangup("NORMAL_CLEARING")

    def on_hangup(self, ch: Channel) -> None:
        pass


@dataclass
class Endpoint:
    """A registered phone (a directory user or an agent's softphone).

    ``answer_after`` None means it rings until the originator gives up;
    ``reject`` answers the INVITE with that cause (USER_BUSY, CALL_REJECTED).
    """

    answer_after: float | None = 0.5
    reject: str | None = None
    hangup_after: float | None = None
    dtmf: Sequence[tuple[float, str]] = ()
    calls: list[str] = field(default_factory=list)

    def attach(self, ch: Channel) -> None:
        self.calls.append(ch.uuid)
        gevent.spawn(self._run, ch)

    def _run(self, ch: Channel) -> None:
        if self.reject:
            ch.wait(0.05, lambda: False)
            ch.note(f"phone rejected: {self.reject}")
            ch.hangup(self.reject)
            return
        ch.mark_ring_ready()
        if self.answer_after is None:
            ch.wait(float("inf"), lambda: False)
            return
        if ch.wait(self.answer_after, lambda: False) == "hangup":
            return
        ch.note("phone answered")
        ch.mark_answered()
        if play_timeline(ch, self.dtmf, self.hangup_after):
            ch.note("phone hung up")
            ch.hangup("NORMAL_CLEARING")

    def on_hangup(self, ch: Channel) -> None:
        pass
