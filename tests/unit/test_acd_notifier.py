"""The ACD's live events (fsapps.acd.notifier): numbered, in order, filtered, resumable,
and never a burden on the publisher."""

from __future__ import annotations

import gevent

from fsapps.acd.notifier import AgentStateChanged, MemberChanged, Notifier, Published, QueueFigures


def state(agent: str, to: str, at: float = 0.0) -> AgentStateChanged:
    return AgentStateChanged(agent, to, "Available", at)


def drain(sub) -> list[Published]:
    out = []
    while (item := sub.get(timeout=0)) is not None:
        out.append(item)
    return out


def test_each_event_is_numbered_and_a_subscriber_gets_what_it_wants_in_order() -> None:
    n = Notifier()
    li = n.subscribe(lambda e: isinstance(e, AgentStateChanged) and e.agent == "li")
    everything = n.subscribe()
    for agent, to in [("li", "Receiving"), ("wang", "Receiving"), ("li", "In a queue call"), ("li", "Waiting")]:
        n.publish(state(agent, to))
    assert [(p.seq, p.event.state) for p in drain(li)] == [(1, "Receiving"), (3, "In a queue call"), (4, "Waiting")]
    assert [p.seq for p in drain(everything)] == [1, 2, 3, 4]
    assert n.seq == 4 and li.last == 4


def test_a_subscriber_resumes_after_the_last_number_it_saw() -> None:
    n = Notifier(history=3)
    for i in range(5):
        n.publish(state("li", f"s{i}"))
    assert n.oldest() == 3  # 1 and 2 fell out of the history
    sub = n.subscribe(after=3)
    n.publish(state("li", "live"))
    assert [p.seq for p in drain(sub)] == [4, 5, 6]


def test_a_slow_subscriber_is_dropped_and_the_publisher_never_waits() -> None:
    n = Notifier()
    slow = n.subscribe(size=2)
    fast = n.subscribe()
    with gevent.Timeout(1):  # publishing does not block on the full queue
        for i in range(5):
            n.publish(state("li", f"s{i}"))
    assert slow.dropped and slow.closed
    # What it had queued is still handed out, then the end; it resumes from its last number.
    assert [p.seq for p in drain(slow)] == [1, 2]
    assert slow.get(timeout=0) is None
    again = n.subscribe(after=slow.last)
    assert [p.seq for p in drain(again)] == [3, 4, 5]
    assert [p.seq for p in drain(fast)] == [1, 2, 3, 4, 5] and not fast.dropped


def test_a_failing_listener_or_filter_never_fails_the_publisher() -> None:
    n = Notifier()
    heard: list[int] = []

    def broken(item: Published) -> None:
        raise RuntimeError("boom")

    n.listen(broken)
    n.listen(lambda item: heard.append(item.seq), lambda e: isinstance(e, QueueFigures))
    picky = n.subscribe(lambda e: e.agent == "li")  # type: ignore[union-attr]  # fails on QueueFigures
    assert n.publish(QueueFigures("acme", "support", 2, 30.0, (), 0.0)) == 1
    assert n.publish(state("li", "Receiving")) == 2
    assert heard == [1]
    assert picky.dropped and picky.get(timeout=0) is None


def test_a_closed_subscription_or_stopped_listener_hears_no_more() -> None:
    n = Notifier()
    heard: list[int] = []
    stop = n.listen(lambda item: heard.append(item.seq))
    sub = n.subscribe()
    n.publish(MemberChanged("acme", "support", "m1", "joined", 0.0))
    sub.close()
    stop()
    n.publish(MemberChanged("acme", "support", "m1", "left", 1.0, outcome="answered"))
    assert heard == [1]
    assert [p.seq for p in drain(sub)] == [1] and not sub.dropped


def test_a_subscriber_waiting_on_its_queue_wakes_for_the_next_event() -> None:
    n = Notifier()
    sub = n.subscribe()
    waiter = gevent.spawn(sub.get, 5)
    gevent.sleep(0)  # the waiter blocks on the empty queue
    n.publish(state("li", "Receiving"))
    assert waiter.get(timeout=1).seq == 1
