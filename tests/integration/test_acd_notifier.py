"""The ACD's live events through a running controller (fsapps.acd.notifier): what a
subscriber of the controller's notifier sees of a scripted call, in order."""

from __future__ import annotations

from fsapps.acd.notifier import AgentStateChanged, MemberChanged, OfferMade, Published
from fsapps.sim.endpoints import Endpoint
from tests.integration.test_acd_calls import SPEED, rig
from tests.support.waiting import wait_for

AGENTS = ("cn_li", "cn_wang")


def test_a_subscriber_sees_the_agents_states_and_offers_of_a_call_in_order(store, tmp_path) -> None:
    with rig(store, tmp_path) as r:
        r.agent("cn_li", Endpoint(answer_after=None), max_no_answer=1)  # rings out
        r.agent("cn_wang", Endpoint(answer_after=2.0, hangup_after=5.0))
        notifier = r.controllers[0].notifier
        sub = notifier.subscribe(
            lambda e: (isinstance(e, AgentStateChanged | OfferMade) and e.agent in AGENTS)
            or isinstance(e, MemberChanged)
        )
        ch = r.call(keypad=["1", "4"])  # 1: an agent; then 4 for the survey
        assert ch.destroyed.wait(120 / SPEED + 30), r.switch.call_log(ch.uuid)
        got: list[Published] = []

        def wang_free_again() -> bool:
            while (item := sub.get(timeout=0)) is not None:
                got.append(item)
            return any(
                isinstance(p.event, AgentStateChanged) and p.event.agent == "cn_wang" and p.event.state == "Waiting"
                for p in got
            )

        assert wait_for(wang_free_again), got
        assert not sub.dropped
        seqs = [p.seq for p in got]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)

        def story(agent: str) -> list[tuple[str, str]]:
            out = []
            for p in got:
                e = p.event
                if isinstance(e, AgentStateChanged) and e.agent == agent:
                    out.append(("state", f"{e.status}/{e.state}"))
                elif isinstance(e, OfferMade) and e.agent == agent:
                    out.append(("offer", e.member))
            return out

        # cn_li rang out (max-no-answer 1: On Break); cn_wang was offered, answered, and is
        # free again once the call ended.
        assert story("cn_li") == [
            ("state", "Available/Receiving"), ("offer", ch.uuid), ("state", "On Break/Waiting"),
        ]  # fmt: skip
        assert story("cn_wang") == [
            ("state", "Available/Receiving"), ("offer", ch.uuid),
            ("state", "Available/In a queue call"), ("state", "Available/Waiting"),
        ]  # fmt: skip
        # The caller: joined, answered by cn_wang, left answered (what the metrics count).
        members = [(p.event.what, p.event.agent, p.event.outcome) for p in got if isinstance(p.event, MemberChanged)]
        assert members == [("joined", "", ""), ("answered", "cn_wang", ""), ("left", "cn_wang", "answered")]
        # The offer carries what the agent's leg carries: the caller's number and screen pop.
        offer = next(p.event for p in got if isinstance(p.event, OfferMade) and p.event.agent == "cn_wang")
        variables = dict(offer.variables)
        assert (variables["fsapps_member"], variables["fsapps_queue"]) == (ch.uuid, "business")
        assert variables["origination_caller_id_number"] == "13800000001"
        assert offer.leg and (offer.tenant, offer.queue) == ("cablenet", "business")
