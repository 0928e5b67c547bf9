"""KickApi against FakeKick: lookups, errors, retries, the official API path, secret hygiene.

Also the pure backoff helpers the client relies on. Sleeping goes through a recorder, so the
retry tests assert the delays Kick asked for without waiting for them.
"""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from types import SimpleNamespace

import httpx
import pytest

from engine.backoff import Backoff, parse_retry_after
from engine.kick.api import (
    ChannelIds,
    ChannelNotFound,
    InvalidSlug,
    KickApi,
    KickAuthError,
    KickUnavailable,
    MemoryChannelCache,
    normalize_slug,
    parse_kick_time,
)
from tests.fakes.kick_api import (
    FAKE_CLIENT_ID,
    FAKE_CLIENT_SECRET,
    ROUTE_CHANNEL,
    ROUTE_OAUTH,
    ROUTE_OFFICIAL,
    ROUTE_VIEWERS,
    SECURITY_BLOCK_BODY,
    FakeKick,
)


class SleepRecorder:
    """Stands in for asyncio.sleep: records the delay and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def kick() -> FakeKick:
    async with FakeKick() as fake:
        fake.add_channel(
            "xqc",
            channel_id=668,
            user_id=676,
            chatroom_id=668,
            live=True,
            viewers=52341,
            livestream_id=74454116,
        )
        fake.add_channel("sleepy", channel_id=42, user_id=43, chatroom_id=44)
        yield fake


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


def make_api(kick: FakeKick, sleeps: SleepRecorder, **kwargs: object) -> KickApi:
    return KickApi(kick.config(), sleep=sleeps, rand=lambda: 0.5, **kwargs)  # type: ignore[arg-type]


def make_official(kick: FakeKick, sleeps: SleepRecorder, **kwargs: object) -> KickApi:
    return make_api(
        kick, sleeps, client_id=FAKE_CLIENT_ID, client_secret=FAKE_CLIENT_SECRET, **kwargs
    )


# ---- site endpoint --------------------------------------------------------------------------


async def test_live_channel_lookup(kick: FakeKick, sleeps: SleepRecorder) -> None:
    async with make_api(kick, sleeps) as api:
        info = await api.get_channel("XQC")
    assert (info.slug, info.channel_id, info.user_id, info.chatroom_id) == ("xqc", 668, 676, 668)
    assert info.live and info.viewers == 52341 and info.livestream_id == 74454116
    assert info.title == "LIVE"
    assert info.started_at == datetime(2025, 9, 15, 21, 12, 45, tzinfo=UTC)
    assert info.started_at.utcoffset() == timedelta(0)
    (req,) = kick.requests
    assert req.path == "/api/v2/channels/xqc"
    assert req.headers["Accept"] == "application/json"
    assert req.headers["User-Agent"] == kick.config().user_agent
    assert "Accept-Language" in req.headers and req.headers["Referer"].endswith("/xqc")
    assert not kick.unknown_requests and sleeps.delays == []


async def test_offline_channel_lookup(kick: FakeKick, sleeps: SleepRecorder) -> None:
    async with make_api(kick, sleeps) as api:
        info = await api.get_channel("sleepy")
    assert not info.live
    assert (info.livestream_id, info.viewers, info.started_at) == (None, 0, None)
    assert info.chatroom_id == 44


async def test_unknown_slug_is_channel_not_found(kick: FakeKick, sleeps: SleepRecorder) -> None:
    async with make_api(kick, sleeps) as api:
        with pytest.raises(ChannelNotFound) as err:
            await api.get_channel("nobody")
    assert str(err.value) == "no such Kick channel: nobody"
    assert not isinstance(err.value, KickUnavailable)
    assert len(kick.requests) == 1 and sleeps.delays == []


async def test_underscore_slug_retried_with_dash(kick: FakeKick, sleeps: SleepRecorder) -> None:
    kick.add_channel("some-guy", chatroom_id=77)
    async with make_api(kick, sleeps) as api:
        info = await api.get_channel("Some_Guy")
    assert info.slug == "some-guy" and info.chatroom_id == 77
    assert [r.path for r in kick.requests] == [
        "/api/v2/channels/some_guy",
        "/api/v2/channels/some-guy",
    ]


@pytest.mark.parametrize("bad", ["", " ", "a" * 26, "bad slug", "../etc", "x/y", "émile", "a?b"])
async def test_invalid_slug_rejected_before_any_request(
    kick: FakeKick, sleeps: SleepRecorder, bad: str
) -> None:
    async with make_api(kick, sleeps) as api:
        with pytest.raises(InvalidSlug, match="not a valid Kick channel name"):
            await api.get_channel(bad)
        with pytest.raises(InvalidSlug):
            await api.get_status([bad])
    assert kick.requests == []


def test_normalize_slug() -> None:
    assert normalize_slug(" XQC ") == "xqc"
    assert normalize_slug("a_b-c9") == "a_b-c9"


async def test_403_then_success(
    kick: FakeKick, sleeps: SleepRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    kick.fail_next(403)
    with caplog.at_level(logging.WARNING, logger="engine.kick.api"):
        async with make_api(kick, sleeps) as api:
            info = await api.get_channel("xqc")
    assert info.chatroom_id == 668
    assert len(kick.requests) == 2 and len(sleeps.delays) == 1
    (line,) = [r.getMessage() for r in caplog.records]
    assert "xqc" in line and "403" in line and "Cloudflare" in line


async def test_403_json_block_exhausted_is_unavailable(
    kick: FakeKick, sleeps: SleepRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    kick.fail_next(403, count=10, body=SECURITY_BLOCK_BODY)
    async with make_api(kick, sleeps) as api:
        with pytest.raises(KickUnavailable) as err:
            await api.get_channel("xqc")
    assert not isinstance(err.value, ChannelNotFound)
    assert err.value.status == 403 and "security policy" in str(err.value)
    assert len(kick.requests) == 4


async def test_429_honours_retry_after(kick: FakeKick, sleeps: SleepRecorder) -> None:
    kick.fail_next(429, retry_after=7)
    async with make_api(kick, sleeps) as api:
        info = await api.get_channel("xqc")
    assert info.live
    assert sleeps.delays == [7.0]


async def test_retry_after_beyond_budget_gives_up_at_once(
    kick: FakeKick, sleeps: SleepRecorder
) -> None:
    kick.fail_next(429, retry_after=3600)
    async with make_api(kick, sleeps, max_retry_s=60) as api:
        with pytest.raises(KickUnavailable, match="429"):
            await api.get_channel("xqc")
    assert sleeps.delays == [] and len(kick.requests) == 1


async def test_5xx_exhausted_is_unavailable(
    kick: FakeKick, sleeps: SleepRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    kick.fail_next(500, count=100)
    with caplog.at_level(logging.WARNING, logger="engine.kick.api"):
        async with make_api(kick, sleeps, max_attempts=3) as api:
            with pytest.raises(KickUnavailable) as err:
                await api.get_channel("xqc")
    assert err.value.status == 500
    assert len(kick.requests) == 3 and len(sleeps.delays) == 2
    # rand=0.5 and initial 0.01: full jitter draws half of the growing cap
    assert sleeps.delays == pytest.approx([0.005, 0.01])
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "xqc" in errors[0] and "500" in errors[0]


async def test_retry_budget_comes_from_config(kick: FakeKick, sleeps: SleepRecorder) -> None:
    """kick.http_max_attempts / http_max_retry_s in config.yaml are what the bot runs with."""
    kick.fail_next(503, count=2)  # the default of 4 attempts would get past these
    api = KickApi(kick.config(http_max_attempts=2), sleep=sleeps, rand=lambda: 0.5)
    async with api:
        with pytest.raises(KickUnavailable):
            await api.get_channel("xqc")
    assert len(kick.requests) == 2
    kick.requests.clear()
    kick.fail_next(429, retry_after=30)
    api = KickApi(kick.config(http_max_retry_s=10), sleep=sleeps, rand=lambda: 0.5)
    async with api:
        with pytest.raises(KickUnavailable, match="429"):
            await api.get_channel("xqc")
    assert len(kick.requests) == 1  # a 30 s Retry-After is beyond the 10 s budget


async def test_network_error_is_unavailable(sleeps: SleepRecorder) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with FakeKick() as kick:
        cfg = kick.config(api_base=f"http://127.0.0.1:{port}")
    async with KickApi(cfg, sleep=sleeps, rand=lambda: 0.5, max_attempts=2) as api:
        with pytest.raises(KickUnavailable, match="network error"):
            await api.get_channel("xqc")
    assert len(sleeps.delays) == 1


async def test_site_status_uses_current_viewers_between_full_checks(
    kick: FakeKick, sleeps: SleepRecorder
) -> None:
    async with make_api(kick, sleeps, full_check_every=3) as api:
        first = await api.get_status(["xqc", "sleepy"])
        kick.channels["xqc"].viewers = 60000
        second = await api.get_status(["xqc"])
        third = await api.get_status(["xqc"])
        kick.set_live("xqc", False)
        fourth = await api.get_status(["xqc"])  # full check: notices the stream ended
    assert first["xqc"].live and first["xqc"].livestream_id == 74454116
    assert not first["sleepy"].live
    assert second["xqc"].viewers == 60000 and third["xqc"].viewers == 60000
    assert not fourth["xqc"].live
    routes = [r.route for r in kick.requests]
    assert routes == [ROUTE_CHANNEL, ROUTE_CHANNEL, ROUTE_VIEWERS, ROUTE_VIEWERS, ROUTE_CHANNEL]
    assert kick.requests_to(ROUTE_VIEWERS)[0].query == [("ids[]", "74454116")]


async def test_site_status_full_check_when_stream_vanishes(
    kick: FakeKick, sleeps: SleepRecorder
) -> None:
    async with make_api(kick, sleeps) as api:
        await api.get_status(["xqc"])
        kick.set_live("xqc", False)
        status = await api.get_status(["xqc"])
    assert not status["xqc"].live
    assert [r.route for r in kick.requests][-2:] == [ROUTE_VIEWERS, ROUTE_CHANNEL]


# ---- official API -----------------------------------------------------------------------


async def test_official_status_with_chatroom_from_site_once(
    kick: FakeKick, sleeps: SleepRecorder
) -> None:
    async with make_official(kick, sleeps) as api:
        assert api.official
        info = await api.get_channel("xqc")
        kick.channels["xqc"].viewers = 61000
        again = await api.get_channel("xqc")
        status = await api.get_status(["xqc", "sleepy", "ghost"])
    assert info.chatroom_id == 668 and info.user_id == 676 and info.live
    assert info.started_at == datetime(2025, 9, 15, 21, 12, 45, tzinfo=UTC)
    assert again.viewers == 61000 and again.chatroom_id == 668
    assert set(status) == {"xqc", "sleepy"}
    assert not status["sleepy"].live and status["sleepy"].started_at is None
    assert len(kick.requests_to(ROUTE_OAUTH)) == 1  # token cached
    assert len(kick.requests_to(ROUTE_CHANNEL)) == 1  # chatroom id cached
    assert len(kick.requests_to(ROUTE_OFFICIAL)) == 3
    official = kick.requests_to(ROUTE_OFFICIAL)[-1]
    assert official.headers["Authorization"] == f"Bearer {kick.tokens_issued[0]}"
    assert official.query == [("slug", "xqc"), ("slug", "sleepy"), ("slug", "ghost")]
    assert kick.requests_to(ROUTE_OAUTH)[0].form["grant_type"] == "client_credentials"
    assert not kick.unknown_requests


async def test_official_token_refreshed_before_expiry(
    kick: FakeKick, sleeps: SleepRecorder
) -> None:
    kick.token_ttl = 100
    clock = FakeMonotonic()
    async with make_official(kick, sleeps, monotonic=clock) as api:
        await api.get_status(["xqc"])
        clock.now += 80  # still inside the lifetime minus the safety margin
        await api.get_status(["xqc"])
        clock.now += 15  # 95 s: within 10 % of expiry, refresh first
        await api.get_status(["xqc"])
    assert len(kick.tokens_issued) == 2
    used = [r.headers["Authorization"] for r in kick.requests_to(ROUTE_OFFICIAL)]
    assert used == [f"Bearer {t}" for t in (kick.tokens_issued[0],) * 2 + (kick.tokens_issued[1],)]


async def test_official_401_fetches_a_new_token(kick: FakeKick, sleeps: SleepRecorder) -> None:
    async with make_official(kick, sleeps) as api:
        await api.get_status(["xqc"])
        kick.expire_tokens()
        status = await api.get_status(["xqc"])
    assert status["xqc"].live and len(kick.tokens_issued) == 2


async def test_official_batches_of_fifty(kick: FakeKick, sleeps: SleepRecorder) -> None:
    slugs = [f"chan{i}" for i in range(60)]
    for s in slugs:
        kick.add_channel(s)
    async with make_official(kick, sleeps) as api:
        status = await api.get_status(slugs)
    assert len(status) == 60
    assert [len(r.query) for r in kick.requests_to(ROUTE_OFFICIAL)] == [50, 10]


async def test_known_chatroom_skips_site_endpoint(kick: FakeKick, sleeps: SleepRecorder) -> None:
    kick.fail_next(403, count=100, route=ROUTE_CHANNEL)  # the site endpoint is blocked
    async with make_official(kick, sleeps, known_chatrooms={"XQC": 999}) as api:
        info = await api.get_channel("xqc")
    assert info.chatroom_id == 999 and info.user_id == 676 and info.channel_id is None
    assert kick.requests_to(ROUTE_CHANNEL) == []


async def test_cache_object_is_consulted_and_filled(kick: FakeKick, sleeps: SleepRecorder) -> None:
    cache = MemoryChannelCache()
    async with make_official(kick, sleeps, cache=cache) as api:
        await api.get_channel("xqc")
    async with make_official(kick, sleeps, cache=cache) as api:
        ids = await api.get_ids("xqc")
    assert ids.chatroom_id == 668
    assert len(kick.requests_to(ROUTE_CHANNEL)) == 1


async def test_bad_credentials_are_an_auth_error(kick: FakeKick, sleeps: SleepRecorder) -> None:
    secret = "wrong-secret-value-123"
    async with make_api(kick, sleeps, client_id=FAKE_CLIENT_ID, client_secret=secret) as api:
        with pytest.raises(KickAuthError) as err:
            await api.get_status(["xqc"])
    assert "401" in str(err.value) and secret not in str(err.value)
    assert isinstance(err.value, KickUnavailable)


async def test_secrets_never_logged(
    kick: FakeKick, sleeps: SleepRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    kick.fail_next(403, route=ROUTE_OAUTH)
    kick.fail_next(429, retry_after=1, route=ROUTE_OFFICIAL)
    kick.fail_next(500, route=ROUTE_OFFICIAL)
    messages: list[str] = []
    with caplog.at_level(logging.DEBUG):
        async with make_official(kick, sleeps) as api:
            await api.get_channel("xqc")
            kick.expire_tokens()
            await api.get_status(["xqc"])
            kick.fail_next(500, count=100, route=ROUTE_OFFICIAL)
            try:
                await api.get_status(["xqc"])
            except KickUnavailable as exc:
                messages.append(str(exc))
    assert messages and caplog.records
    text = caplog.text + "\n".join(messages)
    assert FAKE_CLIENT_SECRET not in text
    for token in kick.tokens_issued:
        assert token not in text


# ---- pure helpers -----------------------------------------------------------------------


def test_backoff_full_jitter_grows_to_max_and_resets() -> None:
    b = Backoff(initial=1.0, max=8.0, factor=2.0, rand=lambda: 1.0)
    assert [b.next_delay() for _ in range(6)] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    b.reset()
    assert b.next_delay() == 1.0
    zero = Backoff(initial=1.0, max=8.0, rand=lambda: 0.0)
    assert zero.next_delay() == 0.0


def test_backoff_survives_a_very_long_outage() -> None:
    b = Backoff(initial=0.5, max=300.0, rand=lambda: 1.0)
    delays = [b.next_delay() for _ in range(5000)]
    assert delays[-1] == 300.0


def test_parse_retry_after() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 2.5 ") == 2.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after("Wed, 01 Jan 2025 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Wed, 01 Jan 2025 11:00:00 GMT", now=now) == 0.0
    for junk in (None, "", "soon", "nan", "inf"):
        assert parse_retry_after(junk) is None


def test_parse_kick_time() -> None:
    assert parse_kick_time("2025-09-15 21:12:45") == datetime(2025, 9, 15, 21, 12, 45, tzinfo=UTC)
    assert parse_kick_time("2025-09-15T21:12:45Z") == datetime(2025, 9, 15, 21, 12, 45, tzinfo=UTC)
    assert parse_kick_time("2025-09-15T23:12:45+02:00") == datetime(
        2025, 9, 15, 21, 12, 45, tzinfo=UTC
    )
    assert parse_kick_time("0001-01-01T00:00:00Z") is None
    assert parse_kick_time(None) is None and parse_kick_time("garbage") is None


async def test_fake_records_unknown_routes(kick: FakeKick) -> None:
    async with httpx.AsyncClient() as http:
        resp = await http.get(f"{kick.base_url}/api/v1/channels/xqc")
    assert resp.status_code == 404
    assert [r.path for r in kick.unknown_requests] == ["/api/v1/channels/xqc"]


class RowCache:
    """Shaped like storage's ChannelCacheRepo: rows may lack the chatroom id."""

    def __init__(self) -> None:
        self.rows: dict[str, ChannelIds | SimpleNamespace] = {
            "xqc": SimpleNamespace(channel_id=668, user_id=676, chatroom_id=None)
        }
        self.puts: list[tuple[str, int | None, int | None, int | None]] = []

    async def get(self, slug: str) -> ChannelIds | SimpleNamespace | None:
        return self.rows.get(slug)

    async def put(
        self, slug: str, channel_id: int | None, user_id: int | None, chatroom_id: int | None
    ) -> None:
        self.puts.append((slug, channel_id, user_id, chatroom_id))


