"""Confidence that ranks: how unusual a moment is for its own channel.

With adaptive bars every burst has a strength (engine.triggers.burst) and the channel's history
says how many bursts per live hour were at least that strong. A moment at the bar is one of the
`target` per hour: confidence 0.5. Ten times rarer (one of target/10 per hour) is 0.725; a
hundred times rarer is 0.95. So top-N by confidence keeps each channel's rarest moments, and the
number reads the same on a 0.5 msg/s channel and a 300 msg/s one. Agreement adds a little per
extra trigger that fired with it; excitement adds up to its boost (Detector._confidence).
"""

from __future__ import annotations

import math

AGREEMENT = 0.03
"""Confidence added per extra trigger active in the moment."""
_FLOOR, _SPAN = 0.5, 0.45


def rarity_confidence(per_hour: float, target_per_hour: float) -> float:
    """0.5 at `target_per_hour` bursts per hour this strong, +0.225 per tenfold rarer, <= 0.95."""
    if target_per_hour <= 0:
        return _FLOOR
    if per_hour <= 0:
        return _FLOOR + _SPAN
    decades = math.log10(target_per_hour / per_hour)
    return _FLOOR + _SPAN * min(max(decades / 2.0, 0.0), 1.0)
