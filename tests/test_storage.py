"""storage/ on real SQLite files: migrations, restarts, the clip lifecycle and its outbox."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from engine.events import Moment
from storage.clips import ClipRepo
from storage.db import Database, migrations
from storage.settings import SettingsRepo
from storage.watches import ChannelCacheRepo, WatchRepo


@pytest.fixture
async def db(tmp_path: Path):  # type: ignore[no-untyped-def]
    database = await Database.open(tmp_path / "data" / "bot.sqlite3")
    yield database
    await database.close()


def moment(key: str = "xqc-1", revision: int = 0, end: float = 125.0, trig: str = "keyword"):
    return Moment(
        t=100.0,
        streamer="xqc",
        trigger=trig,
        triggers=(trig,),
        confidence=0.6 + revision / 10,
        clip_start=80.0,
        clip_end=end,
        details={"samples": [{"user": "a", "text": "CLIP IT"}]},
        key=key,
        revision=revision,
    )


async def test_migrations_wal_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    db = await Database.open(path)
    assert await db.version() == migrations()[-1][0]  # the highest number applied
    row = await db.fetchone("PRAGMA journal_mode")
    assert row is not None and row[0] == "wal"
    await WatchRepo(db).add(1, "xqc", 42)
    await db.close()
    db = await Database.open(path)  # a restart: nothing re-applied, nothing lost
    assert [w.streamer for w in await WatchRepo(db).all()] == ["xqc"]
    await db.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == migrations()[-1][0]


async def test_watches_thresholds_and_state(db: Database) -> None:
    watches = WatchRepo(db)
    assert await watches.add(1, "xqc", 42)
    assert not await watches.add(1, "xqc", 43), "second /watch is a no-op"
    await watches.add(2, "xqc", 7)
    await watches.set_threshold(1, "xqc", "keyword", 5, 42)
    await watches.set_threshold(1, "xqc", "keyword", 6, 42)
    await watches.save_state(1, "xqc", {"limiter": {"clips": 3}})
    (w,) = await watches.all(1)
    assert w.overrides == {"keyword": 6.0} and w.state == {"limiter": {"clips": 3}}
    assert await watches.remove(1, "xqc")
    assert await watches.thresholds(1, "xqc") == {}, "overrides go with the watch"
    assert [w.guild_id for w in await watches.all()] == [2]


async def test_thresholds_need_a_watch(db: Database) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        await WatchRepo(db).set_threshold(1, "nobody", "keyword", 5, None)


async def test_settings_and_subscribers(db: Database) -> None:
    s = SettingsRepo(db)
    assert (await s.get(1)).review_channel_id is None
    await s.set_review(1, 100, 200)
    await s.set_upload_limit(1, 25 * 1024 * 1024)
    got = await s.get(1)
    assert (got.review_channel_id, got.reviewer_role_id, got.upload_limit) == (
        100,
        200,
        25 * 1024 * 1024,
    )
    assert await s.subscribe(1, 5, True)
    assert not await s.subscribe(1, 5, True)
    assert await s.subscribers(1) == [5]
    assert await s.subscribe(1, 5, False)
    assert await s.subscribers(1) == []


async def test_channel_cache_keeps_a_manual_chatroom(db: Database) -> None:
    cache = ChannelCacheRepo(db)
    await cache.put("xqc", None, None, 999, manual=True)
    await cache.put("xqc", 668, 676, 668)
    row = await cache.get("xqc")
    assert row is not None
    assert (row.channel_id, row.user_id, row.chatroom_id, row.chatroom_manual) == (
        668,
        676,
        999,
        True,
    )


async def test_moment_upgrades_until_cut(db: Database) -> None:
    clips = ClipRepo(db)
    cid, new = await clips.record_moment(1, moment())
    assert new
    assert await clips.record_moment(1, moment()) == (cid, False), "idempotent"
    await clips.record_moment(1, moment(revision=1, end=140.0, trig="hype_moment"))
    row = await clips.get(cid)
    assert row is not None
    assert (row.trigger, row.clip_end, row.status) == ("hype_moment", 140.0, "detected")
    assert row.details["samples"][0]["text"] == "CLIP IT"
    assert await clips.open_windows() == [("xqc", 80.0, 140.0)]
    await clips.update(cid, status="ready", original_path="/x.mp4")
    await clips.record_moment(1, moment(revision=2, end=160.0, trig="super_combo"))
    row = await clips.get(cid)
    assert row is not None and row.clip_end == 140.0, "a cut clip no longer changes"
    n = await db.fetchone("SELECT count(*) FROM moments")
    assert n is not None and n[0] == 3


async def test_post_exactly_once_and_review_race(db: Database) -> None:
    clips = ClipRepo(db)
    cid, _ = await clips.record_moment(1, moment())
    await clips.update(cid, status="ready")
    assert [c.id for c in await clips.with_status("ready")] == [cid]
    assert await clips.record_post(cid, 1, 100, 5000)
    assert not await clips.record_post(cid, 1, 100, 5001), "a clip owns one message"
    row = await clips.by_message(5000)
    assert row is not None and row.status == "posted" and row.message_id == 5000
    assert await clips.by_message(5001) is None
    results = await asyncio.gather(
        clips.transition(cid, ("posted",), status="approved", reviewed_by=1),
        clips.transition(cid, ("posted",), status="rejected", reviewed_by=2),
    )
    assert sorted(results) == [False, True], "two reviewers at once: exactly one wins"
    assert await clips.status_counts(1) in ({"approved": 1}, {"rejected": 1})


async def test_transition_refuses_unknown_fields(db: Database) -> None:
    clips = ClipRepo(db)
    cid, _ = await clips.record_moment(1, moment())
    with pytest.raises(ValueError, match="not editable"):
        await clips.update(cid, guild_id=5)
    with pytest.raises(ValueError, match="unknown status"):
        await clips.update(cid, status="published")


async def test_daily_counts(db: Database) -> None:
    clips = ClipRepo(db)
    await clips.count_day(1, "xqc", "2026-03-10", new_clip=True)
    await clips.count_day(1, "xqc", "2026-03-10", new_clip=False)  # an upgrade
    await clips.count_day(1, "xqc", "2026-03-11", new_clip=True)
    assert await clips.day_counts(1, "xqc", "2026-03-10") == (1, 2)
    assert await clips.day_counts(1, "xqc", "2026-03-11") == (1, 1)
    assert await clips.day_counts(2, "xqc", "2026-03-10") == (0, 0)


async def test_sessions_open_close_reopen_and_link_clips(db: Database) -> None:
    from storage.sessions import SessionRepo

    sessions, clips = SessionRepo(db), ClipRepo(db)
    first = await sessions.open("xqc", 1_000.0, 77, "Ranked")
    assert await sessions.close(first, 2_000.0)
    assert not await sessions.close(first, 2_500.0), "an ended session keeps its end"
    # The same livestream live again (a restart mid-stream): the same session, reopened.
    assert await sessions.open("xqc", 2_100.0, 77, None) == first
    (row,) = await sessions.of_streamer("xqc")
    assert row.ended_at is None and row.title == "Ranked" and row.livestream_id == 77
    # A new livestream is a new session; unknown ids are filled in later, never overwritten.
    second = await sessions.open("xqc", 5_000.0, None, None)
    assert second != first
    await sessions.describe(second, 78, "Just chatting")
    await sessions.describe(second, 99, "other")
    latest = await sessions.latest("xqc")
    assert latest is not None and (latest.livestream_id, latest.title) == (78, "Just chatting")
    clip_id, _ = await clips.record_moment(1, moment())
    await sessions.link_clip(clip_id, second)
    await sessions.link_clip(clip_id, first)  # a clip belongs to the first session it got
    assert await sessions.clip_session(clip_id) == second
    assert await sessions.close_all_open(9_000.0) == 2  # both were open (first was reopened)
    assert all(s.ended_at for s in await sessions.of_streamer("xqc"))


def test_migration_numbers_never_skip_nor_repeat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database at version N ran exactly 001..N: a gap would later be skipped for good."""
    import storage.db as db_module

    for name in ("001_a.sql", "002_b.sql", "003_c.sql"):
        (tmp_path / name).write_text("SELECT 1;", encoding="utf-8")
    monkeypatch.setattr(db_module, "MIGRATIONS", tmp_path)
    assert [n for n, _ in db_module.migrations()] == [1, 2, 3]
    (tmp_path / "005_e.sql").write_text("SELECT 1;", encoding="utf-8")
    with pytest.raises(RuntimeError, match="without gaps"):
        db_module.migrations()
    (tmp_path / "005_e.sql").unlink()
    (tmp_path / "002_again.sql").write_text("SELECT 1;", encoding="utf-8")
    with pytest.raises(RuntimeError, match="without gaps"):
        db_module.migrations()
