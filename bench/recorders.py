"""What recording costs: N concurrent Recorders (two renditions each) of the fake HLS stream.

    python bench/recorders.py [--recorders 10] [--seconds 30] [--renditions best,480p]

Every recorder is a streamlink | ffmpeg pair per rendition. After a warm-up (start-up excluded:
a streamlink start is ~0.5 s of CPU once), CPU is sampled from /proc/PID/stat over the window and
memory is PSS from /proc/PID/smaps_rollup at its end (PSS splits shared pages fairly, so the sum
is the real footprint). Printed per process, per recorder and in total, as % of one core; the
bench process itself (fake HLS server + the recorders' event loop) is reported separately.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.media.recorder import Recorder
from tests.fakes.hls_stream import FakeHLS, MediaSpec, encode_media

CACHE = Path(tempfile.gettempdir()) / "kick_clip_bench"
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def pss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def self_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


async def measure(n: int, seconds: float, renditions: tuple[str, ...], warmup: float) -> dict:
    media = encode_media(MediaSpec(), CACHE / "media")
    fake = FakeHLS(media).start()
    with tempfile.TemporaryDirectory() as tmp:
        recs = []
        for i in range(n):
            slug = f"bench{i}"
            fake.go_live(slug)
            recs.append(Recorder(slug, fake.url_template(), tmp, renditions, segment_s=10))
        await asyncio.gather(*(r.start() for r in recs))
        await asyncio.sleep(warmup)
        procs: dict[int, tuple[str, str, str]] = {}
        for r in recs:
            for rendition, d in r.pids().items():
                for kind, pid in d.items():
                    procs[pid] = (r.slug, rendition, kind)
        before = {pid: cpu_seconds(pid) for pid in procs}
        me0, t0 = self_cpu(), time.monotonic()
        await asyncio.sleep(seconds)
        wall = time.monotonic() - t0
        after = {pid: cpu_seconds(pid) for pid in procs}
        me = self_cpu() - me0
        pss = {pid: pss_kib(pid) for pid in procs}
        segments = sum(len(r.index) for r in recs)
        restarts = sum(sum(r.restarts.values()) for r in recs)
        await asyncio.gather(*(r.stop() for r in recs))
    fake.stop()
    rows = []
    for pid, (slug, rendition, kind) in sorted(procs.items(), key=lambda kv: kv[1]):
        b, a = before[pid], after[pid]
        cpu = (a - b) / wall * 100 if a is not None and b is not None else float("nan")
        rows.append((slug, rendition, kind, pid, cpu, (pss[pid] or 0) / 1024))
    return {"rows": rows, "wall": wall, "self_cpu": me / wall * 100, "segments": segments,
            "restarts": restarts, "n": n}  # fmt: skip


def report(r: dict) -> None:
    print(f"{'slug':8} {'rendition':9} {'process':10} {'pid':>7} {'CPU %':>7} {'PSS MiB':>8}")
    for slug, rendition, kind, pid, cpu, pss in r["rows"]:
        print(f"{slug:8} {rendition:9} {kind:10} {pid:7d} {cpu:7.2f} {pss:8.1f}")
    for kind in ("streamlink", "ffmpeg"):
        sel = [row for row in r["rows"] if row[2] == kind]
        if sel:
            print(f"{kind:>10}: {len(sel)} procs, CPU {sum(x[4] for x in sel):6.2f} % total "
                  f"(median {statistics.median(x[4] for x in sel):.2f} %), PSS "
                  f"{sum(x[5] for x in sel):7.1f} MiB total "
                  f"(median {statistics.median(x[5] for x in sel):.1f} MiB)")  # fmt: skip
    cpu = sum(x[4] for x in r["rows"])
    pss = sum(x[5] for x in r["rows"])
    n = r["n"]
    print(f"children total: CPU {cpu:.1f} % of one core, PSS {pss:.1f} MiB "
          f"(per recorder: {cpu / n:.2f} % CPU, {pss / n:.1f} MiB)")  # fmt: skip
    print(f"bench process (fake HLS server + recorders' event loop): CPU {r['self_cpu']:.1f} %")
    print(f"window {r['wall']:.1f} s; segments indexed {r['segments']}; restarts {r['restarts']}")


def run(n: int = 10, seconds: float = 30.0, renditions: tuple[str, ...] = ("best", "480p"),
        warmup: float = 8.0) -> dict:  # fmt: skip
    return asyncio.run(measure(n, seconds, renditions, warmup))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--recorders", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--warmup", type=float, default=8.0)
    ap.add_argument("--renditions", default="best,480p")
    args = ap.parse_args()
    report(run(args.recorders, args.seconds, tuple(args.renditions.split(",")), args.warmup))


if __name__ == "__main__":
    main()
