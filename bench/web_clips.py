"""Dashboard clip library with 10,000 clips: server time of the clips page and GET /api/clips,
side by side with a bare SQLite query of the same rows.

    python bench/web_clips.py [--clips 10000] [--runs 30]

Builds a real SQLite file (the bot's migrations, 10,000 clips of the measured server plus as
many of another), the real App and dashboard (aiohttp on 127.0.0.1), logs in with a one-time
link, then times, as medians over --runs, one HTTP round trip on loopback for: the first page,
a page deep in the list (keyset `before`), a streamer filter, a status filter, the score sort,
a title search; next to `sqlite3` running the same SELECT with the same parameters (what the
database alone costs). Target: under 50 ms server time per page.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from bot import build_services
from engine.config import StorageConfig, load_config
from engine.core.access import MemberFacts
from engine.core.library import Library, parse_query
from engine.core.login import LoginLinks
from storage.clip_library import ClipLibraryRepo, search_sql
from web.server import Dashboard

GUILD, OTHER = 111, 222
STREAMERS = [f"streamer{i}" for i in range(20)]
TRIGGERS = ["keyword", "chat_velocity", "emote_flood", "viewer_spike", "hype_moment"]
STATUSES = ["posted"] * 2 + ["approved"] * 5 + ["rejected"] * 3


def fill(path: Path, n: int) -> None:
    rnd = random.Random(7)
    rows = []
    t0 = 1_780_000_000.0
    for guild in (GUILD, OTHER):
        for i in range(n):
            t = t0 + i * 60
            trig = rnd.choice(TRIGGERS)
            created = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(t))
            rows.append(
                (guild, rnd.choice(STREAMERS), f"k{guild}-{i}", t, trig, json.dumps([trig]),
                 round(rnd.random(), 3), t - 20, t + 25, json.dumps({"viewers": 1000 + i}),
                 rnd.choice(STATUSES), f"/clips/c{i}.mp4", f"/clips/c{i}-preview.mp4",
                 f"/clips/c{i}.jpg", f"clip {i} {'ace' if i % 97 == 0 else 'fight'}",
                 int(i % 13 == 0), created, created)
            )  # fmt: skip
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO clips (guild_id, streamer, moment_key, t, trigger, triggers, confidence,"
            " clip_start, clip_end, details, status, original_path, preview_path, thumbnail_path,"
            " title, favorite, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.execute("ANALYZE")


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="web_clips_bench_"))
    base = load_config(Path(__file__).resolve().parent.parent / "config.yaml")  # noqa: ASYNC240
    config = dataclasses.replace(
        base,
        storage=StorageConfig(
            data_dir=str(tmp),
            database=str(tmp / "clips.sqlite3"),
            segments_dir=str(tmp / "seg"),
            clips_dir=str(tmp / "clips"),
        ),
        web=dataclasses.replace(base.web, port=0),
    )
    services = await build_services(config)  # runs the migrations
    fill(Path(config.storage.database), args.clips)

    async def manager(guild_id: int, user_id: int) -> MemberFacts:
        return MemberFacts(guild_id, user_id, True, frozenset(), "bench")

    links = LoginLinks()
    library = Library(ClipLibraryRepo(services.db))
    board = Dashboard(config, services.app, library, links, manager, "b" * 64)
    await board.start()
    bare = sqlite3.connect(config.storage.database)
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            url = board.base_url
            login = f"{url}/login/{links.issue(GUILD, 1)}"
            async with http.post(login, headers={"Origin": url}) as r:
                assert r.status == 200, await r.text()
            deep = await library.page(GUILD, parse_query({"limit": "48"}))
            for _ in range(150):  # walk ~7,000 clips down the list
                deep = await library.page(
                    GUILD, parse_query({"limit": "48", "before": deep.next or ""})
                )
            cases = {
                "first page": {"limit": "48"},
                "page 150 (keyset)": {"limit": "48", "before": deep.next or ""},
                "one streamer": {"limit": "48", "streamer": "streamer7"},
                "status=posted": {"limit": "48", "status": "posted"},
                "sort=score": {"limit": "48", "sort": "score"},
                "title search": {"limit": "48", "q": "ace"},
                "favorites": {"limit": "48", "favorite": "1"},
            }
            print(f"{args.clips:,} clips in this server (+{args.clips:,} in another), "
                  f"median of {args.runs} runs, ms")  # fmt: skip
            print(
                f"{'query':<20} {'bare SQLite':>11} {'GET /api/clips':>15} {'GET /clips page':>16}"
            )
            worst = 0.0
            for name, params in cases.items():
                sql, values = search_sql(GUILD, parse_query(params))
                sqlite_s, api_s, page_s = [], [], []
                for _ in range(args.runs):
                    t = time.perf_counter()
                    rows = bare.execute(sql, values).fetchall()
                    sqlite_s.append(time.perf_counter() - t)
                    t = time.perf_counter()
                    async with http.get(f"{url}/api/clips", params=params) as r:
                        body = await r.json()
                    api_s.append(time.perf_counter() - t)
                    t = time.perf_counter()
                    async with http.get(f"{url}/clips", params=params) as r:
                        await r.read()
                    page_s.append(time.perf_counter() - t)
                assert len(body["clips"]) == min(len(rows), 48), name
                api_ms, page_ms = median_ms(api_s), median_ms(page_s)
                worst = max(worst, api_ms, page_ms)
                print(f"{name:<20} {median_ms(sqlite_s):>11.2f} {api_ms:>15.2f} {page_ms:>16.2f}")
            # What keyset pagination avoids: the same deep page by OFFSET walks every row above it.
            sql, values = search_sql(GUILD, parse_query({"limit": "48"}))
            offset_sql = sql.replace("LIMIT ?", "LIMIT ? OFFSET 7200")
            offset_s = []
            for _ in range(args.runs):
                t = time.perf_counter()
                bare.execute(offset_sql, values).fetchall()
                offset_s.append(time.perf_counter() - t)
            print(f"{'(page 150 by OFFSET)':<20} {median_ms(offset_s):>11.2f}   bare SQLite only")
            verdict = "met" if worst < 50 else "MISSED"
            print(f"worst median: {worst:.1f} ms (target < 50 ms): {verdict}")
    finally:
        bare.close()
        await board.stop()
        await services.close()


if __name__ == "__main__":
    asyncio.run(main())
