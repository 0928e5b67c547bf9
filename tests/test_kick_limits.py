"""Kick's answers are not trusted blindly: a Retry-After is capped, and every field of every
answer is checked at the boundary (types, ranges, the slug's alphabet) before the engine, a
file path or the database sees it. KickApi against FakeKick serving hostile answers."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from engine.kick.answers import MAX_KICK_ID
from engine.kick.api import KickApi, KickUnavailable
from engine.kick.models import ChannelIds, KickBadAnswer, MemoryChannelCache
from engine.kick.poller import ViewerPoller
from tests.fakes.kick_api import (
    FAKE_CLIENT_ID,
    FAKE_CLIENT_SECRET,
    ROUTE_CHANNEL,
    FakeKick,
)
from tests.test_kick_api import FakeMonotonic, SleepRecorder


@pytest.fixture
async def kick() -> Any:
    async with FakeKick() as fake:
        fake.add_channel("xqc", channel_id=668, user_id=676, chatroom_id=668, live=False)
        yield fake


# ---- item 5: Retry-After without bound -------------------------------------------------------


async def test_a_huge_retry_after_is_capped_and_polling_resumes_after_the_cap(
    kick: FakeKick, caplog: pytest.LogCaptureFixture
) -> None:
    """One 429 with Retry-After: 99999 used to silence the host for ~28 h. Now the quiet lasts
    kick.retry_after_max_s (300 s), the error says the real wait, and the poller, which keeps
    its schedule, sees the stream go live at the first poll after the cap."""
    clock, sleeps = FakeMonotonic(), SleepRecorder()
    api = KickApi(kick.config(), sleep=sleeps, rand=lambda: 0.5, monotonic=clock)
    kick.fail_next(429, retry_after=99999, route=ROUTE_CHANNEL)
    events: list[Any] = []
    poller = ViewerPoller(api, "xqc", events.append, interval_s=10, clock=lambda: clock.now)
    async with api:
        with (
            caplog.at_level(logging.INFO, logger="engine.kick.api"),
            pytest.raises(KickUnavailable) as err,
        ):
            await api.get_channel("xqc")
        assert err.value.retry_in_s == pytest.approx(300.0)
        assert "300 s" in str(err.value) and "99999" not in str(err.value)
        assert any(
            "99999" in r.getMessage() and "kick.retry_after_max_s" in r.getMessage()
            for r in caplog.records
        ), [r.getMessage() for r in caplog.records]
        kick.set_live("xqc", viewers=500)
        asked = len(kick.requests)
        for _ in range(23):  # every 10 s for 230 s: the host asked for quiet, nothing is sent
            clock.now += 10
            assert await poller.poll_once() == []
        assert len(kick.requests) == asked
        assert "70 s to go" in (poller.last_error or ""), poller.last_error
        clock.now += 10  # 60 s left fit the 60 s budget: this poll waits them out, then asks
        got = await poller.poll_once()
        assert got and got[0].live, got
        assert sleeps.delays == [60.0]  # i.e. Kick was asked again 300 s after the 429


async def test_retry_after_cap_comes_from_config(kick: FakeKick) -> None:
    clock, sleeps = FakeMonotonic(), SleepRecorder()
    api = KickApi(
        kick.config(retry_after_max_s=30), sleep=sleeps, rand=lambda: 0.5, monotonic=clock
    )
    kick.fail_next(429, retry_after=99999)
    async with api:
        info = await api.get_channel("xqc")  # 30 s fits the 60 s budget: waited, then asked
    assert info.chatroom_id == 668 and sleeps.delays == [30.0]


# ---- item 6: every field of every answer is checked at the boundary ---------------------------

HOSTILE_SITE = {
    "path slug": ({"slug": "../../tmp/pwn"}, "not a Kick channel name"),
    "other channel": ({"slug": "someone_else"}, "another channel"),
    "negative chatroom": ({"chatroom": {"id": -5}}, "chatroom id -5"),
    "huge channel id": ({"id": 10**30}, "channel id 1000000000000000000000000000000"),
    "float chatroom": ({"chatroom": {"id": 668.7}}, "chatroom id 668.7"),
    "bool user id": ({"user_id": True}, "user id True"),
    "string chatroom": ({"chatroom": {"id": "668; DROP"}}, "chatroom id '668; DROP'"),
    "huge livestream id": ({"livestream": {"id": 2**63}}, "livestream id"),
    "negative viewers": ({"livestream": {"viewer_count": -1}}, "viewer count -1"),
    "viewers as text": ({"livestream": {"viewer_count": "many"}}, "viewer count 'many'"),
    "is_live as text": ({"livestream": {"is_live": "yes"}}, "is_live 'yes'"),
    "livestream a list": ({"livestream": [1, 2]}, "livestream that is no object"),
    "not an object": (None, "did not answer an object"),
}


@pytest.mark.parametrize("case", list(HOSTILE_SITE))
async def test_hostile_site_answers_are_refused_with_the_reason(kick: FakeKick, case: str) -> None:
    patch, reason = HOSTILE_SITE[case]
    kick.set_live("xqc", viewers=10)
    if patch is None:
        kick.fail_next(200, body=[1, 2, 3], route=ROUTE_CHANNEL)
    else:
        kick.tamper("xqc", site=patch)
    async with KickApi(kick.config(), sleep=SleepRecorder(), rand=lambda: 0.5) as api:
        with pytest.raises(KickBadAnswer) as err:
            await api.get_channel("xqc")
        assert reason in str(err.value), str(err.value)
        assert isinstance(err.value, KickUnavailable)  # every caller already handles it
        assert await api._cache.get("xqc") is None  # nothing of it was kept


async def test_valid_extremes_pass(kick: FakeKick) -> None:
    kick.set_live("xqc", viewers=0, livestream_id=MAX_KICK_ID)
    kick.tamper("xqc", site={"slug": "XQC", "chatroom": {"id": "668"}, "user_id": None})
    async with KickApi(kick.config(), sleep=SleepRecorder(), rand=lambda: 0.5) as api:
        info = await api.get_channel("xqc")
    assert (info.slug, info.chatroom_id, info.user_id) == ("xqc", 668, None)
    assert info.livestream_id == MAX_KICK_ID and info.viewers == 0


async def test_a_bad_entry_of_a_batch_is_skipped_not_trusted(kick: FakeKick) -> None:
    """Official API: one hostile entry is left out (with a warning), the others stand;
    /current-viewers: entries with ids or counts out of range are ignored."""
    kick.add_channel("adin", live=True, viewers=7)
    kick.tamper("xqc", official={"stream": {"is_live": True, "viewer_count": 10**30}})
    api = KickApi(
        kick.config(),
        client_id=FAKE_CLIENT_ID,
        client_secret=FAKE_CLIENT_SECRET,
        sleep=SleepRecorder(),
        rand=lambda: 0.5,
    )
    async with api:
        found = await api.get_status(["xqc", "adin"])
    assert set(found) == {"adin"} and found["adin"].viewers == 7
    kick.tamper(
        "adin",
        viewers=[{"livestream_id": -1, "viewers": 5}, {"livestream_id": 1, "viewers": 10**30},
                 {"livestream_id": 2, "viewers": 9}],
    )  # fmt: skip
    async with KickApi(kick.config(), sleep=SleepRecorder(), rand=lambda: 0.5) as api:
        assert await api._current_viewers([1, 2]) == {2: 9}


async def test_oauth_token_lifetime_is_bounded(kick: FakeKick) -> None:
    """expires_in is Kick's too: 10^30 must not keep a token forever, -5 must not fetch one
    per request."""
    clock = FakeMonotonic()
    for ttl, refetch_after in ((10**30, 86_400), (-5, 60)):
        kick.token_ttl = ttl
        api = KickApi(
            kick.config(),
            client_id=FAKE_CLIENT_ID,
            client_secret=FAKE_CLIENT_SECRET,
            sleep=SleepRecorder(),
            rand=lambda: 0.5,
            monotonic=clock,
        )
        async with api:
            issued = len(kick.tokens_issued)
            await api.get_status(["xqc"])
            await api.get_status(["xqc"])
            assert len(kick.tokens_issued) == issued + 1, ttl
            clock.now += refetch_after + 1
            await api.get_status(["xqc"])
            assert len(kick.tokens_issued) == issued + 2, ttl


async def test_a_stored_chatroom_id_out_of_range_is_looked_up_again(kick: FakeKick) -> None:
    cache = MemoryChannelCache({"xqc": ChannelIds("xqc", 668, 676, -5)})
    async with KickApi(kick.config(), cache=cache, sleep=SleepRecorder(), rand=lambda: 0.5) as api:
        ids = await api.get_ids("xqc")
    assert ids.chatroom_id == 668
    with pytest.raises(ValueError, match=r"kick\.chatrooms: xqc"):
        KickApi(kick.config(), known_chatrooms={"xqc": -5})
