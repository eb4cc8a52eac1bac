"""The checked flows an application process runs: what ``fsapps check`` accepts.

A tenant whose files have problems is left out (its calls take their
fallbacks) and each problem is logged as ``file:line:col``; the others run.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fsapps.flows.check import check
from fsapps.flows.model import Project

log = logging.getLogger("fsapps.apps")


def load_checked(root: str | Path) -> Project:
    project = check(root)
    if not project.problems:
        return project
    bad: set[str] = set()
    for problem in project.problems:
        log.error("flows: %s", problem)
        for tenant in project.tenants:
            if Path(problem.where.file).resolve().is_relative_to(Path(tenant.directory).resolve()):
                bad.add(tenant.id)
    kept = [t for t in project.tenants if t.id not in bad]
    if bad:
        log.error("flows: tenant(s) %s not served until their problems are fixed", ", ".join(sorted(bad)))
    return Project(project.root, project.operator, kept, [])
