"""A small menu: greet the caller, take a choice, say where they go.

The sample application the demo calls through; each branch ends the call.
"""

from __future__ import annotations

from fsapps.apps.registry import application
from fsapps.session import Session

MENU = "say:For sales press 1. For support press 2."
INVALID = "say:Sorry, that is not a valid choice."
BRANCHES = {
    "1": "say:Connecting you to sales. Goodbye.",
    "2": "say:Our support team will call you back within the hour. Goodbye.",
}


@application("welcome")
def welcome(session: Session, args: str) -> None:
    session.answer()
    session.setVariable("tts_engine", "flite")
    session.setVariable("tts_voice", "kal")
    session.speak(args or "Welcome to fsapps.")
    choice = session.playAndGetDigits(1, 1, 3, 4000, "#", MENU, INVALID, "^[12]$", "menu_choice")
    if choice in BRANCHES:
        session.streamFile(BRANCHES[choice])
    else:
        session.streamFile("say:We did not get a choice. Goodbye.")
    session.hangup("NORMAL_CLEARING")
