"""A controller's callers as its memory has them against their rows in PostgreSQL.

The ACD's routing changes (a caller joining or leaving, the offers, an agent's answer or
the end of their call, a ring nobody answered) commit without waiting for the WAL flush
(fsapps.store.db.UNFLUSHED), as mod_callcenter keeps the same state in SQLite with
PRAGMA synchronous=OFF (switch_core_db.c:204). PostgreSQL flushes them within
3 x wal_writer_delay (0.6 s by default); a crash of PostgreSQL or of its host in that
window undoes them. The controller holding a caller's socket knows where that caller is,
so once a tick it compares (``diverged``) and puts its own rows back:

* ``restore``: a caller it holds has no row (a join undone): written back, with the
  joined time it holds (their place);
* ``remove``: a row of its own in Waiting or Trying that no caller here holds (a leave
  undone), but for callers it handed on lately to the next controller: a row nobody
  serves would take the agents ``decide`` gives it from the callers behind it;
* ``wait``: a caller it holds as waiting (their ring over) whose row says Trying (a
  no-answer undone): back to Waiting, or no offer could claim them again;
* ``free``: an agent Receiving for a caller of its own whose ring is over (the same
  no-answer undone): back to Waiting;
* ``replace``: a caller it holds in a queue other than their row's, or waiting while
  their row says Answered (moved or transferred to a queue, the leave of the earlier visit
  and the join of the next undone together): the row is the one it holds, or no pass of
  the new queue would see them;
* ``end``: an agent In a queue call with a caller it holds as waiting or ringing again
  (the end of their call undone, the caller since transferred to a queue): the call ends,
  wrap-up from the fix.

An offer or an answer undone leaves an agent Waiting whose phone rings or talks: the
queue's skip-agents-with-external-calls (mod_callcenter's default, and fsapps') passes
over them while their phone has a live channel (a queue that sets it false may ring them
then). An answer undone is made good by the end of the call, which frees the agent from
their offer. An end of a call undone, the caller not back in a queue here, leaves the agent In a
queue call until the caller's own call ends: the housekeeper then completes the visit
whose row nobody here holds (fsapps.acd.housekeeping), its records landing once (their
ids are the visit's).

Transitions are in flight for a few milliseconds between their commit and the memory's
change (a join's row is written before the caller is held, a leave's is removed after):
``Confirm`` acts on a divergence only once every look for ``after`` seconds, and at least
``looks`` of them, saw it.

Pure: ``diverged`` and ``Confirm`` take what they compare, and ``now``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from fsapps.acd.model import MemberState

AFTER = 2.0  # seconds a divergence is seen in every tick before it is acted on
LOOKS = 3  # and in at least this many looks (ticks lost to an outage do not count)


@dataclass(frozen=True)
class Fix:
    kind: str  # restore, remove, wait, free, replace or end
    member: str
    agent: str = ""  # for ``free`` and ``end``


def diverged(
    held: Mapping[str, str],
    rows: Mapping[str, str],
    offered: Iterable[tuple[str, str]],
    handed_on: Collection[str] = (),
    ringing: Collection[str] = (),
    *,
    held_in: Mapping[str, str] | None = None,
    rows_in: Mapping[str, str] | None = None,
    talking: Iterable[tuple[str, str]] = (),
) -> set[Fix]:
    """``held``: member -> state (Waiting, Trying, Answered) of the callers this controller
    holds; ``rows``: member -> state of its rows; ``offered``: (agent, member) of the
    agents Receiving for its offers; ``handed_on``: callers whose row waits for another;
    ``ringing``: callers an agent's leg still rings for, whatever the memory says (left
    Trying, their agents left Receiving); ``held_in`` and ``rows_in``: member -> the queue
    the memory holds them in and their row's; ``talking``: (agent, member) of the agents
    In a queue call with its callers."""
    fixes = set()
    held_in, rows_in = held_in or {}, rows_in or {}
    for member, state in held.items():
        row = rows.get(member)
        if row is None:
            fixes.add(Fix("restore", member))
        elif (
            held_in.get(member, "") != rows_in.get(member, "")
            or (row == MemberState.ANSWERED and state != MemberState.ANSWERED)
        ):
            fixes.add(Fix("replace", member))
        elif state == MemberState.WAITING and row == MemberState.TRYING and member not in ringing:
            fixes.add(Fix("wait", member))
    for agent, member in talking:
        if held.get(member) in (MemberState.WAITING, MemberState.TRYING):
            fixes.add(Fix("end", member, agent))
    in_play = (MemberState.WAITING, MemberState.TRYING)
    for member, row in rows.items():
        if member not in held and member not in handed_on and row in in_play:
            fixes.add(Fix("remove", member))
    for agent, member in offered:
        if held.get(member) == MemberState.WAITING and member not in ringing:
            fixes.add(Fix("free", member, agent))
    return fixes


class Confirm:
    """Divergences to act on: those seen in every look over at least ``after`` seconds, and
    in at least ``looks`` looks (two looks either side of an outage are not enough)."""

    def __init__(self, after: float = AFTER, looks: int = LOOKS) -> None:
        self.after = after
        self.looks = looks
        self._since: dict[Fix, tuple[float, int]] = {}

    def confirmed(self, seen: set[Fix], now: float) -> set[Fix]:
        # Gone ones forgotten; the others counted once more.
        self._since = {fix: (self._since[fix][0], self._since[fix][1] + 1) if fix in self._since else (now, 1)
                       for fix in seen}  # fmt: skip
        return {
            fix
            for fix, (since, looks) in self._since.items()
            if now - since >= self.after and looks >= self.looks
        }
