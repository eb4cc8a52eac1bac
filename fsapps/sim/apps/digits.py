"""Collecting digits: switch_ivr_read (switch_ivr_play_say.c:2502),
switch_play_and_get_digits (l.2627), switch_ivr_collect_digits_count
(switch_ivr.c:1342), and the read / play_and_get_digits applications."""

from __future__ import annotations

import logging
import re

from fsapps.sim.apps.calls import session_transfer
from fsapps.sim.apps.playback import play_file
from fsapps.sim.apps.registry import app, int_arg
from fsapps.sim.channel import Channel
from fsapps.sim.strings import separate_string

log = logging.getLogger("fsapps.sim")


def collect_digits(
    ch: Channel, buf: str, max_digits: int, terminators: str, first_timeout_ms: int, digit_timeout_ms: int
) -> tuple[str, str, str]:
    """Returns (digits, terminator, status); status is success, timeout or false.

    A terminator already typed ends it at once; each batch of digits restarts
    the timer with the inter-digit timeout; CF_BREAK is not honoured.
    """
    for i, d in enumerate(buf):
        if terminators and d in terminators:
            return buf[:i], d, "success"
    if digit_timeout_ms and first_timeout_ms:
        eff = first_timeout_ms
    elif digit_timeout_ms:
        eff = digit_timeout_ms
    else:
        eff = digit_timeout_ms = first_timeout_ms
    clock = ch.switch.clock
    started = clock.now()
    while True:
        left = eff / 1000.0 - (clock.now() - started) if eff else float("inf")
        if left <= 0:
            return buf, "", "timeout"
        why = ch.wait(left, lambda: _collect_wake(ch))
        if why is None:
            return buf, "", "timeout"
        if why != "dtmf":
            return buf, "", "false"
        if eff:
            eff = digit_timeout_ms
            started = clock.now()
        while ch.dtmf:
            d = ch.take_dtmf() or ""
            if terminators and d in terminators:
                return buf, d, "success"
            buf += d
            if len(buf) >= max_digits:
                return buf, "", "success"


def _collect_wake(ch: Channel) -> str | None:
    why = ch.interruption(dtmf=True)
    return None if why == "break" else why


def ivr_read(
    ch: Channel,
    min_digits: int,
    max_digits: int,
    prompt: str,
    var_name: str,
    timeout_ms: int,
    terminators: str,
    digit_timeout_ms: int,
) -> tuple[str, str]:
    """switch_ivr_read. Returns (digits, status): success, timeout, too_small, restart or false."""
    term_required = terminators.startswith("=")
    digit_timeout_ms = digit_timeout_ms or timeout_ms
    max_digits = max(max_digits, min_digits)
    ch.set_var("read_result", None)
    if var_name:
        ch.set_var(var_name, None)
    if not (ch.answered or ch.early_media):
        ch.mark_pre_answered()
    ch.reading_digits()
    buf, term, status = "", "", "success"
    if prompt and prompt.lower() != "silence":
        res = play_file(ch, prompt, mode="buffer")
        buf = res.digit
        if res.status in ("hangup", "not_ready"):
            return buf, "false"  # l.2564: straight to the end, read_result unset
    if (min_digits and len(buf) < min_digits) or len(buf) < max_digits:
        buf, term, status = collect_digits(
            ch, buf, max_digits, terminators, digit_timeout_ms if buf else timeout_ms, digit_timeout_ms
        )
    if term:
        ch.set_var("read_terminator_used", term)
        p = terminators.find(term)
        if p >= 1 and terminators[p - 1] in "+x":
            buf += term
            if terminators[p - 1] == "x":
                status = "restart"
    elif term_required:
        status = "too_small"
    if min_digits and len(buf) < min_digits:
        status = "too_small"
    ch.set_var("read_result", {"success": "success", "timeout": "timeout"}.get(status, "failure"))
    if status != "restart" and max_digits == 1 and len(buf) == 1 and terminators and buf in terminators:
        buf = ""
    if var_name and buf:
        ch.set_var(var_name, buf)
    return buf, status


@app("read", needs_media=True)
def read_app(ch: Channel, data: str) -> None:
    """read_function (dpt:2755): <min> <max> <file> <var> <timeout> <terminators> [<digit_timeout>]."""
    argv = separate_string(data, " ", 7)
    min_d = max(int_arg(argv[0] if argv else "", 1), 1)
    max_d = max(int_arg(argv[1] if len(argv) > 1 else "", 1), min_d)
    prompt = argv[2] if len(argv) > 2 else ""
    var_name = argv[3] if len(argv) > 3 else ""
    timeout = max(int_arg(argv[4] if len(argv) > 4 else "", 1000), 1000)
    terms = (argv[5] if len(argv) > 5 else "") or "#"
    digit_timeout = int_arg(argv[6] if len(argv) > 6 else "", 0)
    ivr_read(ch, min_d, max_d, prompt, var_name, timeout, terms, digit_timeout)


@app("play_and_get_digits", needs_media=True)
def play_and_get_digits(ch: Channel, data: str) -> None:
    """play_and_get_digits_function (dpt:2822).

    <min> <max> <tries> <timeout> <terminators> <file> <invalid_file>
    <var_name> <regexp> [<digit_timeout>] ['<failure_ext> [<dp> [<ctx>]]']
    """
    argv = separate_string(data, " ", 11)
    if len(argv) < 7:
        log.warning("play_and_get_digits: usage error: %r", data)
        return
    min_d = max(int_arg(argv[0], 0), 0)
    max_d = max(int_arg(argv[1], 0), min_d)
    tries = int_arg(argv[2], 1)
    timeout = max(int_arg(argv[3], 1000), 1000)
    terms = argv[4] or "#"
    prompt, invalid = argv[5], argv[6]
    var_name = argv[7] if len(argv) > 7 else ""
    regex = argv[8] if len(argv) > 8 else ""
    digit_timeout = int_arg(argv[9], 0) if len(argv) > 9 else 0
    digit_timeout = digit_timeout or timeout
    on_failure = argv[10] if len(argv) > 10 else ""
    if regex and var_name:
        ch.set_var(f"{var_name}_invalid", None)
    while ch.up and tries > 0:
        buf, status = ivr_read(ch, min_d, max_d, prompt, var_name, timeout, terms, digit_timeout)
        if status == "restart":
            return
        if status == "timeout" and len(buf) >= min_d:
            status = "success"
        if min_d == 0 and not buf and ch.get_var("read_terminator_used") is not None:
            return
        if status == "success" and buf:
            if not regex:
                return
            if _matches(regex, buf):
                return
            ch.set_var(var_name, None)
            if var_name:
                ch.set_var(f"{var_name}_invalid", buf)
        if not ch.up or ch.transfer_to:
            break
        # ps:2698: the invalid prompt plays with no args: digits stay queued.
        if invalid:
            play_file(ch, invalid, mode="none")
        tries -= 1
    if on_failure and ch.up:
        parts = on_failure.split(" ")
        ch.note(f"PAGD failure! Transfer to: {' / '.join(parts)}")
        session_transfer(ch, parts[0], parts[1] if len(parts) > 1 else "", parts[2] if len(parts) > 2 else "")


def _matches(regex: str, digits: str) -> bool:
    try:
        return re.search(regex, digits) is not None
    except re.error:
        log.warning("play_and_get_digits: bad regex %r", regex)
        return False
