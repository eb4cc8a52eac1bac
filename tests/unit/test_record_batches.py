"""Background records: one writer, whatever accumulated written at once."""

from __future__ import annotations

import gevent
import gevent.event

from fsapps.store.batches import RecordBatches


def test_records_put_while_a_batch_is_written_go_together_in_the_next() -> None:
    written: list[tuple[int, ...]] = []
    writing = gevent.event.Event()
    release = gevent.event.Event()

    def write(*records: int) -> None:
        writing.set()
        release.wait(5)
        written.append(records)

    batches = RecordBatches(write, gather=0).start()
    try:
        batches.put(0)
        assert writing.wait(5)  # the writer took record 0 and waits in write()
        for n in range(1, 101):
            batches.put(n)
        release.set()
        assert batches.flush(5)
    finally:
        batches.stop()
    assert written == [(0,), tuple(range(1, 101))]


def test_records_put_within_the_gather_window_go_in_one_batch() -> None:
    written: list[tuple[int, ...]] = []
    batches = RecordBatches(lambda *r: written.append(r), gather=0.2).start()
    try:
        batches.put(0)
        gevent.sleep(0)  # the writer takes record 0 and gathers
        for n in range(1, 11):
            batches.put(n)
        assert batches.flush(5)
    finally:
        batches.stop()
    assert written == [tuple(range(11))]


def test_a_batch_is_at_most_max_batch_and_nothing_is_lost() -> None:
    written: list[tuple[int, ...]] = []
    batches = RecordBatches(lambda *r: written.append(r), max_batch=7)
    batches.put(*range(20))  # before the writer starts: all waiting at once
    batches.start()
    assert batches.flush(5)
    batches.stop()
    assert [len(b) for b in written] == [7, 7, 6]
    assert [r for b in written for r in b] == list(range(20))


def test_a_failing_write_does_not_stop_the_records_after_it() -> None:
    written: list[int] = []

    def write(*records: int) -> None:
        if 1 in records:
            raise RuntimeError("a bug in one record's writing")
        written.extend(records)

    batches = RecordBatches(write).start()
    batches.put(1)
    assert batches.flush(5)
    batches.put(2)
    assert batches.flush(5)
    batches.stop()
    assert written == [2]


def test_a_failing_write_does_not_take_the_rest_of_its_batch_with_it() -> None:
    written: list[int] = []

    def write(*records: int) -> None:
        if 1 in records:
            raise RuntimeError("a bug in one record's writing")
        written.extend(records)

    batches = RecordBatches(write)
    batches.put(0, 1, 2, 3)  # one batch
    batches.start()
    assert batches.flush(5)
    batches.stop()
    assert written == [0, 2, 3]
