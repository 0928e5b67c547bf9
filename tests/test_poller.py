"""ViewerPoller: live/offline transitions, samples, surviving Kick errors, the run loop.

Most tests drive `poll_once()` against a scripted status source with a fake clock; one runs the
real KickApi against FakeKick to prove the pieces fit.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import pytest

from engine.events import LiveChange, ViewerSample
from engine.kick.api import KickApi, KickUnavailable, LiveStatus
from engine.kick.poller import ViewerPoller
from tests.fakes.kick_api import FakeKick

T0 = datetime(2025, 9, 15, 21, 12, 45, tzinfo=UTC)


class Clock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class ScriptedStatus:
    """Returns the next scripted answer per call: a LiveStatus, None (unknown) or an exception."""

    def __init__(self, *answers: LiveStatus | Exception | None) -> None:
        self.answers = list(answers)
        self.calls: list[list[str]] = []

    async def get_status(self, slugs: list[str]) -> dict[str, LiveStatus]:
        self.calls.append(list(slugs))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return {} if answer is None else {slugs[0]: answer}


def live(viewers: int, lid: int | None = 1, started: datetime = T0) -> LiveStatus:
    return LiveStatus(True, viewers, started, lid, "LIVE")


OFFLINE = LiveStatus(False, 0, None, None, None)


async def test_transitions_and_samples() -> None:
    clock = Clock()
    events: list[object] = []
    src = ScriptedStatus(OFFLINE, live(100), live(120), OFFLINE, OFFLINE, live(5, lid=2))
    poller = ViewerPoller(src, "XQC", events.append, interval_s=10, clock=clock)
    for _ in range(6):
        await poller.poll_once()
        clock.t += 10
    assert events == [
        LiveChange(1010.0, True),
        ViewerSample(1010.0, 100),
        ViewerSample(1020.0, 120),
        LiveChange(1030.0, False),
        LiveChange(1050.0, True),
        ViewerSample(1050.0, 5),
    ]
    assert src.calls[0] == ["xqc"]
    assert poller.live and poller.latest == live(5, lid=2)


async def test_first_poll_live_emits_livechange_then_sample() -> None:
    events: list[object] = []
    poller = ViewerPoller(ScriptedStatus(live(42)), "xqc", events.append, clock=Clock(5.0))
    assert await poller.poll_once() == [LiveChange(5.0, True), ViewerSample(5.0, 42)]
    assert events == [LiveChange(5.0, True), ViewerSample(5.0, 42)]


async def test_new_livestream_between_polls_is_a_new_session() -> None:
    events: list[object] = []
    src = ScriptedStatus(live(10, lid=1), live(20, lid=2), live(30, lid=None, started=T0))
    poller = ViewerPoller(src, "xqc", events.append, clock=Clock(0.0))
    await poller.poll_once()
    await poller.poll_once()
    await poller.poll_once()  # official API gives no livestream id: not a new session
    assert events == [
        LiveChange(0.0, True),
        ViewerSample(0.0, 10),
        LiveChange(0.0, False),
        LiveChange(0.0, True),
        ViewerSample(0.0, 20),
        ViewerSample(0.0, 30),
    ]


async def test_errors_are_survived_without_inventing_transitions(
    caplog: pytest.LogCaptureFixture,
) -> None:
    events: list[object] = []
    src = ScriptedStatus(
        live(10),
        KickUnavailable("Kick is unavailable (status for xqc): HTTP 403", "xqc", 403),
        None,  # the channel vanished from the answer
        OSError("network down"),
        live(11),
    )
    poller = ViewerPoller(src, "xqc", events.append, clock=Clock(0.0))
    with caplog.at_level(logging.WARNING, logger="engine.kick.poller"):
        for _ in range(5):
            await poller.poll_once()
    assert events == [LiveChange(0.0, True), ViewerSample(0.0, 10), ViewerSample(0.0, 11)]
    assert poller.errors == 3 and poller.consecutive_errors == 0
    assert "403" in caplog.records[0].getMessage() and "xqc" in caplog.records[0].getMessage()
    snap = poller.snapshot()
    assert snap["live"] and snap["viewers"] == 11 and snap["errors"] == 3


async def test_callback_error_does_not_stop_polling() -> None:
    def boom(_ev: object) -> None:
        raise RuntimeError("bug downstream")

    poller = ViewerPoller(ScriptedStatus(live(1), live(2)), "xqc", boom, clock=Clock())
    await poller.poll_once()
    await poller.poll_once()
    assert poller.latest == live(2) and poller.errors == 0


async def test_run_loop_sleeps_interval_and_stops() -> None:
    events: list[object] = []
    delays: list[float] = []
    src = ScriptedStatus(*(live(i) for i in range(100)))

    async def fake_sleep(delay: float) -> None:
        delays.append(delay)
        if len(delays) == 3:
            poller.stop()
        await asyncio.sleep(0)

    poller = ViewerPoller(src, "xqc", events.append, interval_s=10, clock=Clock(), sleep=fake_sleep)
    await asyncio.wait_for(poller.run(), 2)
    assert delays == [10, 10, 10] and len(src.calls) == 3
    assert [e for e in events if isinstance(e, ViewerSample)] == [
        ViewerSample(1000.0, i) for i in range(3)
    ]


async def test_run_loop_survives_unexpected_exception() -> None:
    src = ScriptedStatus(RuntimeError("a bug"), live(7))
    events: list[object] = []
    calls = 0

    async def fake_sleep(_delay: float) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            poller.stop()

    poller = ViewerPoller(src, "xqc", events.append, clock=Clock(), sleep=fake_sleep)
    await asyncio.wait_for(poller.run(), 2)
    assert events[-1] == ViewerSample(1000.0, 7) and poller.errors == 1


async def test_with_kick_api_and_fake_kick() -> None:
    async with FakeKick() as kick:
        kick.add_channel("streamer", viewers=0)
        events: list[object] = []

        async def no_sleep(_d: float) -> None:
            return None

        async with KickApi(kick.config(), sleep=no_sleep, max_attempts=2) as api:
            poller = ViewerPoller(api, "streamer", events.append, clock=Clock(0.0))
            await poller.poll_once()
            kick.set_live("streamer", viewers=300)
            await poller.poll_once()
            kick.fail_next(500, count=3)  # viewer refresh once, then the lookup twice
            await poller.poll_once()
            kick.set_live("streamer", False)
            await poller.poll_once()
    assert events == [LiveChange(0.0, True), ViewerSample(0.0, 300), LiveChange(0.0, False)]
    assert poller.errors == 1 and "500" in (poller.last_error or "")


async def test_a_pushed_state_is_checked_by_the_next_poll() -> None:
    """The Feed acted on a Pusher live/offline event; when Kick's status disagrees the next
    poll emits the transition back (the poll is the authority), and agrees silently."""
    clock = Clock()
    src = ScriptedStatus(live(100), live(110), live(120), OFFLINE)
    poller = ViewerPoller(src, "xqc", lambda e: None, clock=clock)
    await poller.poll_once()
    poller.assume(False)  # StopStreamBroadcast, yet Kick still says live
    assert await poller.poll_once() == [LiveChange(1000.0, True), ViewerSample(1000.0, 110)]
    await poller.poll_once()
    poller.assume(False)  # a true offline push: the poll agrees, nothing to emit
    assert await poller.poll_once() == []
