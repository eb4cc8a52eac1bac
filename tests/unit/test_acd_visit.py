"""The caller's side of a queue (fsapps.acd.visit) against what the queue application
did on the switch (tables), the two behaviours of the real switch the emulator cannot
reproduce, and the invariants every run of events must keep (hypothesis)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fsapps.acd import hold_music
from fsapps.acd.visit import RETRY_ANSWER, RING_END_AFTER_HANGUP, Phase, Visit, VisitSetup, announcement
from fsapps.acd.visit_messages import (
    Account,
    AddsLegs,
    AgentCallEnded,
    Announced,
    Answer,
    AnswerTold,
    AppFinished,
    Arrived,
    BestEffort,
    Break,
    BridgeCaller,
    Bridged,
    CallerBridged,
    CatchUp,
    CaughtUp,
    CheckLegs,
    Command,
    CompleteAnswered,
    Completed,
    ConsultOver,
    DialRefused,
    Digit,
    Dispatcher,
    EndAgentCall,
    Ending,
    Event,
    Failed,
    Forget,
    HangUpLeg,
    HungUp,
    Join,
    Leave,
    LegAnswered,
    LegEnded,
    LegsChecked,
    MarkChannel,
    Moved,
    NoteHandleTime,
    NoteRead,
    Offered,
    OfferFailed,
    Originate,
    OutliveController,
    ParkAfterBridge,
    Parked,
    PickedUp,
    Placed,
    Play,
    Query,
    ReadNote,
    RecordingNamed,
    Ring,
    RingTarget,
    RouteOn,
    SetLegVariable,
    SetVariables,
    SocketClosed,
    StartRecording,
    StopRecording,
    Switch,
    TellAnswered,
    TimedOut,
    TransferTo,
    Unbridged,
    Wait,
    WaitOver,
)

NOW = 1_800_000_000.0
CALLER = "0b0c2f7e-1111-4222-8333-944445555666"
RECORDING = "${recordings_dir}/acme/" + CALLER + "-${strftime(%Y%m%d)}.wav"
HOLD = "tone_stream://%(300,700,523)"
SETUP = VisitSetup(
    tenant="acme", queue="support", call_uuid=CALLER, caller="447700900101", caller_name="Ann",
    resume="main.wait", hold_music=HOLD, branches=frozenset({"_", "timeout", "callback"}),
    recording=RECORDING, callback_key="1", connected_at=NOW - 300,
)  # fmt: skip
A1 = RingTarget("acme_a1", "11111111-0000-4000-8000-000000000001", "user/1001@acme.example")
A2 = RingTarget("acme_a2", "11111111-0000-4000-8000-000000000002", "user/1002@acme.example")
A3 = RingTarget("acme_a3", "11111111-0000-4000-8000-000000000003", "user/1003@acme.example")
A4 = RingTarget("acme_a4", "11111111-0000-4000-8000-000000000004", "user/1004@acme.example")
CONSULTED = "22222222-0000-4000-8000-000000000009"
# ring-progressively's ring path
LEGS = replace(SETUP, adds_legs=True, recording=None, route_on="acme_main_2__route acme")


def kinds(commands: Iterable[Command]) -> list[str]:
    return [type(c).__name__ for c in commands]


def the(kind: type, commands: list[Command]) -> Any:
    (found,) = [c for c in commands if isinstance(c, kind)]
    return found


class Run:
    """A visit and the refs and tokens its commands asked to hear back about."""

    def __init__(self, setup: VisitSetup = SETUP) -> None:
        self.visit = Visit(setup)
        self.now = NOW
        self.started: dict[str, int] = {}  # the latest ref by command kind
        self.token = 0  # the latest Wait's or CatchUp's

    def send(self, event: Event, at: float | None = None) -> list[Command]:
        self.now = at if at is not None else self.now + 0.01
        out = self.visit.receive(event, self.now)
        for c in out:
            if hasattr(c, "ref"):
                self.started[type(c).__name__] = c.ref
            if isinstance(c, Wait | CatchUp):
                self.token = c.token
        return out

    def done(self, kind: str, disposition: str = "") -> list[Command]:
        return self.send(AppFinished(self.started[kind], disposition))

    def timer(self) -> list[Command]:
        return self.send(WaitOver(self.token))

    # --- ways into a phase ---

    def on_hold(self, before: str = "") -> list[Command]:
        self.send(Arrived())
        self.send(Placed(NOW, before))
        return self.send(CaughtUp(self.token))

    def ringing(self, *targets: RingTarget) -> list[Command]:
        self.on_hold()
        self.send(Offered(targets or (A1,), 6))
        return self.done("Play")

    def talking(self, told: bool = True) -> list[Command]:
        """Bridged to A2; ``told``: the database took the answer (the driver's AnswerTold)."""
        self.ringing(A1, A2)
        out = self.send(Bridged(A2.leg, NOW + 10))
        if told:
            assert self.send(AnswerTold()) == []
        return out

    def after_conversation(self) -> list[Command]:
        self.talking()
        self.send(Unbridged(A2.leg, NOW + 40))
        return self.done("Ring", "SUCCESS")


# --- arriving -----------------------------------------------------------------------------


def test_the_caller_is_armed_for_the_hold_route_before_their_place_is_written() -> None:
    r = Run()
    out = r.send(Arrived())
    assert kinds(out) == ["SetVariables", "Join"]
    assert out[0].values == (
        ("fsapps_resume", "main.wait"), ("fsapps_held", ""),
        ("continue_on_fail", "true"), ("hangup_after_bridge", "false"),
        ("fsapps_hold_music", SETUP.hold_music), ("fsapps_queue_route", ""),
    )  # fmt: skip
    unanswered = Run(replace(SETUP, answered=False))
    assert kinds(unanswered.send(Arrived())) == ["Answer"]
    assert kinds(unanswered.send(Digit("5"))) == []  # heard later, in turn
    assert kinds(unanswered.done("Answer")) == ["SetVariables", "Join"]


def test_park_after_bridge_left_on_a_caller_in_the_extension_is_unset_as_they_are_armed() -> None:
    """A uuid_bridge refused earlier on the call left park_after_bridge on a caller who never
    left the node's extension: a bridge's end would park them, so it comes off at once."""
    r = Run(replace(SETUP, park_leftover=True))
    out = r.send(Arrived())
    assert out[0].values[-1] == ("park_after_bridge", "")
    assert not r.visit.park_set


@pytest.mark.parametrize(
    ("before", "expected"),
    [
        ("", ["SetVariables", "CatchUp"]),
        ("Waiting", ["ReleaseStale", "SetVariables", "CatchUp"]),  # another controller had them
        ("Trying", ["ReleaseStale", "SetVariables", "CatchUp"]),
    ],
)
def test_a_placed_caller_notes_the_queue_then_catches_up_with_what_arrived_meanwhile(
    before, expected
) -> None:
    r = Run()
    r.send(Arrived())
    out = r.send(Placed(NOW - 90.5, before))
    assert kinds(out) == expected
    assert the(SetVariables, out).values == (
        ("fsapps_queue", "support"),
        ("fsapps_queue_entered", f"{NOW - 90.5:.3f}"),
    )
    assert kinds(r.send(CaughtUp(r.token))) == ["Play"]


@pytest.mark.parametrize(
    ("first", "expected"),
    [
        (Offered((A1,), 6), ["StartRecording", "Ring"]),
        (Announced(1, 180), ["Play"]),  # the announcement itself, not the hold music
        (TimedOut("max-wait-time"), ["Leave", "Account", "SetVariables"]),
    ],
)
def test_what_the_first_pass_decided_before_the_music_is_done_with_no_music_to_break(
    first, expected
) -> None:
    """The dispatcher's first pass over a new caller comes before the hold music (the driver
    answers CatchUp after it): what it decided is done at once. A break sent right after the
    playback starts is lost (the clip has not begun), and waited for the clip's end."""
    r = Run()
    r.send(Arrived())
    r.send(Placed(NOW, ""))
    assert r.send(first) == []  # heard in turn
    out = r.send(CaughtUp(r.token))
    assert kinds(out) == expected
    if isinstance(first, Announced):
        assert out[0].media.startswith("say:You are number 1")


def test_an_answered_caller_coming_back_completes_their_visit_and_goes_on_in_the_flow() -> None:
    """socket_resume was off while bridged: the call outlived its controller and is back
    as the bridge ended; acd.complete_answered completes it, from the hand-over time."""
    r = Run()
    r.send(Arrived())
    out = r.send(Placed(NOW - 200, "Answered"))
    assert out == [Forget(), CompleteAnswered(NOW - 300)]
    assert r.visit.ending is None
    # As a visit completed by its own controller: the survey next names the agent.
    out = r.send(Completed("acme_a2"))
    assert out == [SetVariables((("fsapps_agent", "acme_a2"), ("fsapps_queue_outcome", "answered")))]
    assert r.visit.ending is not None and r.visit.ending.branch == "_"
    assert r.send(HungUp()) == []
    # Another controller completed it meanwhile: nothing to name.
    late = Run()
    late.send(Arrived())
    late.send(Placed(NOW - 200, "Answered"))
    assert late.send(Completed(None)) == []
    assert late.visit.ending is not None and late.visit.ending.branch == "_"


def noted(
    ended: float = NOW + 40, agent: str = "acme_a2", started: float = NOW + 10, untold: bool = False
) -> tuple[tuple[str, str], ...]:
    """A conversation as a visit notes it on the channel (the caller joined at NOW);
    ``untold``: its answer not known to be written."""
    return (
        ("fsapps_bridge_ended", f"{ended:.6f}"), ("fsapps_bridge_agent", agent),
        ("fsapps_bridge_started", f"{started:.6f}"), ("fsapps_bridge_joined", f"{NOW:.6f}"),
        ("fsapps_bridge_untold", "true" if untold else ""),
    )  # fmt: skip


def answer_noted(agent: str = "acme_a2", started: float = NOW + 10) -> MarkChannel:
    """The answer alone, as a visit notes it while the caller talks and the database has
    not taken it."""
    return MarkChannel((
        ("fsapps_bridge_agent", agent), ("fsapps_bridge_started", f"{started:.6f}"),
        ("fsapps_bridge_joined", f"{NOW:.6f}"), ("fsapps_bridge_untold", "true"),
    ))  # fmt: skip


ANSWER_UNNOTED = MarkChannel((("fsapps_bridge_agent", ""), ("fsapps_bridge_started", ""),
                               ("fsapps_bridge_joined", ""), ("fsapps_bridge_untold", "")))  # fmt: skip
UNSET_NOTES = (("fsapps_bridge_ended", ""), ("fsapps_bridge_agent", ""), ("fsapps_bridge_started", ""),
               ("fsapps_bridge_joined", ""), ("fsapps_bridge_untold", ""))  # fmt: skip


def test_a_conversation_over_when_the_database_fails_the_visit_notes_it_for_whoever_completes_it() -> None:
    """The agent hung up at NOW + 40; the transfer note cannot be read (PostgreSQL away): the
    call is handed back with the conversation on the channel, and the controller that
    completes the visit (when PostgreSQL is back, long after) counts the talk time to its
    end, names its agent, then unsets it."""
    r = Run()
    r.after_conversation()
    assert r.send(Failed("PoolTimeout")) == [Forget(), SetVariables(noted())]
    assert r.visit.ending is not None and r.visit.ending.hand_back
    back = Run(replace(SETUP, connected_at=NOW + 400, bridge_ended=NOW + 40, bridge_agent="acme_a2",
                       bridge_started=NOW + 10, bridge_joined=NOW))  # fmt: skip
    # Its row is made Answered by the join (or written so): no offer before it is completed.
    assert back.send(Arrived())[-1] == Join(0.0, completing=True)
    completes = [Forget(), CompleteAnswered(NOW + 40, "acme_a2", NOW + 10, NOW)]
    assert back.send(Placed(NOW, "Answered")) == completes
    assert back.send(Completed("acme_a2")) == [SetVariables((
        ("fsapps_agent", "acme_a2"), ("fsapps_queue_outcome", "answered"), *UNSET_NOTES,
    ))]  # fmt: skip
    # Whatever the row said (Trying: the answer never written), or if it was gone.
    for before in ("Trying", ""):
        again = Run(replace(back.visit.setup))
        again.send(Arrived())
        assert again.send(Placed(NOW, before)) == completes
    # An end noted with no agent (by an older controller): completed only if the row says.
    old = Run(replace(SETUP, bridge_ended=NOW + 40))
    assert old.send(Arrived())[-1] == Join(0.0, completing=False)
    assert old.send(Placed(NOW, "Answered")) == [Forget(), CompleteAnswered(NOW + 40)]
    left = Run(replace(SETUP, bridge_ended=NOW + 40))
    left.send(Arrived())
    assert the(SetVariables, left.send(Placed(NOW + 500))).values[-5:] == UNSET_NOTES
    # Failing before the ring's completion, once the agent unbridged: noted all the same.
    early = Run()
    early.talking()
    early.send(Unbridged(A2.leg, NOW + 40))
    assert early.send(Failed("PoolTimeout")) == [Forget(), SetVariables(noted())]
    # Failing once accounted (a blind transfer's bridge refused, say): its row is gone, its
    # records out: nothing noted for anyone to complete again.
    late = Run()
    late.after_conversation()
    note = {"dial": "sofia/gateway/carrier/0755123", "agent": "acme_a9"}
    late.send(NoteRead(note))
    late.send(NoteRead(note))
    late.done("StopRecording")
    assert kinds(late.send(AgentCallEnded(0.0)))[0] == "Account"
    assert late.send(Failed("CommandTimeout")) == [Forget()]


def test_a_caller_back_with_an_answer_noted_and_no_end_has_that_visit_completed_from_their_return() -> None:
    """The visit's controller died during the conversation, its answer noted on the channel
    and never written: the caller comes back as the bridge ends, and is completed with that
    agent, the conversation ending as they arrive (noted at once, for a hand back again),
    whatever the row says; never queued again."""
    setup = replace(SETUP, bridge_agent="acme_a2", bridge_started=NOW + 10, bridge_joined=NOW, connected_at=NOW + 60)
    back = Run(setup)
    # The end as the switch handed the caller over, however long this controller took since.
    out = back.send(Arrived(), NOW + 75)
    assert out[-1] == Join(0.0, completing=True)
    assert out[0].values[-1] == ("fsapps_bridge_ended", f"{NOW + 60:.6f}")
    unknown = Run(replace(setup, connected_at=0.0))
    assert unknown.send(Arrived(), NOW + 75)[0].values[-1] == ("fsapps_bridge_ended", f"{NOW + 75:.6f}")
    completes = [Forget(), CompleteAnswered(NOW + 60, "acme_a2", NOW + 10, NOW)]
    for before in ("Trying", "Answered", ""):
        again = Run(setup)
        again.send(Arrived(), NOW + 60)
        assert again.send(Placed(NOW, before)) == completes
    assert back.send(Placed(NOW, "Trying")) == completes
    assert back.send(Completed("acme_a2")) == [SetVariables((
        ("fsapps_agent", "acme_a2"), ("fsapps_queue_outcome", "answered"), *UNSET_NOTES,
    ))]  # fmt: skip
    # The database still away: handed back, the end noted with the arming stays for next time.
    away = Run(setup)
    away.send(Arrived(), NOW + 60)
    assert away.send(Failed("PoolTimeout")) == []
    assert away.visit.ending is not None and away.visit.ending.hand_back == "PoolTimeout"
    # An end already noted (a hand back before) is kept, not moved to this arrival.
    kept = Run(replace(setup, bridge_ended=NOW + 40))
    assert kept.send(Arrived(), NOW + 500)[0].values[-1] == ("fsapps_queue_route", "")


def test_an_answer_the_database_fails_to_take_is_told_again_and_the_conversation_goes_on() -> None:
    """Still talking when it failed (the answer not taken, say): the conversation goes on;
    the answer is told again while it does. If the conversation ends first, it is noted
    then (not when the caller is back, which waits for the database too) and handed back;
    once told, the visit goes on as any."""
    talking = Run()
    talking.talking(told=False)
    told = [OutliveController(True), TellAnswered("acme_a2", ("acme_a1",), NOW + 10)]
    # The answer noted on the channel meanwhile (for a controller the caller comes back to,
    # should this one die), once, best effort.
    assert talking.send(Failed("PoolTimeout")) == [answer_noted(), Wait(talking.token, RETRY_ANSWER)]
    assert talking.visit.ending is None
    assert talking.timer() == told
    # Still away: noted again (the last note may not have been set: best effort).
    assert talking.send(Failed("PoolTimeout")) == [answer_noted(), Wait(talking.token, RETRY_ANSWER)]
    assert talking.send(Offered((A1,), 6)) == [PickedUp(("acme_a1",), talking.now)]
    assert talking.send(Unbridged(A2.leg, NOW + 40)) == [OutliveController(False, tell_switch=True)]
    assert talking.timer() == []  # over: not told while the bridge completes
    assert talking.done("Ring", "SUCCESS") == [Forget(), SetVariables(noted(untold=True))]
    assert talking.visit.ending is not None and talking.visit.ending.hand_back == "PoolTimeout"
    # Told once the database is back: the note unset, the visit goes on as any.
    back_soon = Run()
    back_soon.talking(told=False)
    back_soon.send(Failed("PoolTimeout"))
    assert back_soon.timer() == told
    assert back_soon.send(AnswerTold()) == [ANSWER_UNNOTED]
    back_soon.send(Unbridged(A2.leg, NOW + 40))
    assert back_soon.done("Ring", "SUCCESS") == [ReadNote(take=False)]
    assert back_soon.visit.ending is None
    back_soon.send(NoteRead(None))
    back_soon.done("StopRecording")
    # Unset again with the answered end's variables (that unset was best effort): a later
    # queue visit on the call must not take the note for a conversation to complete.
    assert the(SetVariables, back_soon.send(AgentCallEnded(0.0))).values == (
        ("fsapps_agent", "acme_a2"), ("fsapps_queue_outcome", "answered"), *ANSWER_UNNOTED.values,
    )  # fmt: skip
    # A failure after the answer was taken (another statement): nothing noted; if the
    # conversation ends before all is well again, its hand back says the answer was written
    # (reconciliation completes those, fsapps.acd.noted_visits leaves them).
    written = Run()
    written.talking()
    assert written.send(Failed("PoolTimeout")) == [Wait(written.token, RETRY_ANSWER)]
    written.send(Unbridged(A2.leg, NOW + 40))
    assert written.done("Ring", "SUCCESS") == [Forget(), SetVariables(noted())]
    # The caller gone meanwhile: nobody to hold, so the answer is told until it lands, and
    # the visit then ends as any, its records at once.
    gone = Run()
    gone.talking(told=False)
    gone.send(Failed("PoolTimeout"))
    assert gone.send(HungUp(), NOW + 40) == [Wait(gone.token, RING_END_AFTER_HANGUP)]
    gone.send(Unbridged(A2.leg, NOW + 40))
    assert gone.done("Ring", "SUCCESS") == [Wait(gone.token, RETRY_ANSWER)]
    assert gone.visit.phase is Phase.ANSWER_UNTOLD and gone.visit.ending is None
    assert gone.timer() == [told[1]]
    assert gone.send(Failed("PoolTimeout")) == [Wait(gone.token, RETRY_ANSWER)]
    assert gone.send(SocketClosed()) == [] and gone.visit.ending is None
    assert gone.timer() == [told[1]]
    # Nobody's channel to unset the note on: the transfer note is read.
    assert gone.send(AnswerTold()) == [ReadNote(take=False)]
    assert gone.send(NoteRead(None)) == [EndAgentCall("acme_a2", NOW + 40)]
    out = gone.send(AgentCallEnded(0.0))
    assert kinds(out) == ["Account", "NoteHandleTime"] and out[0].summary.ended == NOW + 40
    assert gone.visit.ending is not None and gone.visit.ending.branch == "_"
    # The socket closed under a caller still there (another controller may have them): this
    # one tells nothing more, the caller's visit being theirs.
    closed = Run()
    closed.talking(told=False)
    closed.send(Failed("PoolTimeout"))
    closed.send(Unbridged(A2.leg, NOW + 40))
    assert closed.send(SocketClosed()) == [Forget()]
    assert closed.visit.ending == Ending(caller_gone="socket closed")


def test_a_uuid_bridged_caller_whose_answer_went_untold_goes_back_to_the_node_not_reset() -> None:
    """Ring-progressively's caller is parked under the socket once their agent leaves: a hand
    back (``resume``) would reset and hang them up. With their conversation noted, they go
    to the node's route extension with no branch, whose hold routes hand them to a
    controller again; park_after_bridge and the parked route are unset."""
    r = Run(LEGS)
    r.ringing(A1)
    r.send(LegAnswered(A1.leg), NOW + 10)
    r.send(CallerBridged(A1.leg, True), NOW + 10)
    r.send(Bridged(A1.leg, NOW + 10), NOW + 10)
    assert r.send(Failed("PoolTimeout")) == [answer_noted("acme_a1"), Wait(r.token, RETRY_ANSWER)]  # no AnswerTold
    out = r.send(Unbridged(A1.leg, NOW + 40))
    unset = (("park_after_bridge", ""), ("fsapps_queue_route", ""), ("fsapps_branch", ""))
    assert out == [
        OutliveController(False, tell_switch=True), Forget(),
        SetVariables((*noted(agent="acme_a1", untold=True), *unset)), RouteOn(out[-1].ref, ""),
    ]  # fmt: skip
    assert r.visit.ending is None
    r.done("RouteOn")
    assert r.visit.ending == Ending()  # no branch: the socket closes as after any visit


def test_a_caller_who_hangs_up_before_their_place_is_written_leaves_nothing_to_undo() -> None:
    r = Run()
    r.send(Arrived())
    assert r.send(HungUp("NORMAL_CLEARING")) == []  # the arm's set failed: no Join ran
    assert r.visit.ending is not None and r.visit.ending.caller_gone == "NORMAL_CLEARING"


# --- on hold -------------------------------------------------------------------------------


def test_hold_music_plays_in_clips_one_after_another() -> None:
    r = Run()
    first = r.on_hold()
    assert first == [Play(first[0].ref, HOLD)]
    second = r.done("Play")
    assert kinds(second) == ["Play"] and second[0].ref != first[0].ref
    assert r.send(AppFinished(first[0].ref)) == []  # an old clip's completion: nothing


def test_an_offer_already_waiting_is_rung_without_hold_music() -> None:
    r = Run()
    r.send(Arrived())
    r.send(Placed(NOW))
    assert r.send(Offered((A1,), 6)) == []  # arrived while the queue was being noted
    assert kinds(r.send(CaughtUp(r.token))) == ["StartRecording", "Ring"]


@pytest.mark.parametrize(
    "decision", [Offered((A1,), 6), Announced(2, 120), TimedOut("max-wait-time"), Digit("5")]
)
def test_anything_the_caller_waits_for_stops_the_clip_first(decision) -> None:
    r = Run()
    r.on_hold()
    out = r.send(decision)
    assert out == [Break(), Wait(r.token, hold_music.QUICK_WAIT)]
    assert r.visit.phase is Phase.STOPPING_MUSIC


def test_a_break_lost_before_the_clip_began_is_sent_again_until_the_clip_completes() -> None:
    """On 1.10.12 a uuid_break that arrives before a queued playback begins is lost; the
    visit breaks again (quickly, then every 250 ms) and acts only once the clip completed."""
    r = Run()
    r.on_hold()
    r.send(Offered((A1,), 6))
    waits = []
    for _ in range(hold_music.QUICK_BREAKS + 2):
        out = r.timer()
        assert kinds(out) == ["Break", "Wait"]
        waits.append(out[1].seconds)
    assert waits == [hold_music.QUICK_WAIT] * (hold_music.QUICK_BREAKS - 1) + [hold_music.SLOW_WAIT] * 3
    assert kinds(r.done("Play")) == ["StartRecording", "Ring"]
    assert r.timer() == []  # the last break's wait means nothing now


def test_a_clip_that_never_stops_hands_the_call_back_after_every_break() -> None:
    r = Run()
    r.on_hold()
    r.send(Digit("5"))
    breaks = 1
    while True:
        out = r.timer()
        if kinds(out) != ["Break", "Wait"]:
            break
        breaks += 1
    assert breaks == hold_music.BREAKS
    assert out == [Wait(r.token, hold_music.LAST_WAIT)]  # no break with "all": a last wait
    assert r.timer() == [Forget()]
    assert r.visit.ending is not None and r.visit.ending.hand_back


PARKED_UNSET = SetVariables((("park_after_bridge", ""), ("fsapps_queue_route", ""), ("fsapps_branch", "")))


@pytest.mark.parametrize("why", ["failed", "music"])
def test_a_parked_caller_handed_back_while_waiting_is_routed_back_not_resumed(why) -> None:
    """A caller an earlier visit's uuid_bridge took out of the node's extension (a
    ring-progressively visit's agent sent them to this queue) would be reset and hung up by
    a hand back's ``resume``: the visit fails, or the hold music will not stop, and they are
    sent to the node's route extension with no branch instead, whose hold routes hand them
    to a controller again (the visit ends with no branch and no hand back)."""
    r = Run(replace(SETUP, parked=True, route_on="acme_main_2__route acme"))
    r.on_hold()
    if why == "failed":
        out = r.send(Failed("PoolTimeout"))
    else:
        r.send(Digit("5"))
        while kinds(out := r.timer()) != ["Forget", "SetVariables", "RouteOn"]:
            assert kinds(out) in (["Break", "Wait"], ["Wait"]), out
    assert out == [Forget(), PARKED_UNSET, RouteOn(r.started["RouteOn"], "")]
    assert r.visit.ending is None
    assert r.done("RouteOn") == []
    assert r.visit.ending == Ending()


@pytest.mark.parametrize("end", ["timeout", "hand back"])
def test_a_parked_caller_is_routed_on_even_if_a_command_before_the_route_on_fails(end) -> None:
    """RouteOn comes last: a failure before it (Leave, with the database away, say) would
    leave the caller parked under a socket that closes. It is sent again, once, with the same
    variables (the noted conversation of a hand back among them)."""
    r = Run(replace(SETUP, parked=True, route_on="acme_main_2__route acme"))
    r.on_hold()
    if end == "timeout":
        r.send(TimedOut("max-wait-time"))
        first = r.done("Play")
        branch: str | None = "timeout"
    else:
        first = r.send(Failed("PoolTimeout"))
        branch = None
    assert kinds(first)[-1] == "RouteOn"
    sent = first[-2]
    again = r.send(Failed("PoolTimeout"))
    assert again == [Forget(), sent, RouteOn(r.started["RouteOn"], branch or "")]
    assert again[-1].ref != first[-1].ref
    assert r.done("RouteOn") == []
    assert r.visit.ending == (Ending(branch=branch) if end == "timeout" else Ending())
    # Failing again, it is handed back as any visit (nothing left to try).
    r = Run(replace(SETUP, parked=True, route_on="acme_main_2__route acme"))
    r.on_hold()
    r.send(Failed("PoolTimeout"))
    r.send(Failed("PoolTimeout"))
    assert r.send(Failed("PoolTimeout")) == [Forget()]
    assert r.visit.ending is not None and r.visit.ending.hand_back


@pytest.mark.parametrize("stopping", [False, True], ids=["playing", "stopping"])
def test_a_caller_who_hangs_up_on_hold_is_an_abandon_at_once(stopping) -> None:
    """The hold-clip-at-hangup window: on the real switch a clip still queued when the caller
    hangs up never completes, so the visit ends at the hangup, never waiting for the clip."""
    r = Run()
    r.on_hold()
    r.send(Offered((A1,), 6)) if stopping else None
    out = r.send(HungUp("NORMAL_CLEARING"), at=NOW + 42)
    assert kinds(out) == ["Leave", "Account"]
    assert out[0] == Leave(abandoned=True)
    assert (out[1].summary.outcome, out[1].summary.ended) == ("abandoned", NOW + 42)
    assert r.visit.ending is not None and r.visit.ending.caller_gone == "NORMAL_CLEARING"
    assert r.done("Play") == [] and r.timer() == []


def test_a_closed_socket_leaves_the_caller_to_the_next_controller() -> None:
    r = Run()
    r.on_hold()
    assert r.send(SocketClosed()) == [Forget()]
    assert r.visit.ending is not None and r.visit.ending.caller_gone


@pytest.mark.parametrize(
    ("digit", "branches", "expected"),
    [
        ("1", {"_", "callback"}, ["Leave", "Account", "SetVariables"]),
        ("1", {"_"}, ["Play"]),  # no callback branch: the key means nothing
        ("5", {"_", "callback"}, ["Play"]),  # a stray digit: the music starts again
    ],
)
def test_the_callback_key(digit, branches, expected) -> None:
    r = Run(replace(SETUP, branches=frozenset(branches)))
    r.on_hold()
    r.send(Digit(digit))
    out = r.done("Play")
    assert kinds(out) == expected
    if expected[0] == "Leave":
        assert out[0] == Leave(abandoned=False)
        assert out[1].summary.outcome == "callback"
        assert out[2].values == (("fsapps_queue_outcome", "callback"),)
        assert r.visit.ending is not None and r.visit.ending.branch == "callback"


@pytest.mark.parametrize(
    ("branches", "outcome", "branch", "unset_resume"),
    [({"_", "timeout"}, "overflowed", "timeout", False), ({"_"}, "timed_out", None, True)],
)
def test_max_wait_time(branches, outcome, branch, unset_resume) -> None:
    r = Run(replace(SETUP, branches=frozenset(branches)))
    r.on_hold()
    r.send(TimedOut("max-wait-time"))
    out = r.done("Play")
    assert out[:2] == [Leave(abandoned=False), Account(out[1].summary)]
    assert out[1].summary.outcome == outcome
    sets = [c.values for c in out if isinstance(c, SetVariables)]
    assert sets == [(("fsapps_queue_outcome", outcome),)] + (
        [(("fsapps_resume", ""),)] if unset_resume else []
    )
    assert r.visit.ending is not None and r.visit.ending.branch == branch


@pytest.mark.parametrize(
    ("branches", "end", "branch"),
    [
        ({"_", "timeout"}, TimedOut("max-wait-time"), "timeout"),
        ({"_"}, TimedOut("max-wait-time"), None),  # the node's fallback
        ({"_", "callback"}, Digit("1"), "callback"),
    ],
)
def test_a_caller_parked_after_an_earlier_uuid_bridge_leaving_the_queue_is_routed_on_by_the_branch(
    branches, end, branch
) -> None:
    """A ring-progressively visit's agent sent the caller to this queue: its uuid_bridge took
    them out of the node's extension. Timed out, or off to be called back, they are routed on
    by the branch (the node's route extension reads fsapps_branch), not left parked in
    silence when the socket closes."""
    r = Run(replace(SETUP, parked=True, branches=frozenset(branches), route_on="acme_main_2__route acme"))
    r.on_hold()
    r.send(end)
    out = r.done("Play")
    assert kinds(out)[:2] == ["Leave", "Account"]
    assert out[-2:] == [
        SetVariables((("park_after_bridge", ""), ("fsapps_queue_route", ""), ("fsapps_branch", branch or ""))),
        RouteOn(r.started["RouteOn"], branch or ""),
    ]
    assert r.visit.ending is None
    assert r.done("RouteOn") == []
    assert r.visit.ending is not None and r.visit.ending.branch == branch


def test_a_waiting_caller_moved_to_another_queue_leaves_this_one_for_a_new_visit() -> None:
    r = Run()
    r.on_hold()
    assert kinds(r.send(Moved("billing"))) == ["Break", "Wait"]  # the music stops first
    out = r.done("Play")
    assert out[:2] == [Leave(abandoned=False), Account(out[1].summary)]
    assert (out[1].summary.outcome, out[1].summary.queue) == ("moved", "support")
    assert out[2] == SetVariables((("fsapps_queue_outcome", "moved"),))
    assert r.visit.ending is not None
    assert (r.visit.ending.next_queue, r.visit.ending.branch) == ("billing", None)


def test_a_move_that_comes_while_the_phone_rings_waits_until_the_ring_is_not_answered() -> None:
    r = Run()
    r.on_hold()
    r.send(Offered((A1,), 6))
    r.done("Play")
    assert r.send(Moved("billing")) == []  # the offer goes on
    assert kinds(r.done("Ring", "NO_ANSWER")) == ["ReadNote"]
    out = r.send(NoteRead(None))
    # Acted on at once: no hold music to start and break first.
    assert kinds(out) == ["OfferFailed", "Leave", "Account", "SetVariables"]
    assert out[2].summary.outcome == "moved"
    assert r.visit.ending is not None and r.visit.ending.next_queue == "billing"


def test_the_announcement_plays_the_queues_sound_then_position_and_wait() -> None:
    r = Run(replace(SETUP, announce_prompt="/sounds/en/acme/please_hold.wav"))
    r.on_hold()
    r.send(Announced(3, 130))
    first = r.done("Play")
    assert [c.media for c in first] == ["/sounds/en/acme/please_hold.wav"]
    assert r.send(Offered((A1,), 6)) == []  # waits its turn
    second = r.done("Play")
    assert [c.media for c in second] == ["say:" + announcement("en", 3, 130)]
    assert kinds(r.done("Play")) == ["StartRecording", "Ring"]
    assert announcement("en", 1, 50) == "You are number 1 in the queue. The expected wait is about 1 minute."
    assert announcement("zh", 2, 300) == "您现在排在第2位，预计等待约5分钟。"


# --- an offer ------------------------------------------------------------------------------


def test_an_offer_rings_the_agents_with_one_bridge_of_the_dial_strings_parts() -> None:
    setup = replace(SETUP, screen_pop=(("cn_balance", "12.00"),))
    r = Run(setup)
    r.on_hold()
    r.send(Offered((A1, A2), 6), at=NOW + 75.9)
    out = r.done("Play")
    assert out[0] == StartRecording(out[0].ref, RECORDING)
    ring = out[1]
    assert dict(ring.variables) == {
        "leg_timeout": "6", "ignore_early_media": "true", "origination_caller_id_number": "447700900101",
        "origination_caller_id_name": "Ann", "fsapps_tenant": "acme", "fsapps_queue": "support",
        "fsapps_member": CALLER, "fsapps_queue_wait": "75", "cn_balance": "12.00",
    }  # fmt: skip
    assert [(dict(leg.variables), leg.target) for leg in ring.legs] == [
        ({"origination_uuid": A1.leg, "fsapps_agent": "acme_a1"}, A1.contact),
        ({"origination_uuid": A2.leg, "fsapps_agent": "acme_a2"}, A2.contact),
    ]


@pytest.mark.parametrize(("disposition", "cause"), [("USER_BUSY", "USER_BUSY"), ("", "NO_ANSWER")])
def test_nobody_answered_the_agents_go_into_their_delays_and_the_caller_holds_again(
    disposition, cause
) -> None:
    r = Run()
    r.ringing(A1)
    rang = r.now
    assert r.send(AppFinished(r.started["Ring"], disposition), at=rang + 6) == [ReadNote(take=True)]
    out = r.send(NoteRead(None))  # not a pickup
    assert kinds(out) == ["OfferFailed", "Play"]
    assert (out[0].agents, out[0].cause) == (("acme_a1",), cause)
    assert r.visit.ring_seconds == pytest.approx(6)


def test_a_contact_that_is_not_a_dial_target_is_never_dialled() -> None:
    r = Run()
    r.ringing(A1)
    out = r.send(DialRefused(r.started["Ring"], "not a dial target"))
    assert kinds(out) == ["OfferFailed", "Play"]
    assert out[0].cause == "INVALID_NUMBER_FORMAT"


def test_the_recording_starts_once_at_the_first_offer() -> None:
    r = Run()
    r.ringing(A1)
    r.done("Ring", "NO_ANSWER")
    r.send(NoteRead(None))
    r.send(Offered((A2,), 6))
    assert kinds(r.done("Play")) == ["Ring"]
    assert r.visit.offers == 2
    unrecorded = Run(replace(SETUP, recording=None))
    assert kinds(unrecorded.ringing(A1)) == ["Ring"]


def test_a_pickup_rings_the_picking_agent_as_the_calls_agent_with_no_no_answer() -> None:
    r = Run()
    r.ringing(A1)
    r.done("Ring", "PICKED_OFF")
    note = {
        "pickup": "acme_a3",
        "leg": "33333333-0000-4000-8000-000000000003",
        "dial": "user/1003@acme.example",
    }
    out = r.send(NoteRead(note))
    assert kinds(out) == ["PickedUp", "Ring"]
    assert out[0].agents == ("acme_a1",)
    assert [(dict(leg.variables)["fsapps_agent"], leg.target) for leg in out[1].legs] == [
        ("acme_a3", "user/1003@acme.example")
    ]
    assert r.visit.offers == 2


def test_a_caller_who_hangs_up_while_agents_ring_is_an_abandon_and_frees_them() -> None:
    r = Run()
    r.ringing(A1)
    assert r.send(HungUp("ORIGINATOR_CANCEL")) == [Wait(r.token, RING_END_AFTER_HANGUP)]
    assert r.done("Ring", "ORIGINATOR_CANCEL") == [ReadNote(take=True)]
    out = r.send(NoteRead(None))
    assert kinds(out) == ["OfferFailed", "Leave", "Account"]
    assert (out[0].cause, out[1].abandoned, out[2].summary.outcome) == (
        "ORIGINATOR_CANCEL",
        True,
        "abandoned",
    )


def test_a_ring_still_queued_when_the_caller_hangs_up_is_not_waited_for() -> None:
    r = Run()
    r.ringing(A1)
    r.send(HungUp())
    assert r.timer() == [ReadNote(take=True)]


def test_a_caller_who_hangs_up_as_a_pickup_happens_frees_the_picking_agent_too() -> None:
    r = Run()
    r.ringing(A1)
    r.send(HungUp())
    r.done("Ring")
    out = r.send(NoteRead({"pickup": "acme_a3", "leg": "x", "dial": "user/1003@acme.example"}))
    assert kinds(out) == ["PickedUp", "OfferFailed", "Leave", "Account"]
    assert (out[1].agents, out[1].cause) == (("acme_a3",), "ORIGINATOR_CANCEL")


def test_a_closed_socket_while_ringing_frees_the_agents_and_leaves_the_caller_to_the_next_controller() -> (
    None
):
    r = Run()
    r.ringing(A1)
    assert r.send(SocketClosed()) == [ReadNote(take=True)]
    assert r.send(NoteRead(None)) == [OfferFailed(("acme_a1",), "ORIGINATOR_CANCEL", r.now), Forget()]


def test_digits_keyed_while_ringing_are_heard_once_the_caller_holds_again() -> None:
    r = Run()
    r.ringing(A1)
    assert r.send(Digit("1")) == []
    r.done("Ring", "NO_ANSWER")
    out = r.send(NoteRead(None))
    assert kinds(out) == ["OfferFailed", "Leave", "Account", "SetVariables"]  # the callback, at once


def test_a_wait_from_the_music_before_the_ring_means_nothing_while_ringing() -> None:
    r = Run()
    r.on_hold()
    r.send(Offered((A1,), 6))
    stale = r.token
    r.done("Play")  # the clip completed before the first break's wait ran out
    assert r.send(WaitOver(stale)) == []
    assert r.visit.phase is Phase.RINGING


# --- an offer rung leg by leg (ring-progressively) -------------------------------------------


def legs_of(commands: list[Command]) -> list[str]:
    return [c.uuid for c in commands if isinstance(c, Originate)]


def test_each_agent_is_originated_on_its_own_and_the_next_joins_while_the_first_rings() -> None:
    r = Run(LEGS)
    out = r.ringing(A1)
    assert legs_of(out) == [A1.leg] and r.visit.phase is Phase.RINGING_LEGS
    (first,) = out
    assert first.leg.target == A1.contact
    assert ("origination_uuid", A1.leg) in first.leg.variables and ("fsapps_agent", "acme_a1") in first.leg.variables
    assert ("leg_timeout", "6") in first.variables and ("fsapps_member", CALLER) in first.variables
    # The dispatcher's next agent: rung at once, no music stopped, the first still ringing.
    assert legs_of(r.send(Offered((A2,), 6))) == [A2.leg]
    assert legs_of(r.send(Offered((A3,), 6))) == [A3.leg]
    assert r.visit.phase is Phase.RINGING_LEGS


def test_the_first_leg_to_answer_is_bridged_to_the_caller_and_the_others_lose_the_race() -> None:
    r = Run(LEGS)
    r.ringing(A1)
    r.send(Offered((A2,), 6))
    r.send(Offered((A3,), 6))
    out = r.send(LegAnswered(A2.leg), NOW + 10)
    assert out == [
        # fsapps_queue_route: where a controller sends the caller if this one is gone.
        SetVariables((("park_after_bridge", "true"), ("socket_resume", "false"), ("uuid_bridge_park_on_cancel", "true"),
                      ("fsapps_queue_route", "acme_main_2__route acme"))),
        BridgeCaller(A2.leg),
    ]
    # uuid_bridge answers at once; the conversation begins with the bridge itself.
    assert r.send(CallerBridged(A2.leg, True), NOW + 10) == []
    assert r.visit.phase is Phase.RINGING_LEGS
    out = r.send(Bridged(A2.leg, NOW + 10), NOW + 10)
    assert out == [
        HangUpLeg(A1.leg, "LOSE_RACE"), HangUpLeg(A3.leg, "LOSE_RACE"),
        OutliveController(True), TellAnswered("acme_a2", ("acme_a1", "acme_a3"), NOW + 10),
    ]  # fmt: skip
    assert r.visit.phase is Phase.TALKING
    assert r.send(LegEnded(A1.leg, "LOSE_RACE")) == []  # their jobs' ends mean nothing now
    assert r.send(LegAnswered(A3.leg)) == []
    # The uuid_bridge's end is the conversation's: no bridge application completes.
    out = r.send(Unbridged(A2.leg, NOW + 40))
    assert out == [OutliveController(False), ReadNote(take=False)]
    assert r.send(NoteRead(None)) == [EndAgentCall("acme_a2", NOW + 40)]  # nothing noted, nothing to take
    out = r.send(AgentCallEnded(wrap_up=5.0))
    assert kinds(out) == ["Account", "NoteHandleTime", "SetVariables", "SetVariables", "RouteOn"]
    summary = out[0].summary
    assert (summary.outcome, summary.agent, summary.offers, summary.bridged) == ("answered", "acme_a2", 3, NOW + 10)
    # The caller is parked under this socket, out of the node's extension: park_after_bridge
    # off, and routed on by the branch before the flow goes on.
    assert out[3] == SetVariables((("park_after_bridge", ""), ("fsapps_queue_route", ""), ("fsapps_branch", "_")))
    assert out[4] == RouteOn(out[4].ref, "_") and r.visit.ending is None
    r.done("RouteOn")
    assert r.visit.ending is not None and r.visit.ending.branch == "_"


def test_a_second_answer_before_the_bridge_is_hung_up_and_lost_the_race() -> None:
    r = Run(LEGS)
    r.ringing(A1, A2)
    r.send(LegAnswered(A1.leg))
    # Its originate is done: no LegEnded will come for it, so it is settled now.
    assert r.send(LegAnswered(A2.leg), NOW + 9) == [HangUpLeg(A2.leg, "LOSE_RACE"), PickedUp(("acme_a2",), NOW + 9)]
    r.send(CallerBridged(A1.leg, True), NOW + 10)
    out = r.send(Bridged(A1.leg, NOW + 10))
    assert out[-1] == TellAnswered("acme_a1", (), NOW + 10)


def test_a_first_answer_whose_bridge_fails_after_a_second_answer_lost_leaves_no_leg_waited_for() -> None:
    r = Run(LEGS)
    r.ringing(A1, A2)
    r.send(LegAnswered(A1.leg))
    r.send(LegAnswered(A2.leg), NOW + 9)
    # A1's leg went before the bridge: the last leg of the offer, so the offer is over.
    out = r.send(CallerBridged(A1.leg, False), NOW + 10)
    assert out == [ReadNote(take=True)]
    out = r.send(NoteRead(None), NOW + 10)
    assert out[0] == OfferFailed(("acme_a1",), "NORMAL_CLEARING", NOW + 10)
    assert r.visit.phase is Phase.ON_HOLD


@pytest.mark.parametrize("parked_before", [False, True])
def test_a_caller_whose_uuid_bridge_was_refused_leaves_by_the_branch_as_they_stand(parked_before) -> None:
    """The answering agent's leg went before the uuid_bridge: refused (-ERR), it left the
    caller where they were. In the node's extension, they time out with only
    park_after_bridge taken off (the dialplan routes them on as the socket closes: routed on
    by the visit too, the branch's node would run twice); out of it already (an earlier
    visit's uuid_bridge), they are routed on."""
    r = Run(replace(LEGS, parked=parked_before))
    r.ringing(A1)
    r.send(LegAnswered(A1.leg))
    r.send(CallerBridged(A1.leg, False), NOW + 10)
    r.send(NoteRead(None), NOW + 10)
    assert r.visit.phase is Phase.ON_HOLD
    r.send(TimedOut("max-wait-time"))
    out = r.done("Play")
    if parked_before:
        assert kinds(out)[-2:] == ["SetVariables", "RouteOn"], out
        r.done("RouteOn")
    else:
        assert kinds(out)[-1] == "ParkAfterBridge" and out[-1].on is False, out
        assert "RouteOn" not in kinds(out)
        r.done("ParkAfterBridge")
    assert r.visit.ending == Ending(branch="timeout")


def test_a_leg_that_ends_unanswered_frees_its_agent_at_once_and_the_last_ends_the_offer() -> None:
    r = Run(LEGS)
    r.ringing(A1)
    r.send(Offered((A2,), 6))
    out = r.send(LegEnded(A1.leg, "NO_ANSWER"), NOW + 6)
    # The caller stays Trying: A2 still rings for them.
    assert out == [OfferFailed(("acme_a1",), "NO_ANSWER", NOW + 6, still_ringing=True)]
    assert r.send(LegEnded(A1.leg, "NO_ANSWER")) == []  # heard once
    out = r.send(LegEnded(A2.leg, "USER_BUSY"), NOW + 8)
    assert out == [ReadNote(take=True)]  # a pickup?
    out = r.send(NoteRead(None), NOW + 8)
    assert out[0] == OfferFailed(("acme_a2",), "USER_BUSY", NOW + 8)
    assert kinds(out[1:]) == ["Play"] and r.visit.phase is Phase.ON_HOLD


def test_a_pickup_ends_every_ringing_leg_without_a_no_answer_and_rings_the_picking_agent() -> None:
    """operations.pickup hangs up each leg ringing for the caller with PICKED_OFF: the legs
    ending before the last are withdrawn as the last one is (PickedUp), not failed."""
    r = Run(LEGS)
    r.ringing(A1)
    r.send(Offered((A2,), 6))
    # A2 joined as the pickup looked (or after): its leg goes too.
    out = r.send(LegEnded(A1.leg, "PICKED_OFF"), NOW + 7)
    assert out == [HangUpLeg(A2.leg, "PICKED_OFF"), PickedUp(("acme_a1",), NOW + 7)]
    # The dispatcher's next agent, won before the pickup was noted, is handed back.
    assert r.send(Offered((A4,), 6), NOW + 7) == [PickedUp(("acme_a4",), NOW + 7)]
    assert r.send(LegEnded(A2.leg, "PICKED_OFF"), NOW + 7) == [ReadNote(take=True)]
    out = r.send(NoteRead({"pickup": "acme_a3", "leg": A3.leg, "dial": A3.contact}), NOW + 7)
    assert not any(isinstance(c, OfferFailed) for c in out), out
    # The picking agent rings alone: the dispatcher adds nobody to a pickup's ring.
    assert out[:3] == [PickedUp(("acme_a2",), NOW + 7), AddsLegs(False), out[2]]
    assert isinstance(out[2], Originate) and out[2].uuid == A3.leg and r.visit.phase is Phase.RINGING_LEGS
    assert r.send(Offered((A1,), 6), NOW + 8) == [PickedUp(("acme_a1",), NOW + 8)]
    # Unanswered, the caller waits again; their next offer may take more agents again.
    r.send(LegEnded(A3.leg, "NO_ANSWER"), NOW + 30)
    out = r.send(NoteRead(None), NOW + 30)
    assert out[0] == OfferFailed(("acme_a3",), "NO_ANSWER", NOW + 30)
    r.send(Offered((A1,), 6), NOW + 31)
    assert AddsLegs(True) in r.done("Play")


@pytest.mark.parametrize("how", ["refused", "parked"])
def test_an_answered_leg_gone_before_the_bridge_is_its_agents_failure_and_the_others_ring_on(how) -> None:
    """uuid_bridge refused (the leg was gone), or accepted and the leg went before the bridge
    began: uuid_bridge_park_on_cancel parked the caller (switch_ivr_bridge.c:1206-1209)."""
    r = Run(LEGS)
    r.ringing(A1, A2)
    r.send(LegAnswered(A2.leg))
    if how == "refused":
        out = r.send(CallerBridged(A2.leg, False), NOW + 9)
    else:
        assert r.send(CallerBridged(A2.leg, True), NOW + 9) == []
        out = r.send(Parked(), NOW + 9)
    assert out == [OfferFailed(("acme_a2",), "NORMAL_CLEARING", NOW + 9, still_ringing=True)]
    assert r.visit.phase is Phase.RINGING_LEGS
    assert kinds(r.send(LegAnswered(A1.leg))) == ["SetVariables", "BridgeCaller"]


@pytest.mark.parametrize("gone", [HungUp("NORMAL_CLEARING"), SocketClosed()])
def test_a_caller_gone_while_legs_ring_cancels_the_legs_and_frees_the_agents(gone) -> None:
    r = Run(LEGS)
    r.ringing(A1)
    r.send(Offered((A2,), 6))
    r.send(LegEnded(A1.leg, "NO_ANSWER"))
    out = r.send(gone, NOW + 20)
    assert out[:2] == [HangUpLeg(A2.leg, "ORIGINATOR_CANCEL"), OfferFailed(("acme_a2",), "ORIGINATOR_CANCEL", NOW + 20)]
    if isinstance(gone, HungUp):
        # A pickup may have reserved an agent for the caller: the note says (here, none).
        assert out[2:] == [ReadNote(take=True)]
        out = [None, None, *r.send(NoteRead(None), NOW + 20)]
    expected = ["Leave", "Account"] if isinstance(gone, HungUp) else ["Forget"]
    assert kinds(out[2:]) == expected and r.visit.ending is not None


def test_a_caller_who_hangs_up_while_a_pickup_takes_their_legs_frees_the_picking_agent() -> None:
    r = Run(LEGS)
    r.ringing(A1, A2)
    r.send(LegEnded(A1.leg, "PICKED_OFF"), NOW + 7)
    out = r.send(HungUp("NORMAL_CLEARING"), NOW + 7)
    assert out == [HangUpLeg(A2.leg, "ORIGINATOR_CANCEL"), OfferFailed(("acme_a2",), "ORIGINATOR_CANCEL", NOW + 7),
                   ReadNote(take=True)]  # fmt: skip
    out = r.send(NoteRead({"pickup": "acme_a3", "leg": A3.leg, "dial": A3.contact}), NOW + 7)
    assert out[0] == OfferFailed(("acme_a3",), "ORIGINATOR_CANCEL", NOW + 7)
    assert kinds(out[1:]) == ["Leave", "Account"] and r.visit.ending is not None


def test_a_pickups_last_leg_answered_as_it_was_hung_up_ends_the_offer() -> None:
    """A2 answered just before the pickup hung it up: its originate is done, so no LegEnded
    comes for it; the offer must still end, and the pickup be read."""
    r = Run(LEGS)
    r.ringing(A1, A2)
    r.send(LegEnded(A1.leg, "PICKED_OFF"), NOW + 7)
    out = r.send(LegAnswered(A2.leg), NOW + 7)
    assert out == [HangUpLeg(A2.leg, "LOSE_RACE"), ReadNote(take=True)]
    out = r.send(NoteRead({"pickup": "acme_a3", "leg": A3.leg, "dial": A3.contact}), NOW + 7)
    assert out[0] == PickedUp(("acme_a2",), NOW + 7) and isinstance(out[-1], Originate), out


def test_a_visit_that_fails_while_legs_ring_hangs_them_up() -> None:
    """Legs rung on their own do not end with the caller's channel (bgapi originate)."""
    r = Run(LEGS)
    r.ringing(A1, A2)
    out = r.send(Failed("OperationalError"))
    assert out == [Forget(), HangUpLeg(A1.leg, "ORIGINATOR_CANCEL"), HangUpLeg(A2.leg, "ORIGINATOR_CANCEL")]
    # Not an agent's leg the caller is being bridged to: that conversation goes on.
    r = Run(LEGS)
    r.ringing(A1, A2)
    r.send(LegAnswered(A2.leg))
    r.send(CallerBridged(A2.leg, True), NOW + 10)
    assert r.send(Failed("OperationalError")) == [Forget(), HangUpLeg(A1.leg, "ORIGINATOR_CANCEL")]


def test_an_offer_won_as_the_first_agent_answered_is_handed_back() -> None:
    """The dispatcher added an agent just as another answered: nobody rings them."""
    r = Run(LEGS)
    r.ringing(A1)
    r.send(LegAnswered(A1.leg))
    r.send(CallerBridged(A1.leg, True), NOW + 10)
    # Won while the caller was being bridged, or once talking.
    assert r.send(Offered((A2,), 6), NOW + 10.2) == [PickedUp(("acme_a2",), NOW + 10.2)]
    r.send(Bridged(A1.leg, NOW + 10))
    assert r.send(Offered((A2,), 6), NOW + 10.5) == [PickedUp(("acme_a2",), NOW + 10.5)]


def test_a_caller_who_hangs_up_while_uuid_bridged_ends_the_conversation_at_once() -> None:
    r = Run(LEGS)
    r.ringing(A1)
    r.send(LegAnswered(A1.leg))
    r.send(CallerBridged(A1.leg, True), NOW + 10)
    r.send(Bridged(A1.leg, NOW + 10))
    assert r.send(HungUp(), NOW + 30) == [ReadNote(take=False)]  # no bridge application to wait for
    assert r.send(NoteRead(None)) == [EndAgentCall("acme_a1", NOW + 30)]
    out = r.send(AgentCallEnded(0.0))
    assert kinds(out) == ["Account", "NoteHandleTime"] and r.visit.ending is not None


# --- answered ------------------------------------------------------------------------------


def test_the_first_agent_to_answer_is_the_calls_agent_and_the_call_outlives_this_controller() -> None:
    r = Run()
    r.ringing(A1, A2)
    out = r.send(Bridged(A2.leg, NOW + 10))
    assert out == [OutliveController(True), TellAnswered("acme_a2", ("acme_a1",), NOW + 10)]
    assert r.send(Bridged(A1.leg, NOW + 11)) == []
    assert r.send(Unbridged(A2.leg, NOW + 40)) == [OutliveController(False)]


def test_the_agent_hangs_up_the_visit_is_recorded_and_the_flow_goes_on() -> None:
    r = Run()
    assert r.after_conversation() == [ReadNote(take=False)]  # a consult, a transfer?
    r.send(RecordingNamed("/recordings/acme/x-20270115.wav"))
    out = r.send(NoteRead(None))  # neither: no note to take
    assert out == [StopRecording(r.started["StopRecording"], "/recordings/acme/x-20270115.wav")]
    assert r.done("StopRecording") == [EndAgentCall("acme_a2", NOW + 40)]  # and the caller leaves
    out = r.send(AgentCallEnded(wrap_up=5.0))
    assert kinds(out) == ["Account", "NoteHandleTime", "SetVariables"]
    assert out[1] == NoteHandleTime(30 + 5.0)
    summary = out[0].summary
    assert (summary.outcome, summary.agent, summary.bridged, summary.ended, summary.wrap_up) == (
        "answered", "acme_a2", NOW + 10, NOW + 40, 5.0)  # fmt: skip
    assert summary.recording == "/recordings/acme/x-20270115.wav"
    assert out[2].values == (("fsapps_agent", "acme_a2"), ("fsapps_queue_outcome", "answered"))
    assert r.visit.ending is not None and r.visit.ending.branch == "_"


def test_a_caller_who_hangs_up_while_talking_is_answered_not_abandoned() -> None:
    r = Run()
    r.talking()
    r.send(HungUp())
    # The hangup comes before the unbridge (both switches): no uuid_setvar for a channel
    # that 1.10.12 has destroyed by the time it arrives ("-ERR No such channel!").
    assert r.send(Unbridged(A2.leg, NOW + 30)) == [OutliveController(False, tell_switch=False)]
    r.done("Ring")
    assert kinds(r.send(NoteRead(None))) == ["EndAgentCall"]  # no recording to stop, nobody to tell
    out = r.send(AgentCallEnded(0.0))
    assert kinds(out) == ["Account", "NoteHandleTime"]  # EndAgentCall took the caller out of the queue
    assert out[0].summary.outcome == "answered"


def test_a_stop_of_the_recording_the_switch_never_runs_does_not_hold_the_agent() -> None:
    """The caller hangs up just as stop_record_session is queued: it never completes, the
    agent's call still ends."""
    r = Run()
    r.after_conversation()
    r.send(NoteRead(None))
    assert r.send(HungUp()) == [EndAgentCall("acme_a2", NOW + 40)]


def test_a_closed_socket_while_talking_leaves_the_conversation_to_whoever_sees_it_end() -> None:
    """The call outlives this controller (socket_resume is off): nothing is settled here, the
    agent is still talking; the controller the caller comes back to, or one that finds the
    call over, completes the visit."""
    r = Run()
    r.talking()
    assert r.send(SocketClosed()) == [Forget()]
    assert r.visit.phase is Phase.DONE and r.visit.ending is not None
    assert r.visit.ending.caller_gone == "socket closed while talking"


def test_a_closed_socket_once_the_bridge_is_over_completes_the_visit_here() -> None:
    r = Run()
    r.talking()
    r.send(Unbridged(A2.leg, NOW + 40))
    assert r.send(SocketClosed()) == [ReadNote(take=False)]


def test_a_pickup_that_lost_the_race_to_the_answer_frees_the_picking_agent() -> None:
    r = Run()
    r.after_conversation()
    note = {"pickup": "acme_a3", "leg": "x", "dial": "user/1003@acme.example"}
    assert r.send(NoteRead(note)) == [ReadNote(take=True)]  # a note, not a consult: taken
    out = r.send(NoteRead(note))
    assert kinds(out) == ["PickedUp", "StopRecording"]
    assert out[0].agents == ("acme_a3",)
    r.done("StopRecording")
    out = r.send(AgentCallEnded(0.0))
    # The caller goes on by the node's branch: not to the picking agent's phone (the note's
    # dial), as a blind transfer would send them.
    assert not any(isinstance(c, TransferTo) for c in out), out
    assert r.visit.ending is not None and r.visit.ending.branch == "_", out


def test_a_blind_transfer_to_a_dial_target_bridges_the_caller_on() -> None:
    r = Run()
    r.after_conversation()
    note = {"dial": "sofia/gateway/carrier/0755123", "agent": "acme_a9"}
    assert r.send(NoteRead(note)) == [ReadNote(take=True)]
    r.send(NoteRead(note))
    r.done("StopRecording")
    out = r.send(AgentCallEnded(0.0))
    transfer = out[-1]
    assert transfer == TransferTo(
        transfer.ref,
        (("origination_caller_id_number", "447700900101"), ("fsapps_tenant", "acme"),
         ("fsapps_transferred_by", "acme_a2")),
        "sofia/gateway/carrier/0755123", "acme_a2",
    )  # fmt: skip
    assert r.send(HungUp()) == [Wait(r.token, RING_END_AFTER_HANGUP)]  # the bridge's own end first
    assert r.done("TransferTo") == []
    assert r.visit.ending is not None and r.visit.ending.branch == "_"


def test_a_blind_transfer_to_a_queue_is_a_new_visit() -> None:
    r = Run()
    r.after_conversation()
    r.send(NoteRead({"queue": "complaints"}))
    r.send(NoteRead({"queue": "complaints"}))
    r.done("StopRecording")
    r.send(AgentCallEnded(0.0))
    assert r.visit.ending is not None
    assert (r.visit.ending.next_queue, r.visit.ending.by) == ("complaints", "acme_a2")


def consulting(r: Run) -> list[Command]:
    r.after_conversation()
    return r.send(NoteRead({"consult": CONSULTED, "by": "acme_a2", "step": "consulting"}))


def test_the_caller_holds_while_the_agent_consults_then_is_handed_on() -> None:
    r = Run()
    assert consulting(r) == [ReadNote(take=False)]
    note = {"consult": CONSULTED, "by": "acme_a2", "step": "consulting"}
    assert r.send(NoteRead(note)) == [CheckLegs((A2.leg, CONSULTED))]
    out = r.send(LegsChecked((True, True)))
    assert kinds(out) == ["Play", "Wait"] and out[1].seconds == 0.5
    assert r.timer() == [ReadNote(take=False)]  # looked at twice a second
    r.send(NoteRead(note))
    assert kinds(r.send(LegsChecked((True, True)))) == ["Wait"]  # the clip still plays
    r.timer()
    assert r.send(NoteRead({**note, "step": "complete"})) == [Break(), Wait(r.token, hold_music.QUICK_WAIT)]
    out = r.done("Play")
    assert out == [ConsultOver(CONSULTED), ParkAfterBridge(out[1].ref, True)]
    handed = r.now  # the agent's part ends as the consult is decided
    assert r.done("ParkAfterBridge") == [BridgeCaller(CONSULTED)]
    out = r.send(CallerBridged(CONSULTED, ok=True))
    assert out == [
        SetLegVariable(CONSULTED, "park_after_bridge", "false"),
        HangUpLeg(A2.leg),
        ReadNote(take=True),
    ]
    r.send(NoteRead(None))
    assert r.done("StopRecording") == [EndAgentCall("acme_a2", handed)]
    out = r.send(AgentCallEnded(0.0))
    assert kinds(out) == ["Account", "NoteHandleTime", "SetVariables"]
    assert r.visit.phase is Phase.HANDED_ON
    # uuid_bridge took the caller out of the node's extension: routed on by the branch,
    # else they would stay parked once the socket closes.
    out = r.send(Unbridged(CONSULTED, NOW + 120))
    assert out[0] == SetVariables((("park_after_bridge", ""), ("fsapps_queue_route", ""), ("fsapps_branch", "_")))
    assert kinds(out) == ["SetVariables", "RouteOn"] and out[1].branch == "_"
    assert r.done("RouteOn") == []
    assert r.visit.ending is not None and r.visit.ending.branch == "_"


def test_a_cancelled_consult_bridges_the_caller_back_to_the_agent_who_may_consult_again() -> None:
    r = Run()
    consulting(r)
    out = r.send(NoteRead({"consult": CONSULTED, "step": "cancel"}))  # before any music
    assert kinds(out) == ["ConsultOver", "ParkAfterBridge"]
    assert r.done("ParkAfterBridge") == [HangUpLeg(CONSULTED), BridgeCaller(A2.leg)]
    # Back with the caller, the agent's leg ends with them again (the consult parked it).
    assert r.send(CallerBridged(A2.leg, ok=True)) == [SetLegVariable(A2.leg, "park_after_bridge", "false")]
    assert r.visit.phase is Phase.CONSULTING
    again = "22222222-0000-4000-8000-00000000000a"
    assert r.send(Unbridged(A2.leg, NOW + 90)) == [ReadNote(take=False)]
    assert r.send(NoteRead({"consult": again, "step": "consulting"})) == [ReadNote(take=False)]
    r.send(NoteRead({"consult": again, "step": "consulting"}))
    out = r.send(LegsChecked((True, False)))  # the consulted party hung up: back to the agent
    assert kinds(out) == ["ConsultOver", "ParkAfterBridge"] and out[0].leg == again
    r.done("ParkAfterBridge")
    r.send(CallerBridged(A2.leg, ok=True))
    r.send(Unbridged(A2.leg, NOW + 130))  # the agent hung up, back with the caller
    assert r.send(NoteRead(None)) == [ReadNote(take=True)]
    r.send(NoteRead(None))
    assert r.done("StopRecording") == [EndAgentCall("acme_a2", NOW + 130)]
    # uuid_bridge took the caller out of the node's extension and they park once the agent
    # leaves: park_after_bridge off and routed on by the branch (a survey), not left parked.
    out = r.send(AgentCallEnded(0.0))
    assert kinds(out)[-2:] == ["SetVariables", "RouteOn"], out
    assert out[-2] == SetVariables((("park_after_bridge", ""), ("fsapps_queue_route", ""), ("fsapps_branch", "_")))


@pytest.mark.parametrize(
    ("up", "expected"),
    [
        ((False, True), [BridgeCaller(CONSULTED)]),  # the agent hung up on the consult: complete
        ((True, False), [HangUpLeg(CONSULTED), BridgeCaller(A2.leg)]),  # the consulted party did: cancel
    ],
)
def test_a_leg_that_goes_decides_the_consult(up, expected) -> None:
    r = Run()
    consulting(r)
    r.send(NoteRead({"consult": CONSULTED, "step": "consulting"}))
    r.send(LegsChecked(up))
    assert r.done("ParkAfterBridge") == expected


def test_both_gone_the_consult_is_over_with_nobody_to_bridge() -> None:
    r = Run()
    consulting(r)
    r.send(NoteRead({"consult": CONSULTED, "step": "consulting"}))
    assert r.send(LegsChecked((False, False))) == [ConsultOver(CONSULTED), ReadNote(take=True)]


def test_a_caller_who_hangs_up_during_the_consult_ends_the_agents_part_then() -> None:
    r = Run()
    consulting(r)
    r.send(NoteRead({"consult": CONSULTED, "step": "consulting"}))
    r.send(LegsChecked((True, True)))
    # The agent and the consulted party may talk on: whoever hangs up ends the other's leg.
    assert r.send(HungUp(), at=NOW + 70) == [
        SetLegVariable(A2.leg, "park_after_bridge", "false"), SetLegVariable(CONSULTED, "park_after_bridge", "false"),
        ReadNote(take=True),
    ]  # fmt: skip
    assert r.send(NoteRead(None)) == [EndAgentCall("acme_a2", NOW + 70)]


@pytest.mark.parametrize("phase_reached", ["bridged", "records", "handed on"])
def test_a_caller_who_hangs_up_once_handed_on_by_a_consult_hangs_up_the_consulted_leg(phase_reached) -> None:
    """Handed on, the consulted party's leg has nobody but the caller: their hangup ends it,
    whether or not park_after_bridge came off it in time (a bridge's end before that parks
    it), whatever the visit was doing then."""
    r = Run()
    consulting(r)
    r.send(NoteRead({"consult": CONSULTED, "step": "complete"}))
    r.done("ParkAfterBridge")
    r.send(CallerBridged(CONSULTED, ok=True))
    if phase_reached != "bridged":
        r.send(NoteRead(None))
        r.done("StopRecording")
    if phase_reached == "handed on":
        r.send(AgentCallEnded(0.0))
        assert r.visit.phase is Phase.HANDED_ON
    out = r.send(HungUp(), at=NOW + 90)
    assert out[0] == HangUpLeg(CONSULTED)


@pytest.mark.parametrize("unbridged_first", [False, True])
@pytest.mark.parametrize("bridged_back", [False, True])
def test_a_caller_who_hangs_up_as_a_cancel_bridges_them_back_hangs_up_the_agents_leg(
    bridged_back, unbridged_first
) -> None:
    """Cancelled, the agent's leg has nobody but the caller: their hangup ends it, whether or
    not park_after_bridge came off it in time (a bridge's end before that parks it)."""
    r = Run()
    consulting(r)
    r.send(NoteRead({"consult": CONSULTED, "step": "cancel"}))
    r.done("ParkAfterBridge")
    if bridged_back:
        r.send(CallerBridged(A2.leg, ok=True))
    if unbridged_first:  # the caller's bridge's end heard before their hangup
        r.send(Unbridged(A2.leg, NOW + 90), NOW + 90)
    out = r.send(HungUp(), at=NOW + 90)
    assert out[:3] == [
        SetLegVariable(A2.leg, "park_after_bridge", "false"), SetLegVariable(CONSULTED, "park_after_bridge", "false"),
        HangUpLeg(A2.leg),
    ]  # fmt: skip


def test_a_caller_parked_after_an_earlier_uuid_bridge_ends_the_conversation_at_the_unbridge() -> None:
    """A transfer from a ring-progressively visit (uuid_bridge) to a one-bridge queue: the
    bridge application parks the caller when the agent leaves instead of completing, so the
    visit does not wait for it, and routes the caller on at its end."""
    r = Run(replace(SETUP, parked=True, route_on="acme_main_2__route acme"))
    r.ringing(A2)
    out = r.send(Bridged(A2.leg, NOW + 10), NOW + 10)
    assert out[0] == MarkChannel((("fsapps_queue_route", "acme_main_2__route acme"),))  # best effort
    assert kinds(r.send(Unbridged(A2.leg, NOW + 40))) == ["OutliveController", "ReadNote"]
    r.send(NoteRead(None))
    r.send(NoteRead(None))
    r.done("StopRecording")
    out = r.send(AgentCallEnded(0.0))
    assert kinds(out)[-2:] == ["SetVariables", "RouteOn"], out


def test_a_refused_hand_on_does_not_wait_for_its_end() -> None:
    r = Run()
    consulting(r)
    r.send(NoteRead({"consult": CONSULTED, "step": "complete"}))
    r.done("ParkAfterBridge")
    # The consulted party went as the agent completed: back to the agent, not hung up on.
    assert r.send(CallerBridged(CONSULTED, ok=False)) == [BridgeCaller(A2.leg)]
    r.send(CallerBridged(A2.leg, ok=True))
    assert r.send(Unbridged(A2.leg, NOW + 90)) == [ReadNote(take=False)]
    r.send(NoteRead(None))
    r.send(NoteRead(None))
    r.done("StopRecording")
    out = r.send(AgentCallEnded(0.0))
    assert kinds(out)[-1] == "RouteOn"  # out of the node's extension: routed on at once


def test_a_hand_on_and_a_bridge_back_both_refused_send_the_caller_on() -> None:
    """The consulted party and the agent both went as the transfer completed."""
    r = Run()
    consulting(r)
    r.send(NoteRead({"consult": CONSULTED, "step": "complete"}))
    r.done("ParkAfterBridge")
    r.send(CallerBridged(CONSULTED, ok=False))
    assert r.send(CallerBridged(A2.leg, ok=False), NOW + 95) == [ReadNote(take=False)]
    r.send(NoteRead(None))
    r.send(NoteRead(None))
    assert r.done("StopRecording") == [EndAgentCall("acme_a2", NOW + 95)]
    out = r.send(AgentCallEnded(0.0))
    # park_after_bridge was set on the caller for the hand-on: unset. Never moved by a
    # uuid_bridge, they are still in the node's extension: no route on (the socket's end does).
    assert kinds(out)[-1] == "ParkAfterBridge" and out[-1].on is False, out
    assert r.done("ParkAfterBridge") == [] and r.visit.ending is not None and r.visit.ending.branch == "_"


def test_failed_after_the_place_is_written_forgets_the_caller() -> None:
    r = Run()
    r.on_hold()
    assert r.send(Failed("OperationalError")) == [Forget()]
    assert r.visit.ending is not None
    early = Run()
    early.send(Arrived())
    assert early.send(Failed("OperationalError")) == []


# --- invariants over any run of events (hypothesis) ------------------------------------------

NOTES = [
    None,
    {"pickup": "acme_a3", "leg": "33333333-0000-4000-8000-000000000003", "dial": "user/1003@acme.example"},
    {"consult": CONSULTED, "by": "acme_a2", "step": "consulting"},
    {"consult": CONSULTED, "by": "acme_a2", "step": "complete"},
    {"consult": CONSULTED, "by": "acme_a2", "step": "cancel"},
    {"dial": "user/1009@acme.example", "agent": "acme_a9"},
    {"queue": "complaints"},
]
WAITING = (Phase.ENTERING, Phase.ON_HOLD, Phase.STOPPING_MUSIC, Phase.ANNOUNCING)


def ONCE_IN(n: int) -> st.SearchStrategy[bool]:
    # Not st.integers() == 0: hypothesis draws boundary values far more often than 1 in n.
    return st.sampled_from([False] * (n - 1) + [True])


class Driver:
    """Plays fsapps.apps.queue: answers queries with drawn results, remembers what is
    outstanding so the drawn events are ones the driver could deliver, and now and then
    has the caller hang up under a command on the call (which then ends its list)."""

    def __init__(self, data: st.DataObject, setup: VisitSetup) -> None:
        self.data, self.visit, self.now = data, Visit(setup), NOW
        self.running: dict[int, Command] = {}
        self.timer: int | None = None
        self.catch_ups: deque[int] = deque()
        self.refs: set[int] = set()
        self.commands: list[Command] = []  # those that ran
        self.issued: list[Command] = []  # and those a hangup under an earlier one dropped
        self.hung_up = self.closed = False
        self.heard_gone = False  # the visit was told
        self.forced: dict[type, deque[Event]] = {}  # answers to give first, by query
        self.scripted = False  # no hangups under commands while a script runs
        self.legs: dict[str, str] = {}  # legs originated on their own whose job has not ended

    def send(self, event: Event) -> None:
        self.now += self.data.draw(st.sampled_from([0.0, 0.01, 0.3, 7.0]))
        phase = self.visit.phase
        self.run(self.visit.receive(event, self.now), event)
        if isinstance(event, HungUp | SocketClosed) and phase is not Phase.ARRIVING:
            self.heard_gone = True
            # Nothing on the call is waited for once the caller is gone (a clip still queued
            # at the hangup never completes), but a bridge's own end, for a moment.
            waits = isinstance(event, HungUp) and phase in (Phase.RINGING, Phase.TALKING, Phase.TRANSFERRING)
            # Or the answer the database failed to take, told until it lands (RETRY_ANSWER).
            untold = phase is Phase.ANSWER_UNTOLD
            assert self.visit.ending is not None or waits or untold, phase

    def run(self, commands: list[Command], cause: Event) -> None:
        todo = deque(commands)
        self.issued += commands
        self.check_list(commands)
        while todo:
            c = todo.popleft()
            if isinstance(c, Switch) and not isinstance(c, BestEffort):
                assert not self.heard_gone, f"{c} after the caller was gone ({cause})"
                if not (self.hung_up or self.closed or self.scripted) and self.data.draw(ONCE_IN(40)):
                    # The caller hangs up under this command: the list ends, the visit hears it.
                    self.hung_up, self.heard_gone = True, True
                    todo.clear()
                    answer: Event | None = HungUp("NORMAL_CLEARING")
                    more = self.visit.receive(answer, self.now)
                    self.issued += more
                    self.check_list(more)
                    todo.extend(more)
                    continue
            self.commands.append(c)
            answer = self.answer(c)
            if answer is not None:
                assert not todo, f"{c} answered with {list(todo)} still to run"
                more = self.visit.receive(answer, self.now)
                self.issued += more
                self.check_list(more)
                todo.extend(more)

    @staticmethod
    def check_list(commands: list[Command]) -> None:
        switched = False
        for i, c in enumerate(commands):
            if isinstance(c, Query | Ring | TransferTo):
                assert i == len(commands) - 1, commands
            if switched:
                # What settles the visit never hangs on the caller still being there; a Join
                # does: a caller found gone is not placed.
                assert not isinstance(c, Dispatcher | Account) or isinstance(c, Join), commands
            if isinstance(c, Switch) and not isinstance(c, BestEffort):
                switched = True

    def answer(self, c: Command) -> Event | None:
        ref = getattr(c, "ref", None)
        if ref is not None:
            assert ref not in self.refs, c
            self.refs.add(ref)
        draw = self.data.draw
        if self.forced.get(type(c)):
            return self.forced[type(c)].popleft()
        if isinstance(c, Ring | TransferTo) and not self.scripted and draw(ONCE_IN(10)):
            return DialRefused(c.ref)
        if isinstance(
            c, Answer | Play | StartRecording | StopRecording | ParkAfterBridge | Ring | TransferTo | RouteOn
        ):
            self.running[c.ref] = c
        elif isinstance(c, Wait):
            self.timer = c.token
        elif isinstance(c, CatchUp):
            self.catch_ups.append(c.token)
        elif isinstance(c, Originate):
            self.legs[c.uuid] = dict(c.leg.variables)["fsapps_agent"]
        elif isinstance(c, Join):
            return Placed(NOW, draw(st.sampled_from(["", "", "", "", "Waiting", "Trying", "Answered"])))
        elif isinstance(c, ReadNote):
            return NoteRead(draw(st.sampled_from(NOTES)))
        elif isinstance(c, CheckLegs):
            both = draw(st.booleans())  # the consult goes on half the time
            return LegsChecked(tuple(both or draw(st.booleans()) for _ in c.legs))
        elif isinstance(c, BridgeCaller):
            return CallerBridged(c.other, draw(st.booleans()))
        elif isinstance(c, EndAgentCall):
            return AgentCallEnded(draw(st.sampled_from([0.0, 5.0])))
        elif isinstance(c, CompleteAnswered):
            return Completed(draw(st.sampled_from(["acme_a2", None])))
        elif isinstance(c, TellAnswered):
            # The database away as the agent answers (as the driver's _failed tells the visit).
            return Failed("PoolTimeout") if draw(ONCE_IN(4)) else AnswerTold()
        return None

    @property
    def gone(self) -> bool:
        return self.hung_up or self.closed

    def next_event(self) -> Event:
        """Mostly what moves a visit on; once in a while what ends it."""
        draw = self.data.draw
        if draw(ONCE_IN(25)):
            ends = (
                ["failed"]
                + (["socket"] if not self.closed else [])
                + (["hangup"] * 3 if not self.gone else [])
            )
            what = draw(st.sampled_from(ends))
        else:
            choices: list[str] = ["offer"] * 3 + ["announce", "timeout"]
            if not self.gone:
                choices += ["digit", "parked"] + ["bridge"] * 3 + ["unbridge"] * 2
            choices += ["finish"] * 8 if self.running and not self.closed else []
            choices += ["timer"] * 3 if self.timer is not None else []
            choices += ["catch up"] * 6 if self.catch_ups else []
            choices += ["leg answered", "leg ended"] * 3 if self.legs and not self.closed else []
            what = draw(st.sampled_from(choices))
        if what == "finish":
            ref = draw(st.sampled_from(sorted(self.running)))
            c = self.running.pop(ref)
            if isinstance(c, StartRecording):  # its first set's completion names the file
                return RecordingNamed("/recordings/acme/named.wav")
            disposition = draw(st.sampled_from(["", "NO_ANSWER", "USER_BUSY"])) if isinstance(c, Ring) else ""
            return AppFinished(ref, disposition)
        if what == "timer":
            token, self.timer = self.timer, None
            assert token is not None
            return WaitOver(token)
        if what == "catch up":
            return CaughtUp(self.catch_ups.popleft())
        if what in ("leg answered", "leg ended"):
            # The leg's originate job ends once: answered, or not.
            leg = draw(st.sampled_from(sorted(self.legs)))
            del self.legs[leg]
            if what == "leg answered":
                return LegAnswered(leg)
            return LegEnded(leg, draw(st.sampled_from(["NO_ANSWER", "USER_BUSY", "LOSE_RACE"])))
        if what == "offer":
            # The dispatcher offers only agents it reserved: none this caller's offers hold.
            free = [t for t in (A1, A2, A3) if t.agent not in offered(self.commands)]
            if not free:
                return Announced(1, 60)
            return Offered(tuple(draw(st.lists(st.sampled_from(free), min_size=1, max_size=2, unique=True))), 6)
        if what == "announce":
            return Announced(draw(st.integers(1, 5)), draw(st.integers(0, 600)))
        if what == "timeout":
            return TimedOut("max-wait-time")
        if what == "failed":
            return Failed("boom")
        if what == "socket":
            self.closed = True
            return SocketClosed()
        if what == "digit":
            return Digit(draw(st.sampled_from(["1", "5"])))
        if what == "parked":
            return Parked()
        if what == "hangup":
            self.hung_up = True
            return HungUp("NORMAL_CLEARING")
        other = draw(st.sampled_from([A1.leg, A2.leg, CONSULTED]))
        return (Bridged if what == "bridge" else Unbridged)(other, self.now)


def offered(commands: Iterable[Command]) -> set[str]:
    """The agents rung for the caller whose offer is not settled yet (answered, failed or
    withdrawn); asserts that no agent is rung while an offer to them stands."""
    out: set[str] = set()
    for x in commands:
        if isinstance(x, Ring | Originate):
            agents = (
                [dict(leg.variables)["fsapps_agent"] for leg in x.legs] if isinstance(x, Ring)
                else [dict(x.leg.variables)["fsapps_agent"]]
            )  # fmt: skip
            assert not out & set(agents), (x, out)
            out.update(agents)
        elif isinstance(x, TellAnswered):
            out -= {x.agent, *x.others}
        elif isinstance(x, OfferFailed | PickedUp):
            out -= set(x.agents)
    return out


# What a caller may come back with on their channel (fsapps.acd.visit NOTED_VISIT): nothing,
# an answer alone (its controller died during the conversation), or a conversation handed back.
NOTES_ON_CHANNEL = [
    {}, {},
    {"bridge_agent": "acme_a2", "bridge_started": NOW - 50, "bridge_joined": NOW - 90},
    {"bridge_agent": "acme_a2", "bridge_started": NOW - 50, "bridge_joined": NOW - 90, "bridge_ended": NOW - 5},
]  # fmt: skip
def setups(notes: list[dict[str, Any]]) -> st.SearchStrategy[VisitSetup]:
    # parked: an earlier visit's uuid_bridge took the caller out of the node's extension.
    return st.builds(
        lambda answered, recorded, branches, prompt, adds_legs, noted, parked: replace(
            SETUP, answered=answered, recording=RECORDING if recorded else None, branches=frozenset(branches),
            announce_prompt="/sounds/en/acme/please_hold.wav" if prompt else None, adds_legs=adds_legs, **noted,
            parked=parked, route_on="acme_main_2__route acme" if parked else "",
        ),
        st.booleans(), st.booleans(), st.sets(st.sampled_from(["_", "timeout", "callback"])), st.booleans(),
        st.booleans(), st.sampled_from(notes), st.booleans(),
    )  # fmt: skip


SETUPS = setups([{}])
ARRIVING = setups(NOTES_ON_CHANNEL)  # any caller, back from an answered visit or not


def run_and_check(d: Driver) -> None:
    """Random events until the visit ends, then the invariants of the whole run."""
    for _ in range(120):
        if d.visit.ending is not None:
            break
        d.send(d.next_event())
    c = d.commands
    ending = d.visit.ending
    placed = any(isinstance(x, Join) for x in c)
    # Each visit is counted at most once, and left (or forgotten) at most once.
    accounts = [x for x in c if isinstance(x, Account)]
    assert len(accounts) <= 1
    assert sum(isinstance(x, Leave) for x in c) <= 1
    if accounts:
        summary = accounts[0].summary
        assert summary.ended >= summary.joined - 1e-6 or summary.outcome == "answered"
        rang = sum(len(x.legs) for x in d.issued if isinstance(x, Ring))
        assert summary.offers == rang + sum(isinstance(x, Originate) for x in d.issued)
        # The abandon is counted exactly when the place is kept for resuming.
        assert (summary.outcome == "abandoned") == any(x == Leave(abandoned=True) for x in c)
    # Nothing goes to the switch, the dispatcher or the records once the visit is over.
    if ending is not None:
        tail = d.visit.receive(HungUp(), d.now) + d.visit.receive(AppFinished(max(d.refs, default=0)), d.now)
        assert tail == []
        if ending.caller_gone is not None and placed and not any(isinstance(x, CompleteAnswered) for x in c):
            # Gone while in the queue or after the agent: the place is settled one way.
            assert any(isinstance(x, Leave | Forget) for x in c), kinds(c)
    if ending is not None and ending.hand_back is not None:
        # A caller handed back whose place was written leaves it to the next controller.
        assert not placed or any(isinstance(x, Forget) for x in c), kinds(c)
        if d.visit.park_set and d.visit.end and not (d.hung_up or d.closed):
            # A caller parked after their conversation is sent to the node's routes (a hand
            # back would have the switch reset them, and hang them up): handed back only if
            # that failed too.
            assert any(isinstance(x, RouteOn) for x in c), kinds(c)
    # A caller out of the node's extension (parked under the socket after a uuid_bridge) who is
    # there as the visit ends by a branch, or is handed back, is routed on: the socket closing
    # would leave them parked in silence, a hand back's resume would hang them up. (Not while
    # an agent is being bridged to them: that conversation goes on.)
    if (ending is not None and not (d.hung_up or d.closed) and d.visit.park_set
            and ending.next_queue is None and ending.caller_gone is None
            and not (ending.hand_back and d.visit.agent_leg)):  # fmt: skip
        assert any(isinstance(x, RouteOn) for x in c), kinds(c)
    # Every offer is settled: answered, failed, or withdrawn by a pickup, before another rings.
    rung = 0
    for x in c:
        if isinstance(x, Ring):
            assert rung == 0, kinds(c)
            rung = 1
        elif isinstance(x, TellAnswered | OfferFailed | PickedUp):
            rung = 0
    # Every agent rung is settled once (answered, lost the race, failed, withdrawn) by the time
    # the caller leaves the queue; a caller forgotten leaves theirs to the next controller.
    still = offered(c)
    if any(isinstance(x, Leave) for x in c):
        assert still == set(), kinds(c)
    # A caller back from an answered visit their channel notes is completed, never rung again.
    if d.visit.setup.bridge_agent:
        assert not any(isinstance(x, Ring | Originate) for x in c), kinds(c)
        assert not any(isinstance(x, Join) and not x.completing for x in c), kinds(c)
    # A visit that ends in the flow with the caller there leaves no answer noted on the channel:
    # a later queue visit on the call would take it for a conversation to complete.
    noted_agent = [d.visit.setup.bridge_agent] + [
        dict(x.values)["fsapps_bridge_agent"] for x in c
        if isinstance(x, SetVariables | MarkChannel) and "fsapps_bridge_agent" in dict(x.values)
    ]  # fmt: skip
    if ending is not None and ending.branch is not None and not (d.hung_up or d.closed):
        assert noted_agent[-1] == "", kinds(c)
    # The recording starts at most once and is stopped only after it started.
    starts = [x for x in c if isinstance(x, StartRecording)]
    assert len(starts) <= 1
    assert not any(isinstance(x, StopRecording) for x in c) or starts


@settings(max_examples=400, deadline=None)
@given(st.data(), ARRIVING)
def test_any_run_of_events_keeps_the_visits_invariants(data, setup) -> None:
    d = Driver(data, setup)
    d.send(Arrived())
    run_and_check(d)


@settings(max_examples=300, deadline=None)
@given(st.data(), SETUPS, st.sampled_from(NOTES))
def test_any_run_after_an_agent_answered_keeps_the_visits_invariants(data, setup, note) -> None:
    """From the end of a conversation (an agent's transfer noted, maybe), on at random."""
    d = Driver(data, replace(setup, answered=True))
    d.forced = {Join: deque([Placed(NOW)]), ReadNote: deque([NoteRead(note), NoteRead(note)])}
    d.scripted = True
    d.send(Arrived())
    d.send(CaughtUp(d.catch_ups.popleft()))
    d.send(Offered((A1, A2), 6))
    (clip,) = [ref for ref, c in d.running.items() if isinstance(c, Play)]
    d.running.pop(clip)
    d.send(AppFinished(clip))
    if setup.adds_legs:
        d.forced[BridgeCaller] = deque([CallerBridged(A2.leg, True)])
        del d.legs[A2.leg]
        d.send(LegAnswered(A2.leg))
        d.send(Bridged(A2.leg, d.now))
        d.send(Unbridged(A2.leg, d.now))
    else:
        (ring,) = [ref for ref, c in d.running.items() if isinstance(c, Ring)]
        d.send(Bridged(A2.leg, d.now))
        d.running.pop(ring)
        d.send(AppFinished(ring, "SUCCESS"))
    assert d.visit.phase not in WAITING and d.visit.agent == "acme_a2"
    d.scripted = False
    run_and_check(d)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, hold_music.BREAKS + 1), st.sampled_from(["offer", "digit", "announce", "timeout"]))
