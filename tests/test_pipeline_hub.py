"""The clip pipeline (real SQLite store, fake cutter and clock) and the watch hub's sharing."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import av
import pytest
from chatscript import T0

from engine.config import Config
from engine.core.pipeline import ClipPipeline
from engine.core.watch_hub import WatchHub
from engine.detection.detector import Detector
from engine.events import ChatMessage, Event, Moment
from engine.media.clipper import ClipError, ClipFiles
from storage.clips import ClipRepo
from storage.db import Database


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    async def sleep(self, s: float) -> None:
        self.t += s
        await asyncio.sleep(0)


class FakeCutter:
    """Writes small real files; records the windows it was asked for."""

    def __init__(self, tmp: Path, fail: str | None = None) -> None:
        self.tmp = tmp
        self.fail = fail
        self.windows: list[tuple[float, float, float, int]] = []

    async def cut(self, window: Any, limit_bytes: int = 0, *, name: str | None = None) -> ClipFiles:
        self.windows.append((window.clip_start, window.clip_end, window.t, limit_bytes))
        if self.fail:
            raise ClipError(self.fail, stderr="ffmpeg: boom")
        orig = self.tmp / f"{name}.mp4"
        orig.write_bytes(b"mp4")
        return ClipFiles(orig, orig, None, window.clip_end - window.clip_start, False)


def moment(key: str, rev: int, end: float, trig: str = "keyword") -> Moment:
    return Moment(T0, "xqc", trig, (trig,), 0.6, T0 - 20, end, {}, key, rev)


@pytest.fixture
async def repo(tmp_path: Path):  # type: ignore[no-untyped-def]
    db = await Database.open(tmp_path / "db.sqlite3")
    yield ClipRepo(db)
    await db.close()


async def limit(_guild: int) -> int:
    return 8_000_000


async def test_moment_to_ready_with_an_upgrade(repo: ClipRepo, tmp_path: Path) -> None:
    clock = Clock(T0)
    cutter = FakeCutter(tmp_path)
    ready: list[int] = []

    async def on_ready(cid: int) -> None:
        ready.append(cid)

    p = ClipPipeline(repo, lambda s: cutter, limit, on_ready, clock=clock, sleep=clock.sleep)
    cid = await p.on_moment(1, moment("k1", 0, T0 + 25))
    await p.on_moment(1, moment("k1", 1, T0 + 40, "hype_moment"))  # upgrade while open
    await p.drain()
    assert cutter.windows == [(T0 - 20, T0 + 40, T0, 8_000_000)]
    assert clock.t >= T0 + 40, "cut only once the extended window closed"
    row = await repo.get(cid)
    assert row is not None
    assert (row.status, row.trigger, row.note) == ("ready", "hype_moment", None)
    assert row.original_path and Path(row.original_path).is_file()
    assert ready == [cid]


async def test_failed_cut_is_recorded(repo: ClipRepo, tmp_path: Path) -> None:
    clock = Clock(T0 + 100)
    cutter = FakeCutter(tmp_path, fail="no recorded segments cover the window")

    async def on_ready(cid: int) -> None:
        raise AssertionError("a failed clip is never posted")

    p = ClipPipeline(repo, lambda s: cutter, limit, on_ready, clock=clock, sleep=clock.sleep)
    cid = await p.on_moment(1, moment("k2", 0, T0 + 25))
    await p.drain()
    row = await repo.get(cid)
    assert row is not None and row.status == "failed"
    assert row.error and "no recorded segments" in row.error and "boom" in row.error


async def test_restart_resumes_cutting_and_posting(repo: ClipRepo, tmp_path: Path) -> None:
    clock = Clock(T0)
    cutter = FakeCutter(tmp_path)

    async def never(cid: int) -> None:
        raise AssertionError

    p = ClipPipeline(repo, lambda s: cutter, limit, never, clock=clock, sleep=clock.sleep)
    waiting = await p.on_moment(1, moment("k3", 0, T0 + 25))
    await asyncio.sleep(0)
    await p.close()  # the bot stops while the window is still open
    assert (await repo.get(waiting)).status == "detected"  # type: ignore[union-attr]
    done, _ = await repo.record_moment(1, moment("k4", 0, T0 + 5))
    await repo.transition(done, None, status="ready", original_path="/x.mp4")

    ready: list[int] = []

    async def on_ready(cid: int) -> None:
        ready.append(cid)

    clock.t = T0 + 60
    p2 = ClipPipeline(repo, lambda s: cutter, limit, on_ready, clock=clock, sleep=clock.sleep)
    await p2.resume()
    await p2.drain()
    assert sorted(ready) == sorted([waiting, done])
    assert len(cutter.windows) == 1


async def test_no_recording_means_a_clear_failure(repo: ClipRepo) -> None:
    clock = Clock(T0 + 100)

    async def on_ready(cid: int) -> None:
        raise AssertionError

    p = ClipPipeline(repo, lambda s: None, limit, on_ready, clock=clock, sleep=clock.sleep)
    cid = await p.on_moment(1, moment("k5", 0, T0 + 25))
    await p.drain()
    row = await repo.get(cid)
    assert row is not None and row.status == "failed" and "not being recorded" in (row.error or "")


class ScriptedCutter:
    """Raises the scripted exceptions in turn, then cuts like FakeCutter."""

    def __init__(self, tmp: Path, *failures: BaseException) -> None:
        self.inner = FakeCutter(tmp)
        self.failures = list(failures)
        self.calls = 0

    async def cut(self, window: Any, limit_bytes: int = 0, *, name: str | None = None) -> ClipFiles:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return await self.inner.cut(window, limit_bytes, name=name)


async def test_an_unexpected_error_fails_the_clip_with_its_id_logged(
    repo: ClipRepo, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Not a ClipError (PyAV's errors are not OSErrors; a bug): still no row left 'cutting'."""
    clock = Clock(T0 + 100)
    cutter = ScriptedCutter(tmp_path, av.error.InvalidDataError(1094995529, "Invalid data"))

    async def on_ready(cid: int) -> None:
        raise AssertionError("a failed clip is never posted")

    p = ClipPipeline(repo, lambda s: cutter, limit, on_ready, clock=clock, sleep=clock.sleep)
    cid = await p.on_moment(1, moment("k6", 0, T0 + 25))
    await p.drain()
    row = await repo.get(cid)
    assert row is not None and row.status == "failed"
    assert row.error and "InvalidDataError" in row.error
    assert any(f"clip {cid}" in r.getMessage() and r.exc_info for r in caplog.records)


