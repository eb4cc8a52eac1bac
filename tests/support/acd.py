"""Controllers on the emulator's clock and a switch running their rendered dialplan,
as the ACD's integration tests start them."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

from fsapps.apps.context import AppContext
from fsapps.config import ControllerSettings, Settings
from fsapps.controller import Controller
from fsapps.flows.install import install
from fsapps.flows.model import Project
from fsapps.flows.render import render
from fsapps.sim.directory import Directory
from fsapps.sim.switch import Switch
from fsapps.sim.xmlconf import load_document
from fsapps.sim.xmldialplan import XmlDialplan
from fsapps.store.db import Store


def start_controller(
    project: Project, store: Store, switch: Switch, state_dir: Path, port: int = 0
) -> Controller:
    """A controller serving ``project``, its clock the switch's, its records through its own
    durable writer under ``state_dir``."""
    ctx = AppContext(project, store=store, now=lambda: datetime.fromtimestamp(switch.clock.now(), UTC))
    c = Controller(
        Settings(controller=ControllerSettings(listen="127.0.0.1", port=port), state_dir=str(state_dir)),
        store=store,
        context=ctx,
    )
    ctx.records = c.writer
    return c.start()


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
