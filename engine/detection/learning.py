"""Learning from review: a streamer's Approve / Reject decisions nudge its bars and its scores,
within bounds, explainably, and reversibly.

- Bars: the approval rate p (with a prior of 2 approvals and 2 rejections, so a few reviews move
  little) scales the clip-rate target by 0.5 + p: a team that approves everything gets up to 1.5x
  the target's clips (looser bars), one that rejects everything 0.5x (stricter). The bars stay
  channel-relative: this moves where on the channel's own burst history the bar sits.
- Scores: each trigger's own approval rate (prior 1 + 1) moves the confidence of moments it is
  part of by up to +-MAX_WEIGHT, so the kinds a team keeps rank higher.
`/thresholds show` prints `explain()`; `/thresholds reset` forgets it (`Detector.reset_learning`).
Pure data, saved with the watch's state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

MAX_WEIGHT = 0.05
_PRIOR = 2  # pseudo-approvals and pseudo-rejections of the bar nudge


@dataclass
class ReviewLearning:
    approved: int = 0
    rejected: int = 0
    by_trigger: dict[str, list[int]] = field(default_factory=dict)  # name -> [approved, rejected]

    @property
    def reviews(self) -> int:
        return self.approved + self.rejected

    def note(self, approved: bool, triggers: Iterable[str]) -> None:
        if approved:
            self.approved += 1
        else:
            self.rejected += 1
        for name in set(triggers):
            counts = self.by_trigger.setdefault(name, [0, 0])
            counts[0 if approved else 1] += 1

    def target_factor(self) -> float:
        """How much the clip-rate target is scaled: 0.5 (all rejected) .. 1.5 (all approved)."""
        p = (self.approved + _PRIOR) / (self.reviews + 2 * _PRIOR)
        return 0.5 + p

    def weight(self, triggers: Iterable[str]) -> float:
        """Confidence added to a moment of these triggers (mean of their nudges)."""
        nudges = [self._nudge(name) for name in triggers if name in self.by_trigger]
        return sum(nudges) / len(nudges) if nudges else 0.0

    def _nudge(self, name: str) -> float:
        a, r = self.by_trigger[name]
        p = (a + 1) / (a + r + 2)
        return max(-MAX_WEIGHT, min(MAX_WEIGHT, 4 * MAX_WEIGHT * (p - 0.5)))

    def explain(self) -> str:
        if not self.reviews:
            return "nothing yet (no reviews of this streamer's clips)"
        factor = self.target_factor()
        parts = [
            f"from {self.reviews} reviews ({self.approved} approved, {self.rejected} rejected): "
            f"bars aim at {factor:.2f}x the clip-rate target"
        ]
        for name in sorted(self.by_trigger):
            a, r = self.by_trigger[name]
            parts.append(f"{name} {a}/{a + r} approved ({self._nudge(name):+.3f} confidence)")
        return "; ".join(parts)

    def to_state(self) -> dict[str, Any]:
        return {"approved": self.approved, "rejected": self.rejected, "by": self.by_trigger}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> ReviewLearning:
        def count(x: Any) -> int:
            return x if isinstance(x, int) and 0 <= x < 10**9 else 0

        saved = state.get("by")
        by: Mapping[str, Any] = saved if isinstance(saved, Mapping) else {}
        return cls(
            count(state.get("approved")),
            count(state.get("rejected")),
            {
                str(k): [count(v[0]), count(v[1])]
                for k, v in by.items()
                if isinstance(v, list) and len(v) == 2
            },
        )