async def test_disk_full_clip_is_cut_again_once_there_is_room(
    repo: ClipRepo, tmp_path: Path
) -> None:
    clock = Clock(T0 + 100)
    full = ClipError("cut of x.mp4: ffmpeg exited with 1 (disk full)", disk_full=True)
    cutter = ScriptedCutter(tmp_path, full, full)
    statuses: list[str] = []
    ready: list[int] = []

    async def on_ready(cid: int) -> None:
        ready.append(cid)

    async def sleep(s: float) -> None:
        row = await repo.get(cid)
        statuses.append(row.status)  # type: ignore[union-attr]
        await clock.sleep(s)

    p = ClipPipeline(repo, lambda s: cutter, limit, on_ready, clock=clock, sleep=sleep,
                     disk_full_retry_s=60)  # fmt: skip
    cid = await p.on_moment(1, moment("k7", 0, T0 + 25))
    await p.drain()
    row = await repo.get(cid)
    assert row is not None and row.status == "ready" and row.error is None
    assert ready == [cid] and cutter.calls == 3
    assert statuses == ["detected", "detected"], "waiting for room, it is not 'cutting'"
    assert clock.t == T0 + 100 + 60 + 120  # 60 s, then twice that


async def test_disk_full_gives_up_after_the_bounded_retries(repo: ClipRepo, tmp_path: Path) -> None:
    clock = Clock(T0 + 100)
    full = ClipError("cut: No space left on device", disk_full=True)
    cutter = ScriptedCutter(tmp_path, *[full] * 10)

    async def on_ready(cid: int) -> None:
        raise AssertionError

    p = ClipPipeline(repo, lambda s: cutter, limit, on_ready, clock=clock, sleep=clock.sleep,
                     disk_full_retry_s=1, disk_full_attempts=3)  # fmt: skip
    cid = await p.on_moment(1, moment("k8", 0, T0 + 25))
    await p.drain()
    row = await repo.get(cid)
    assert row is not None and row.status == "failed" and "No space" in (row.error or "")
    assert cutter.calls == 4


class FakeFeed:
    def __init__(self, slug: str) -> None:
        self.slug = slug
        self.subs: list[Any] = []
        self.started = 0
        self.stopped = 0

    def subscribe(self, fn: Any) -> None:
        self.subs.append(fn)

    def unsubscribe(self, fn: Any) -> None:
        self.subs.remove(fn)

    @property
    def subscribers(self) -> int:
        return len(self.subs)

    async def start(self) -> None:
        self.started += 1

    async def stop(self) -> None:
        self.stopped += 1

    def emit(self, e: Event) -> None:
        for fn in list(self.subs):
            fn(e)


async def test_hub_shares_one_feed_and_keeps_detectors_apart(config: Config) -> None:
    feeds: dict[str, FakeFeed] = {}
    got: list[tuple[int, str]] = []

    def make_feed(slug: str) -> FakeFeed:
        feeds[slug] = FakeFeed(slug)
        return feeds[slug]

    async def on_moment(guild: int, m: Moment) -> None:
        got.append((guild, m.trigger))

    hub = WatchHub(
        make_feed, lambda s, o, st: Detector(s, config, overrides=o, state=st), on_moment
    )
    await hub.add(1, "xqc")
    await hub.add(2, "xqc", overrides={"keyword": 4})
    assert await hub.add(1, "xqc") is hub.get(1, "xqc"), "idempotent"
    assert list(feeds) == ["xqc"] and feeds["xqc"].subscribers == 2
    for i in range(5):
        feeds["xqc"].emit(ChatMessage(T0 + i, f"u{i}", "CLIP IT"))
    await asyncio.gather(*(w.drain() for w in hub.watches.values()))
    assert got == [(2, "keyword")], "guild 2's lower bar fired; guild 1's did not"
    assert await hub.remove(2, "xqc")
    assert feeds["xqc"].stopped == 0, "guild 1 still watches"
    assert await hub.remove(1, "xqc")
    assert feeds["xqc"].stopped == 1 and not hub.feeds
    assert not await hub.remove(1, "xqc")
    await hub.close()
