"""Sliding time windows with per-key caps: the abuse-resistance primitive of every chat trigger.

An event at time t is "in the window" at time now while `t > now - window_s`: one exactly
`window_s` old is out. Every window in the engine uses this edge (these, keyword's, excitement's
and viewer_spike's queues), so "8 messages within 10 s" means the same thing everywhere and a
test at the edge pins all of them. Each window holds only what is inside it, so memory is
bounded by the chat rate times the window, never by uptime.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable


class CappedWindow:
    """Counts events in a window, each key (a user, a copypasta text) at most `cap` times.

    With cap=1 it counts distinct keys: "8 users said CLIP IT in 10 s", not one user 8 times.
    """

    __slots__ = ("_counts", "_q", "cap", "window_s")

    def __init__(self, window_s: float, cap: int) -> None:
        self.window_s = window_s
        self.cap = cap
        self._q: deque[tuple[float, Hashable]] = deque()
        self._counts: dict[Hashable, int] = {}

    def expire(self, now: float) -> None:
        q = self._q
        if not q:
            return
        limit = now - self.window_s
        counts = self._counts
        while q and q[0][0] <= limit:
            key = q.popleft()[1]
            c = counts[key] - 1
            if c:
                counts[key] = c
            else:
                del counts[key]

    def full(self, key: Hashable) -> bool:
        """Whether `key` has used its cap (call after expire)."""
        return self._counts.get(key, 0) >= self.cap

    def add(self, t: float, key: Hashable) -> int:
        """Expire, then count the event unless its key is at its cap.

        Returns the number of events now in the window, or 0 if this one was not counted: truthy
        exactly when it counted, and the caller needs no second (Python-level) len() call.
        """
        self.expire(t)
        counts = self._counts
        c = counts.get(key, 0)
        if c >= self.cap:
            return 0
        counts[key] = c + 1
        q = self._q
        q.append((t, key))
        return len(q)

    def keys(self) -> int:
        """How many distinct keys are in the window."""
        return len(self._counts)

    def members(self, since: float) -> set[Hashable]:
        """The keys of events later than `since` (a sub-window, for reports)."""
        return {key for t, key in self._q if t > since}

    def __len__(self) -> int:
        return len(self._q)

    def clear(self) -> None:
        self._q.clear()
        self._counts.clear()
