"""The scheduler cog through the real bot: disk-full pause and alert, the midnight summary."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from engine.core.daily import next_midnight
from engine.core.maintenance import DiskGuard

if TYPE_CHECKING:  # registered as a plugin in conftest.py, so its asserts are rewritten
    from tests.bot_harness import BotHarness


MB = 1_048_576


async def test_low_disk_pauses_recording_and_says_so_once(harness: BotHarness) -> None:
    h = harness
    h.expect_error("disk low")  # logged at ERROR on purpose: an operator must act
    await h.setup_review()
    h.kick.add_channel("diskfull", live=True, viewers=10)
    await h.answer(h.cast.reviewer, "watch", {"streamer": "diskfull"})
    cog: Any = h.bot.get_cog("Maintenance")  # type: ignore[union-attr]
    cog.disk = DiskGuard(2048)
    free = {"mb": 100}
    cog.disk_usage = lambda _path: (100_000 * MB, 0, free["mb"] * MB)
    before = len(h.review_messages())
    await cog.check_disk()
    await cog.check_disk()  # still low: no second alert
    feed = h.services.hub.feeds["diskfull"]
    assert feed.recording_paused and not feed.recorder.running
    alerts = h.review_messages()[before:]
    assert len(alerts) == 1 and "Disk almost full" in alerts[0].content
    assert "100 MB free" in alerts[0].content
    free["mb"] = 50_000
    await cog.check_disk()
    assert not feed.recording_paused
    assert "recording resumed" in h.review_messages()[-1].content


async def test_midnight_posts_the_days_summary(harness: BotHarness) -> None:
    h = harness
    await h.setup_review()
    approved = await h.ready_clip("xqc", trigger="super_combo")
    await h.post(approved)
    await h.app.review(h.cast.guild.id, approved, "approve", h.cast.reviewer.id)
    await h.ready_clip("xqc", trigger="keyword")
    cog: Any = h.bot.get_cog("Maintenance")  # type: ignore[union-attr]
    midnight = next_midnight(datetime.now(UTC), "UTC").timestamp()
    cog.clock = lambda: midnight + 5  # the job runs just after midnight
    before = len(h.review_messages())
    await cog.midnight()
    (summary,) = h.review_messages()[before:]
    today = datetime.now(UTC).date().isoformat()
    assert f"Daily clip summary for {today}" in summary.content
    assert "xqc" in summary.content and "2" in summary.content


async def test_feeds_started_while_the_disk_is_low_do_not_record(harness: BotHarness) -> None:
    h = harness
    h.expect_error("disk low")
    await h.setup_review()
    cog: Any = h.bot.get_cog("Maintenance")  # type: ignore[union-attr]
    cog.disk = DiskGuard(2048)
    free = {"mb": 100}
    cog.disk_usage = lambda _path: (100_000 * MB, 0, free["mb"] * MB)
    await cog.check_disk()  # low, and nobody watched yet
    h.kick.add_channel("latecomer", live=True, viewers=10)
    await h.answer(h.cast.reviewer, "watch", {"streamer": "latecomer"})
    feed = h.services.hub.feeds["latecomer"]
    await h.fake.wait_for(lambda: feed.status.live)
    await asyncio.sleep(0.2)  # time for a recorder start, if one were to happen
    assert feed.recording_paused and not feed.recorder.running

    await feed.pause_recording(False)  # however a feed got unpaused, the next check catches it
    before = len(h.review_messages())
    await cog.check_disk()
    assert feed.recording_paused and not feed.recorder.running
    assert len(h.review_messages()) == before  # still the one alert
    free["mb"] = 50_000
    await cog.check_disk()
    assert not feed.recording_paused
    await h.fake.wait_for(lambda: feed.recorder.running)


async def test_a_quiet_day_gets_its_summary_too(harness: BotHarness) -> None:
    h = harness
    await h.setup_review()
    h.kick.add_channel("sleepy", live=False)
    await h.answer(h.cast.reviewer, "watch", {"streamer": "sleepy"})
    cog: Any = h.bot.get_cog("Maintenance")  # type: ignore[union-attr]
    midnight = next_midnight(datetime.now(UTC), "UTC").timestamp()
    cog.clock = lambda: midnight + 5
    before = len(h.review_messages())
    await cog.midnight()
    (summary,) = h.review_messages()[before:]
    assert "Daily clip summary for" in summary.content and "No clips today." in summary.content