async def test_cache_row_without_chatroom_triggers_one_lookup(
    kick: FakeKick, sleeps: SleepRecorder
) -> None:
    cache = RowCache()
    async with make_official(kick, sleeps, cache=cache) as api:
        ids = await api.get_ids("xqc")
    assert ids == ChannelIds("xqc", 668, 676, 668)
    assert cache.puts == [("xqc", 668, 676, 668)]


async def test_known_chatroom_wins_in_site_mode(kick: FakeKick, sleeps: SleepRecorder) -> None:
    async with make_api(kick, sleeps, known_chatrooms={"xqc": 5}) as api:
        info = await api.get_channel("xqc")
        ids = await api.get_ids("xqc")
    assert info.chatroom_id == 5 and ids.chatroom_id == 5 and ids.channel_id == 668


# ---- Retry-After on 403/503, per-host quiet, 404 judgment, lookups that survive a block ----


async def test_503_and_403_honour_retry_after(kick: FakeKick, sleeps: SleepRecorder) -> None:
    kick.fail_next(503, retry_after=5)
    kick.fail_next(403, retry_after=3)
    async with make_api(kick, sleeps) as api:
        info = await api.get_channel("xqc")
    assert info.live and len(kick.requests) == 3
    assert sleeps.delays == [5.0, 3.0]  # what Kick asked for, not the 0.005 s backoff


