"""Controllers and emulators wired as a deployment wires them, for tests that place calls and
for ``fsapps demo``."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fsapps.apps.context import AppContext
from fsapps.config import ControllerSettings, EslSettings, Settings
from fsapps.controller import Controller
from fsapps.flows.install import install
from fsapps.flows.model import Project
from fsapps.flows.render import render
from fsapps.sim.clock import SimClock
from fsapps.sim.directory import Directory
from fsapps.sim.switch import Switch, SwitchConfig
from fsapps.sim.xmlconf import load_document
from fsapps.sim.xmldialplan import XmlDialplan


def start_controller(
    project: Project,
    store: Any,
    clock: SimClock,
    state_dir: Path,
    port: int = 0,
    esl: EslSettings | None = None,
) -> Controller:
    """A controller on loopback (a free port unless ``port``) serving ``project``'s flows, its
    records written through its own spool under ``state_dir``, on the emulator's ``clock``;
    ``esl``: its inbound Event Socket (the switch's events, CDRs, api), else none."""
    ctx = AppContext(project, store=store, now=lambda: datetime.fromtimestamp(clock.now(), UTC))
    listen = ControllerSettings(listen="127.0.0.1", port=port)
    settings = Settings(controller=listen, state_dir=str(state_dir), esl=esl or EslSettings())
    controller = Controller(settings, store=store, context=ctx)
    ctx.records = controller.writer
    return controller.start()


def switch_on_conf(conf: Path, sounds_dir: Path, config: SwitchConfig) -> Switch:
    """An emulator that runs the dialplan and directory rendered into ``conf`` (``fsapps render
    --out``) as FreeSWITCH does: nothing until the first ``reloadxml``, then what the files say.
    ``sounds_dir`` is $${sounds_dir}, where the operator's prompts are deployed."""
    dialplan = XmlDialplan(ET.Element("section", name="dialplan"))
    dialplan.conf, dialplan.variables = conf, {"sounds_dir": str(sounds_dir)}
    config.globals = {**config.globals, "sounds_dir": str(sounds_dir)}
    switch = Switch(config, dialplan=dialplan)

    def refresh(document: ET.Element) -> None:
        switch.directory = Directory.from_document(document)

    dialplan.on_reload = refresh
    return switch


def load_rendered(switch: Switch, project: Project, controllers: list[Controller], conf: Path) -> None:
    """Render ``project`` with these controllers as its socket targets, into ``conf``, and
    make it the switch's dialplan and directory."""
    op = dataclasses.replace(
        project.operator, controllers=[f"127.0.0.1:{c.server.port}" for c in controllers]
    )
    install(render(dataclasses.replace(project, operator=op)), conf)
    document = load_document(conf)
    switch.dialplan = XmlDialplan.from_document(document)
    switch.directory = Directory.from_document(document)
