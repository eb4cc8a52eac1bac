"""Quality assurance for the HTTP API (S2.6 质检席): the tenant admin's scorecards, the
evaluations QA, supervisors and admins make of recorded queue calls, each agent's own
scores, and the averages reports read. Each operation asks fsapps.web.policy through the
Service, then runs in the tenant's wall; the score itself is fsapps.qa's pure function.

Who sees an evaluation: QA and the tenant admin all of the tenant's; a supervisor those
of their groups' queues (as they see the recordings); an agent only the ones of calls
they answered, never a colleague's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fsapps import qa as rules
from fsapps.store import api as repo
from fsapps.store import qa as store
from fsapps.store.db import TenantScope
from fsapps.web.policy import Role, Target
from fsapps.web.service import Refused, Service


class QualityAssurance:
    def __init__(self, service: Service) -> None:
        self.service = service

    # --- scorecards: the tenant admin's forms ----------------------------------------------------

    def scorecards(self, tenant_id: str, retired: bool) -> list[dict[str, Any]]:
        with self.service._tenant(tenant_id, "qa_scorecards.read") as t:
            return store.scorecards(t, include_retired=retired)

    def create_scorecard(self, tenant_id: str, name: str, criteria: list[dict[str, Any]]) -> dict[str, Any]:
        checked = _criteria(criteria)
        with self.service._tenant(tenant_id, "qa_scorecards.write") as t:
            scorecard_id = store.create_scorecard(t, name.strip(), checked, self.service.principal.username)
            return self._scorecard(t, scorecard_id)

    def change_scorecard(self, tenant_id: str, scorecard_id: int, name: str,
                         criteria: list[dict[str, Any]]) -> dict[str, Any]:  # fmt: skip
        """A new version of the scorecard (the evaluations made keep the version they were
        scored against); the same name and criteria again make none."""
        checked = _criteria(criteria)
        with self.service._tenant(tenant_id, "qa_scorecards.write") as t:
            now = self._scorecard(t, scorecard_id, lock=True)
            if now["retired_at"] is not None:
                raise Refused("conflict", "scorecard_retired", f"scorecard {scorecard_id} is retired")
            if (now["name"], now["criteria"]) != (name.strip(), checked):
                store.add_version(t, scorecard_id, now["version"] + 1, name.strip(), checked,
                                  self.service.principal.username)  # fmt: skip
            return self._scorecard(t, scorecard_id)

    def retire_scorecard(self, tenant_id: str, scorecard_id: int) -> None:
        with self.service._tenant(tenant_id, "qa_scorecards.write") as t:
            self._scorecard(t, scorecard_id)
            if not store.retire_scorecard(t, scorecard_id, datetime.fromtimestamp(self.service.clock(), UTC)):
                raise Refused("conflict", "scorecard_retired", f"scorecard {scorecard_id} is retired already")

    def _scorecard(self, t: TenantScope, scorecard_id: int, lock: bool = False) -> dict[str, Any]:
        row = store.scorecard(t, scorecard_id, lock)
        if row is None:
            raise Refused("not_found", "no_such_scorecard", f"no scorecard {scorecard_id}")
        return row

    # --- evaluations -------------------------------------------------------------------------------

    def evaluate(self, tenant_id: str, recording_id: str, scorecard_id: int, answers: list[dict[str, Any]],
                 note: str) -> dict[str, Any]:  # fmt: skip
        """Scores the recorded call against the scorecard's current version."""
        with self.service._tenant(tenant_id, "qa_evaluations.write") as t:
            call = repo.recording(t, recording_id)
            if call is None:
                raise Refused("not_found", "no_such_recording", f"no recording {recording_id}")
            self.service._allow("qa_evaluations.write", Target(tenant_id, queue=call["queue"]))
            card = self._scorecard(t, scorecard_id)
            if card["retired_at"] is not None:
                raise Refused("conflict", "scorecard_retired", f"scorecard {scorecard_id} is retired")
            criteria = rules.criteria(card["criteria"])  # stored checked: cannot fail
            try:
                given = rules.answers(criteria, answers)
            except ValueError as exc:
                raise Refused("invalid", "invalid_answers", f"answers: {exc}") from None
            result = rules.score(criteria, [a["value"] for a in given])
            evaluation_id = store.add_evaluation(t, {
                "recording": recording_id, "version": card["version_id"], "call_uuid": call["call_uuid"],
                "queue": call["queue"], "agent_id": call["agent_id"], "call_at": call["joined_at"],
                "evaluator": self.service.principal.username, "answers": given, "note": note.strip(),
                "score": result.score, "critical_failed": result.critical_failed,
            })  # fmt: skip
            row = store.evaluation(t, evaluation_id)
            assert row is not None
            return row

    def evaluations(self, tenant_id: str, query: dict[str, Any]) -> list[dict[str, Any]]:
        p = self.service.principal
        agent = query["agent"]
        with self.service._tenant(tenant_id, "qa_evaluations.read") as t:
            if p.role is Role.AGENT:  # their own only: asking for a colleague's is refused
                self.service._allow("qa_evaluations.read", Target(tenant_id, agent_id=agent))
                agent = p.agent_id
                if agent is None:
                    return []  # a user with no agent answered no call
            recording = str(query["recording"]) if query["recording"] else None
            return store.evaluations(
                t, agent=agent, queue=query["queue"], recording=recording, start=query["start"],
                end=query["end"], limit=query["limit"], offset=query["offset"],
                queues=self.service._visible(p.queues),
            )  # fmt: skip

    def evaluation(self, tenant_id: str, evaluation_id: int) -> dict[str, Any]:
        with self.service._tenant(tenant_id, "qa_evaluations.read") as t:
            row = store.evaluation(t, evaluation_id)
            if row is None:
                raise Refused("not_found", "no_such_evaluation", f"no evaluation {evaluation_id}")
            if self.service.principal.role is Role.AGENT:
                # "" is nobody's agent: a call no agent answered is no agent's to read.
                target = Target(tenant_id, agent_id=row["agent_id"] or "")
            else:
                target = Target(tenant_id, queue=row["queue"])
            self.service._allow("qa_evaluations.read", target)
            return row

    # --- reports -----------------------------------------------------------------------------------

    def averages(self, tenant_id: str, by: str, start: datetime | None, end: datetime | None
                 ) -> list[dict[str, Any]]:  # fmt: skip
        if start is not None and end is not None and end <= start:
            raise Refused("invalid", "ends_before_start", "the range ends after it starts")
        with self.service._tenant(tenant_id, "qa_reports.read") as t:
            return store.averages(t, by, start, end, self.service._visible(self.service.principal.queues))


def _criteria(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    try:
        return [c.as_dict() for c in rules.criteria(raw)]
    except ValueError as exc:
        raise Refused("invalid", "invalid_criteria", f"criteria: {exc}") from None