async def test_retry_after_as_an_http_date(kick: FakeKick, sleeps: SleepRecorder) -> None:
    when = datetime.now(UTC) + timedelta(seconds=20)
    kick.fail_next(429, retry_after=format_datetime(when, usegmt=True))
    async with make_api(kick, sleeps) as api:
        await api.get_channel("xqc")
    (delay,) = sleeps.delays
    assert delay == pytest.approx(20.0, abs=2.0)


async def test_long_retry_after_makes_later_calls_fail_fast(
    kick: FakeKick, sleeps: SleepRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    """Retry-After beyond http_max_retry_s: that host is left alone until then (every Feed
    shares the client), with one clear ERROR line, then asked again. (The hour fits under a
    raised kick.retry_after_max_s; the default cap is tests/test_kick_limits.py's.)"""
    clock = FakeMonotonic()
    kick.fail_next(429, retry_after=3600)
    cfg = kick.config(retry_after_max_s=7200)
    with caplog.at_level(logging.DEBUG, logger="engine.kick.api"):
        async with KickApi(
            cfg, sleep=sleeps, rand=lambda: 0.5, max_retry_s=60, monotonic=clock
        ) as api:
            with pytest.raises(KickUnavailable, match="429"):
                await api.get_channel("xqc")
            for _ in range(3):
                clock.now += 600
                with pytest.raises(KickUnavailable, match="rate limiting") as err:
                    await api.get_status(["xqc"])
                assert "wait" in str(err.value)
            assert len(kick.requests) == 1, "nothing sent while Kick asked for quiet"
            clock.now += 1900  # 3700 s after the 429
            status = await api.get_status(["xqc"])
    assert status["xqc"].live and len(kick.requests) == 2
    assert sleeps.delays == []
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "3600" in errors[0] and "retry budget" in errors[0]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) <= 1, "the skipped polls do not each log a warning"


