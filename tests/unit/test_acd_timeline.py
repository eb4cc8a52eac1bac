"""The queue caller's stage stamps (fsapps.acd.timeline) that the realswitch bench reads."""

from __future__ import annotations

import logging

import pytest

from fsapps.acd import timeline


def test_stamps_are_asked_for_only_when_the_timeline_logger_is_on() -> None:
    logger = timeline.LOG
    level = logger.level
    try:
        logger.setLevel(logging.INFO)
        assert not timeline.enabled()  # the queue application keeps no stamps then
        logger.setLevel(logging.DEBUG)
        assert timeline.enabled()
    finally:
        logger.setLevel(level)


def test_the_first_stamp_of_a_stage_stands() -> None:
    marks: dict[str, float] = {}
    timeline.stamp(marks, "pass", 10.5)
    timeline.stamp(marks, "pass", 11.0)  # a later pass (ring-progressively's next agent)
    assert marks == {"pass": 10.5}


def test_a_logged_line_reads_back_as_it_was_stamped(caplog: pytest.LogCaptureFixture) -> None:
    marks = {"accepted": 1796545065.090033, "queue": 1796545065.091203, "ring": 1796545065.141937}
    with caplog.at_level(logging.DEBUG, logger=timeline.LOG.name):
        timeline.emit("e0e2ee31-48af-4b50-8010-fb51cca77292", marks)
    line = f"2026-12-06 08:17:45,141 DEBUG {timeline.LOG.name}: {caplog.records[0].getMessage()}"
    assert timeline.parse(line) == ("e0e2ee31-48af-4b50-8010-fb51cca77292", marks)
    assert timeline.parse("2026-12-06 WARNING fsapps.acd: ACD pass failed") is None
