"""Shared rendering helpers for node modules."""

from __future__ import annotations

from fsapps.flows.nodes.base import Route


def var_route(branch: str, variable: str, expression: str) -> Route:
    return Route(branch, ({"field": "${" + variable + "}", "expression": expression},))


def exact(value: str) -> str:
    """A regular expression matching ``value`` exactly (PCRE, as mod_dialplan_xml uses)."""
    special = set(r"\.^$|?*+()[]{}")
    return "^" + "".join("\\" + c if c in special else c for c in value) + "$"
