"""Server-wide training slots: at most `capacity` trainings run at once.

Sessions poll instead of blocking: `poll(sid)` answers 0 when the session holds a
slot (now or already), else its 1-based place in the queue. A holder or waiter
that stops polling for `lease_seconds` (a closed tab) loses its place, so a slot
is never held forever. Thread-safe: sessions run in threads of one process."""
from __future__ import annotations

import threading
import time
from collections import OrderedDict


class SlotPool:
    def __init__(self, capacity: int, lease_seconds: float = 15.0, clock=time.monotonic):
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity, self.lease_seconds, self.clock = capacity, lease_seconds, clock
        self._lock = threading.Lock()
        self._holders: dict[str, float] = {}  # sid -> last seen
        self._queue: OrderedDict[str, float] = OrderedDict()  # sid -> last seen, FIFO

    def poll(self, sid: str) -> int:
        """0 if `sid` holds a slot (granting one if free and it is first in line),
        else its place in the queue (1 = next)."""
        with self._lock:
            now = self.clock()
            self._expire(now)
            if sid in self._holders:
                self._holders[sid] = now
                return 0
            self._queue[sid] = now  # joins at the back, or keeps its place
            while len(self._holders) < self.capacity and self._queue:
                first, _ = self._queue.popitem(last=False)
                self._holders[first] = now
            if sid in self._holders:
                return 0
            return list(self._queue).index(sid) + 1

    def release(self, sid: str) -> None:
        """Give the slot (or the place in the queue) back."""
        with self._lock:
            self._holders.pop(sid, None)
            self._queue.pop(sid, None)

    def snapshot(self) -> dict:
        with self._lock:
            self._expire(self.clock())
            return {"running": len(self._holders), "queued": len(self._queue), "capacity": self.capacity}

    def _expire(self, now: float) -> None:
        for table in (self._holders, self._queue):
            for sid in [s for s, seen in table.items() if now - seen > self.lease_seconds]:
                del table[sid]