def test_on_hold_the_visit_acts_only_once_the_clip_completed_and_a_hangup_ends_it_at_once(waits, why) -> None:
    """Whatever number of breaks were lost, nothing happens before the clip's completion,
    and a hangup meanwhile is an abandon at once: the clip, if still queued, never completes."""
    decision = {"offer": Offered((A1,), 6), "digit": Digit("1"), "announce": Announced(1, 60),
                "timeout": TimedOut()}[why]  # fmt: skip
    r = Run()
    r.on_hold()
    assert kinds(r.send(decision)) == ["Break", "Wait"]
    for _ in range(waits):
        out = r.timer()
        assert set(kinds(out)) <= {"Break", "Wait", "Forget"}
        if r.visit.ending is not None:
            return  # handed back: it never stopped
    hung = Run()
    hung.on_hold()
    hung.send(decision)
    for _ in range(min(waits, hold_music.BREAKS - 1)):
        hung.timer()
    out = hung.send(HungUp())
    assert out == [Leave(abandoned=True), Account(out[1].summary)]
    assert hung.visit.ending is not None and hung.done("Play") == []
    acted = r.done("Play")
    assert kinds(acted)[0] in ("StartRecording", "Play", "Leave")
    assert not {"Break", "Wait"} & set(kinds(acted))
