"""Server-wide training slots: at most `capacity` trainings run at once.

Sessions poll instead of blocking: `poll(sid, group)` answers 0 when the session
holds a slot (now or already), else its 1-based place in the queue. Slots go
strictly first come, first served, with one rule on top: a `group` (one browser,
whatever its tabs) holds at most one slot, so a tab whose browser already trains
lets the ones behind it go first and keeps its place. A holder or waiter that
stops polling for `lease_seconds` (a closed or stalled tab) loses its slot or
place, and the slot goes to the next in line at the next poll of anyone.
Thread-safe: sessions run in threads of one process."""
from __future__ import annotations

import threading
import time
from collections import OrderedDict

LEASE_SECONDS = 4.0  # a running tab polls every 0.3-0.5 s, a queued one every second


class SlotPool:
    def __init__(self, capacity: int, lease_seconds: float = LEASE_SECONDS, clock=time.monotonic):
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity, self.lease_seconds, self.clock = capacity, lease_seconds, clock
        self._lock = threading.Lock()
        self._holders: dict[str, tuple[float, str | None]] = {}  # sid -> (last seen, group)
        self._queue: OrderedDict[str, tuple[float, str | None]] = OrderedDict()  # FIFO

    def poll(self, sid: str, group: str | None = None) -> int:
        """0 if `sid` holds a slot (granting one if it is its turn), else its
        place in the queue (1 = next)."""
        with self._lock:
            now = self.clock()
            self._expire(now)
            if sid in self._holders:
                self._holders[sid] = (now, group)
                return 0
            self._queue[sid] = (now, group)  # joins at the back, or keeps its place
            self._grant()
            if sid in self._holders:
                return 0
            return list(self._queue).index(sid) + 1

    def holds(self, sid: str) -> bool:
        with self._lock:
            return sid in self._holders

    def release(self, sid: str) -> None:
        """Give the slot (or the place in the queue) back."""
        with self._lock:
            self._holders.pop(sid, None)
            self._queue.pop(sid, None)

    def snapshot(self) -> dict:
        with self._lock:
            self._expire(self.clock())
            return {"running": len(self._holders), "queued": len(self._queue), "capacity": self.capacity}

    def _grant(self) -> None:
        busy = {g for _, g in self._holders.values() if g is not None}
        for sid, (seen, group) in list(self._queue.items()):
            if len(self._holders) >= self.capacity:
                return
            if group is not None and group in busy:
                continue  # this browser already trains in another tab
            del self._queue[sid]
            self._holders[sid] = (seen, group)
            if group is not None:
                busy.add(group)

    def _expire(self, now: float) -> None:
        for table in (self._holders, self._queue):
            for sid in [s for s, (seen, _) in table.items() if now - seen > self.lease_seconds]:
                del table[sid]
