"""Play one or more prompts (separated by '!') and hang up: announcements, closed messages."""

from __future__ import annotations

from fsapps.apps.registry import application
from fsapps.session import Session


@application("announce")
def announce(session: Session, args: str) -> None:
    session.answer()
    for prompt in filter(None, args.split("!")):
        session.streamFile(prompt)
    session.hangup("NORMAL_CLEARING")
