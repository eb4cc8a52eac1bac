"""How the emulator finds what a channel runs (the CS_ROUTING hunt).

``StaticDialplan`` is a Python-built dialplan: per context, destination
patterns mapped to action lists, with ``$1``.. captures as
mod_dialplan_xml substitutes them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from fsapps.sim.channel import Channel

Action = tuple[str, str]


class Dialplan(Protocol):
    def hunt(self, channel: Channel) -> list[Action] | None:
        """The actions to execute, or None when no extension matches."""


class StaticDialplan:
    def __init__(self) -> None:
        self._routes: dict[str, list[tuple[re.Pattern[str], list[Action]]]] = {}

    def add(self, context: str, pattern: str, actions: list[Action]) -> StaticDialplan:
        self._routes.setdefault(context, []).append((re.compile(pattern), list(actions)))
        return self

    def hunt(self, channel: Channel) -> list[Action] | None:
        p = channel.profile
        for regex, actions in self._routes.get(p.context, []):
            m = regex.search(p.destination_number)
            if m:
                groups = m.groups()

                def sub(data: str, groups: tuple = groups) -> str:
                    for i in range(len(groups), 0, -1):
                        data = data.replace(f"${i}", groups[i - 1] or "")
                    return data

                return [(app, sub(data)) for app, data in actions]
        return None
