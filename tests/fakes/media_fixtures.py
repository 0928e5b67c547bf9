"""Shared pytest fixtures for the media tests (fake HLS stream, a finished recording).

Import them in tests/conftest.py::

    from tests.fakes.media_fixtures import fake_hls, fake_media, recorded_stream  # noqa: F401

The expensive work (encoding the loop, recording ~30 s of it) happens once per session even if a
test module imports these fixtures itself as well: results are memoised here, not only by pytest.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from engine.media.recorder import Recorder
from engine.media.segments import SegmentIndex
from tests.fakes.hls_stream import FakeHLS, FakeMedia, MediaSpec, encode_media

T = TypeVar("T")
_memo: dict[str, Any] = {}
_memo_lock = threading.Lock()

RECORD_SLUG = "recorded_1"
RECORD_SECONDS = 26.0  # + 6 s of live-edge backlog = 3 full 10 s segments and a short one


def _once(key: str, make: Callable[[], T]) -> T:
    with _memo_lock:
        if key not in _memo:
            _memo[key] = make()
        return _memo[key]  # type: ignore[no-any-return]


def media_cache_dir(config: pytest.Config | None) -> Path:
    """Where the pre-encoded loop lives: pytest's cache (survives sessions), else a temp dir."""
    if config is not None and getattr(config, "cache", None) is not None:
        return Path(config.cache.mkdir("fake_hls_media"))
    return Path(os.environ.get("TMPDIR", "/tmp")) / "kick_clip_fake_hls"


@pytest.fixture(scope="session")
def fake_media(request: pytest.FixtureRequest) -> FakeMedia:
    """The 24 s 720p+360p loop (encoded once, ~3 s on 2 cores; cached across sessions)."""
    return _once("media", lambda: encode_media(MediaSpec(), media_cache_dir(request.config)))


@pytest.fixture
def fake_hls(fake_media: FakeMedia) -> Iterator[FakeHLS]:
    """A started FakeHLS on 127.0.0.1 (no slug live yet: call ``go_live``)."""
    fake = FakeHLS(fake_media).start()
    try:
        yield fake
    finally:
        fake.stop()


@dataclass
class Recording:
    """A finished recording of the fake stream by the real Recorder (files no longer change)."""

    fake: FakeHLS  # stopped; still answers aired_at()
    slug: str
    index: SegmentIndex
    out_dir: Path
    renditions: tuple[str, ...]
    segment_s: float
    started: float
    stopped: float
    pids: list[int]


def record_fake(
    media: FakeMedia,
    out_dir: Path,
    *,
    slug: str = RECORD_SLUG,
    seconds: float = RECORD_SECONDS,
    renditions: tuple[str, ...] = ("best", "480p"),
    segment_s: float = 10.0,
) -> Recording:
    """Record ``seconds`` of a fresh fake stream. Runs its own event loop in a worker thread so
    it can be called from sync fixtures while pytest-asyncio owns the main thread's loop."""
    fake = FakeHLS(media).start()
    fake.go_live(slug)
    result: dict[str, Any] = {}

    async def run() -> None:
        rec = Recorder(slug, fake.url_template(), out_dir, renditions, segment_s)
        result["started"] = time.time()
        await rec.start()
        await asyncio.sleep(seconds)
        result["pids"] = rec.child_pids()
        await rec.stop()
        result["stopped"] = time.time()
        result["index"] = rec.index

    def target() -> None:
        try:
            asyncio.run(run())
        except BaseException as exc:  # surfaced in the caller
            result["error"] = exc

    worker = threading.Thread(target=target, name="record-fake")
    worker.start()
    worker.join(seconds + 120)
    fake.stop()
    if "error" in result:
        raise result["error"]
    if "index" not in result:
        raise RuntimeError("recording did not finish")
    return Recording(
        fake, slug, result["index"], Path(out_dir), renditions, segment_s,
        result["started"], result["stopped"], result["pids"],
    )  # fmt: skip


@pytest.fixture(scope="session")
def recorded_stream(fake_media: FakeMedia, tmp_path_factory: pytest.TempPathFactory) -> Recording:
    """~32 s of the fake stream in 10 s segments, 720p ("best") and 360p ("480p" falls back)."""
    return _once(
        "recording",
        lambda: record_fake(fake_media, tmp_path_factory.mktemp("recorded")),
    )


def child_processes(parent: int | None = None) -> list[tuple[int, str, str]]:
    """(pid, state, command) of the processes whose parent is ``parent`` (default: us),
    zombies included, from /proc."""
    parent = os.getpid() if parent is None else parent
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        rest = stat[stat.rindex(")") + 2 :].split()
        if int(rest[1]) == parent:
            out.append((int(entry), rest[0], stat[stat.index("(") + 1 : stat.rindex(")")]))
    return out


def pid_alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
