"""The controller dispatches calls to applications by name; unknown names go back to the dialplan."""

import logging

from fsapps.config import Settings
from fsapps.controller import Controller
from fsapps.sim.dialplan import StaticDialplan
from fsapps.sim.endpoints import CallerScript
from fsapps.sim.switch import Switch

FALLBACK = "tone_stream://%(300,0,620)"


def rig(app_path: str, apps: dict, **controller_settings) -> tuple[Controller, Switch]:
    settings = Settings()
    settings.controller.port = 0
    for key, value in controller_settings.items():
        setattr(settings.controller, key, value)
    controller = Controller(settings, applications=apps).start()
    dp = StaticDialplan().add(
        "public",
        r"^1000$",
        [
            ("set", "fsapps_args=hello"),
            ("socket", f"127.0.0.1:{controller.server.port}/{app_path} async full"),
            ("playback", FALLBACK),
        ],
    )
    return controller, Switch(dialplan=dp, speed=10.0).start()


def test_named_application_runs_with_its_args() -> None:
    seen = []

    def app(session, args):
        seen.append((args, session.getVariable("socket_path")))
        session.answer()
        session.hangup()

    controller, sw = rig("myapp", {"myapp": app})
    try:
        ch = sw.place_call("1000", script=CallerScript())
        assert ch.destroyed.wait(10)
        assert seen == [("hello", "myapp")]
        assert f"heard {FALLBACK}" not in sw.call_log(ch.uuid)
    finally:
        sw.stop()
        controller.stop(0)


def test_unknown_application_is_logged_and_the_call_goes_on(caplog) -> None:
    caplog.set_level(logging.ERROR, "fsapps.controller")
    controller, sw = rig("nosuchapp", {})
    try:
        ch = sw.place_call("1000", script=CallerScript())
        assert ch.destroyed.wait(10)
        assert f"heard {FALLBACK}" in sw.call_log(ch.uuid)
        assert any("unknown application 'nosuchapp'" in r.getMessage() for r in caplog.records)
    finally:
        sw.stop()
        controller.stop(0)


def test_the_socket_settings_reach_the_server() -> None:
    """controller.allow_from without loopback: the emulator's call is closed at accept and
    goes on in the dialplan; the handshake timeout and the cap come from the settings too."""
    ran = []
    controller, sw = rig(
        "myapp", {"myapp": ran.append}, allow_from=["10.0.0.0/8"], max_pending=7, connect_timeout=1.5
    )
    try:
        server = controller.server
        assert (server.max_sockets, server.connect_timeout) == (1007, 1.5)
        ch = sw.place_call("1000", script=CallerScript(hangup_after=1.0))
        assert ch.destroyed.wait(10)
        assert f"heard {FALLBACK}" in sw.call_log(ch.uuid)
        assert ran == [] and server.refused_peers == 1
    finally:
        sw.stop()
        controller.stop(0)