async def test_short_retry_after_is_waited_out_by_the_next_caller(
    kick: FakeKick, sleeps: SleepRecorder
) -> None:
    clock = FakeMonotonic()
    kick.fail_next(429, retry_after=20, route=ROUTE_VIEWERS)  # a fallback: tried once
    async with make_api(kick, sleeps, monotonic=clock) as api:
        await api.get_status(["xqc"])  # full lookup, remembers the livestream
        status = await api.get_status(["xqc"])  # viewer refresh 429 -> full lookup waits
    assert status["xqc"].live
    assert sleeps.delays == [20.0]
    assert [r.route for r in kick.requests] == [ROUTE_CHANNEL, ROUTE_VIEWERS, ROUTE_CHANNEL]


async def test_html_404_is_a_wrong_api_base_not_an_unknown_channel(
    kick: FakeKick, sleeps: SleepRecorder
) -> None:
    kick.fail_next(404, body="<html><body>404 Not Found</body></html>", route=ROUTE_CHANNEL)
    async with make_api(kick, sleeps) as api:
        with pytest.raises(KickUnavailable, match="api_base") as err:
            await api.get_channel("xqc")
        assert not isinstance(err.value, ChannelNotFound)
        kick.fail_next(404, body={"message": "No query results for model [App\\Models\\Channel]."})
        with pytest.raises(ChannelNotFound):
            await api.get_channel("nobody")


async def test_blocked_site_lookup_falls_back_to_a_hand_given_chatroom(
    kick: FakeKick, sleeps: SleepRecorder
) -> None:
    kick.fail_next(403, count=100, route=ROUTE_CHANNEL)
    async with make_api(kick, sleeps, known_chatrooms={"xqc": 999}) as api:
        info = await api.get_channel("xqc")
        with pytest.raises(KickUnavailable):
            await api.get_channel("sleepy")  # nothing stored for this one: the block shows
    assert (info.slug, info.chatroom_id, info.channel_id) == ("xqc", 999, None)
    assert not info.live and info.viewers == 0  # unknown until the poller asks
    assert not info.live_known


async def test_blocked_site_lookup_falls_back_to_the_cache(
    kick: FakeKick, sleeps: SleepRecorder
) -> None:
    cache = MemoryChannelCache()
    async with make_api(kick, sleeps, cache=cache) as api:
        await api.get_channel("xqc")
    kick.fail_next(403, count=100, route=ROUTE_CHANNEL)
    async with make_api(kick, sleeps, cache=cache) as api:
        info = await api.get_channel("xqc")
    assert (info.chatroom_id, info.channel_id, info.user_id) == (668, 668, 676)
    assert not info.live_known
