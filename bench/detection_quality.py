"""Detection quality on real, labelled chat: the dev scorer's table, and synthetic hours.

1. Real chat: runs `../shared/eval-dev/score.py` (7 VODs of an English Twitch channel, 39 h,
   56 highlights labelled by people) from the project root, which replays every VOD through
   `python -m engine.replay` and prints recall and clip rate beside two anchors (the raw 5 s
   message count, offline, and random times). When the dev set is not there (a fresh clone
   without ../shared), it says so and goes on.
2. Synthetic hours, always: Poisson chat at 0.5, 5, 50 and 300 msg/s with reaction bursts at
   random places, and the same chats without bursts; prints clips per hour, how many of the
   bursts were clipped and how many clips were noise.

Usage: python bench/detection_quality.py [--config FILE] [--no-dev] [--hours H]
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.config import load_config  # noqa: E402
from engine.detection.detector import Detector  # noqa: E402
from engine.events import Moment  # noqa: E402

DEV = ROOT.parent / "shared" / "eval-dev" / "score.py"
T0 = 1_767_000_000.0
LAUGHS = ("LOL", "ㅋㅋㅋㅋ", "哈哈哈哈", "KEKW", "jajaja", "😂😂", "wwww", "7777")


def chat(
    rate: float, hours: float, bursts: list[float], seed: int
) -> Iterator[tuple[float, str, str]]:
    rng = random.Random(seed)
    t, end = T0, T0 + hours * 3600
    users = max(50, int(rate * 60))
    while t < end:
        hot = any(b <= t < b + 20 for b in bursts)
        t += rng.expovariate(rate * (4 if hot else 1))
        text = rng.choice(LAUGHS) if hot and rng.random() < 0.7 else rng.choice(("hi", "gg", "ok"))
        yield t, f"u{rng.randrange(users)}", text


def burst_times(hours: float, per_hour: float, seed: int) -> list[float]:
    rng = random.Random(seed)
    n = max(1, round(hours * per_hour))
    out: list[float] = []
    while len(out) < n:
        b = T0 + rng.uniform(300, hours * 3600 - 60)
        if all(abs(b - x) >= 300 for x in out):
            out.append(b)
    return sorted(out)


def _covers(clip: Moment, burst: float) -> bool:
    return clip.clip_start <= burst + 20 and clip.clip_end >= burst


def synthetic(config_path: str | None, hours: float) -> None:
    config = load_config(config_path or ROOT / "config.yaml")
    print(f"synthetic hours (target {config.triggers.target_clips_per_hour:g} clips/h):")
    print("| msg/s | hours | bursts | clips/h | bursts clipped | noise clips | steady: clips/h |")
    print("|---|---|---|---|---|---|---|")
    for rate in (0.5, 5.0, 50.0, 300.0):
        h = hours if rate < 100 else min(hours, 0.5)
        bursts = burst_times(h, 4, seed=int(rate * 10))
        clips = {}
        d = Detector("bench", config)
        for t, user, text in chat(rate, h, bursts, seed=1):
            for m in d.feed(d.message(t, user, text)):
                clips[m.key] = m
        hit = sum(
            any(c.clip_start <= b + 20 and c.clip_end >= b for c in clips.values()) for b in bursts
        )
        noise = sum(
            not any(c.clip_start <= b + 20 and c.clip_end >= b for b in bursts)
            for c in clips.values()
        )
        steady = Detector("bench", config)
        quiet = 0
        for t, user, text in chat(rate, h, [], seed=2):
            quiet += sum(m.revision == 0 for m in steady.feed(steady.message(t, user, text)))
        print(
            f"| {rate:g} | {h:g} | {len(bursts)} | {len(clips) / h:.2f} | {hit}/{len(bursts)} "
            f"| {noise} | {quiet / h:.2f} |"
        )


def dev(config_path: str | None) -> None:
    if not DEV.exists():
        print(f"dev set: {DEV} is not here (a clone without ../shared); skipped")
        return
    cmd = [sys.executable, str(DEV), "--python", sys.executable]
    if config_path:
        cmd += ["--config", config_path]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    print(proc.stdout.rstrip())
    if proc.returncode:
        print(proc.stderr.rstrip(), file=sys.stderr)
    print(f"(dev scorer: {time.perf_counter() - t0:.1f} s)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--config", help="config.yaml to score (default: the shipped one)")
    ap.add_argument("--no-dev", action="store_true", help="skip the real-chat dev set")
    ap.add_argument("--hours", type=float, default=2.0, help="synthetic hours per quiet channel")
    a = ap.parse_args(argv)
    if not a.no_dev:
        dev(a.config)
    synthetic(a.config, a.hours)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
