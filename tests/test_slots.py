"""Server-wide slots: capacity, FIFO queue, release, and expiry of silent sessions."""
import threading

import pytest

from core.train.slots import SlotPool


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_capacity_queue_and_release_in_order():
    pool = SlotPool(2, clock=Clock())
    assert pool.poll("a") == 0 and pool.poll("b") == 0
    assert pool.poll("c") == 1 and pool.poll("d") == 2
    assert pool.poll("c") == 1  # keeps its place
    assert pool.poll("a") == 0  # holding stays holding
    pool.release("a")
    assert pool.poll("d") == 1  # a slot is free, but c is first in line: d cannot jump it
    assert pool.snapshot() == {"running": 2, "queued": 1, "capacity": 2}  # the free slot went to c
    assert pool.poll("c") == 0
    assert pool.poll("d") == 1  # b and c hold both slots: d is next, and still waits
    assert pool.snapshot() == {"running": 2, "queued": 1, "capacity": 2}
    pool.release("b")
    assert pool.poll("d") == 0  # now its turn
    assert pool.snapshot() == {"running": 2, "queued": 0, "capacity": 2}


def test_silent_sessions_expire():
    clock = Clock()
    pool = SlotPool(1, lease_seconds=10, clock=clock)
    assert pool.poll("a") == 0
    assert pool.poll("b") == 1
    clock.t = 5
    assert pool.poll("b") == 1
    clock.t = 12  # a has not polled for 12 s
    assert pool.poll("b") == 0
    assert pool.poll("a") == 1


def test_one_browser_holds_one_slot_whatever_its_tabs():
    pool = SlotPool(2, clock=Clock())
    assert pool.poll("tab1", group="alice") == 0
    assert pool.poll("tab2", group="alice") == 1  # a free slot, but alice already trains
    assert pool.poll("tab3", group="bob") == 0  # bob behind her goes first; tab2 keeps its place
    assert pool.poll("tab2", group="alice") == 1
    assert pool.snapshot() == {"running": 2, "queued": 1, "capacity": 2}
    pool.release("tab1")
    assert pool.poll("tab4", group="carol") == 1  # tab2 was first in line, its browser free: it got the slot
    assert pool.holds("tab2") and not pool.holds("tab4")


def test_a_closed_tab_frees_its_slot_within_the_lease_and_the_next_in_line_gets_it():
    clock = Clock()
    pool = SlotPool(1, clock=clock)
    assert pool.lease_seconds <= 5
    assert pool.poll("closed") == 0 and pool.poll("waiting") == 1
    clock.t = pool.lease_seconds + 0.01  # "closed" stopped polling; "waiting" polls every second
    assert pool.poll("waiting") == 0


def test_threads_never_exceed_capacity():
    pool = SlotPool(3)
    granted = []
    lock = threading.Lock()

    def worker(i):
        if pool.poll(f"s{i}") == 0:
            with lock:
                granted.append(i)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(granted) == 3
    assert pool.snapshot()["queued"] == 17


def test_capacity_must_be_positive():
    with pytest.raises(ValueError):
        SlotPool(0)


def test_the_browser_id_survives_the_cookie_being_remasked():
    from playground.state import xsrf_token

    # two loads of one browser: Tornado masks the same token with a new mask each time
    first = xsrf_token("2|9531bc57|1547c546b064470baeb996ddf18ca32a|1796186593")
    again = xsrf_token("2|5faf9ea0|dfd9e7b17afa65fc6427b42a3b1281dd|1796186593")
    assert first == again == "807679112555fb5c3b882a8a64bd1f7d"
    assert xsrf_token("not a tornado cookie") == "not a tornado cookie"
