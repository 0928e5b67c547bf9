"""ChatClient against FakePusher: handshake, delivery, keepalive, reconnects and close codes.

Timeouts are made small through the fake's activity_timeout and the client's pong timeout, and
reconnect pauses go through a recording sleep, so the whole file runs in a couple of seconds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from engine.backoff import Backoff
from engine.config import KickConfig
from engine.detection.emotes import EmoteParser
from engine.events import ChatMessage
from engine.kick.chat import ChatClient, PusherRefused, pusher_url
from engine.kick.pusher import LIVE_EVENT, ControlFrame
from tests.fakes.pusher_server import FakePusher, chat_topic, emote

ROOM = 246956
TOPIC = chat_topic(ROOM)


class Waiter:
    """Wakes tests when something they watch changed, instead of polling with sleeps."""

    def __init__(self) -> None:
        self._changed = asyncio.Event()

    def notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], bool], within_s: float = 5.0) -> None:
        async with asyncio.timeout(within_s):
            while True:
                changed = self._changed
                if predicate():
                    return
                await changed.wait()


class SleepRecorder:
    """Records each reconnect pause and sleeps only a token amount of it."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.waiter = Waiter()

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        self.waiter.notify()
        await asyncio.sleep(min(delay, 0.01))


class Harness:
    """A running ChatClient plus what it delivered (and an optional extra callback)."""

    def __init__(self, then: Callable[[Any], None] | None = None) -> None:
        self.events: list[Any] = []
        self.sleeps = SleepRecorder()
        self.waiter = Waiter()
        self._then = then
        self.client: ChatClient
        self.task: asyncio.Task[None]

    def on_event(self, item: Any) -> None:
        self.events.append(item)
        self.waiter.notify()
        if self._then is not None:
            self._then(item)

    def start(self, client: ChatClient) -> Harness:
        self.client = client
        self.task = asyncio.create_task(client.run())
        return self

    def messages(self) -> list[ChatMessage]:
        return [e for e in self.events if isinstance(e, ChatMessage)]

    async def wait_messages(self, n: int, within_s: float = 5.0) -> list[ChatMessage]:
        await self.waiter.wait_for(lambda: len(self.messages()) >= n, within_s)
        return self.messages()

    async def close(self) -> None:
        self.client.stop()
        await asyncio.wait_for(asyncio.gather(self.task, return_exceptions=True), 5)


@pytest.fixture
async def pusher() -> AsyncIterator[FakePusher]:
    async with FakePusher() as fake:
        yield fake


@pytest.fixture
async def start_client() -> AsyncIterator[Callable[..., Awaitable[Harness]]]:
    harnesses: list[Harness] = []

    async def start(
        pusher: FakePusher,
        url: str | None = None,
        then: Callable[[Any], None] | None = None,
        **kwargs: Any,
    ) -> Harness:
        h = Harness(then)
        kwargs.setdefault("backoff", Backoff(0.01, 0.05, rand=lambda: 0.5))
        kwargs.setdefault("sleep", h.sleeps)
        kwargs.setdefault("clock", lambda: 1234.5)
        emotes = EmoteParser(["KEKW", "LUL"])
        h.start(ChatClient(url or pusher.url, ROOM, h.on_event, emotes, **kwargs))
        harnesses.append(h)
        return h

    yield start
    for h in harnesses:
        await h.close()


async def test_subscribes_and_delivers_messages_with_emotes(
    pusher: FakePusher, start_client: Callable[..., Awaitable[Harness]]
) -> None:
    h = await start_client(pusher, channel_id=668)
    await pusher.wait_for_subscription(TOPIC)
    await pusher.wait_for_subscription("channel.668")
    subs = pusher.frames_of("pusher:subscribe")
    assert subs[0] == {"event": "pusher:subscribe", "data": {"auth": "", "channel": TOPIC}}
    await asyncio.wait_for(h.client.ready.wait(), 2)
    await pusher.send_chat(ROOM, "viewer96", f"no way {emote('KEKW')} KEKW LUL lul")
    await pusher.send_chat(ROOM, "bob", "nice", reply_to=("viewer96", "no way"))
    await pusher.send_live(668)
    msgs = await h.wait_messages(2)
    assert msgs[0] == ChatMessage(
        1234.5, "viewer96", "no way [emote:37226:KEKW] KEKW LUL lul", ("KEKW", "KEKW", "LUL")
    )
    assert msgs[1].user == "bob" and msgs[1].text == "nice"
    await h.waiter.wait_for(lambda: any(isinstance(e, ControlFrame) for e in h.events))
    (live,) = [e for e in h.events if isinstance(e, ControlFrame)]
    assert live.event == LIVE_EVENT and live.channel == "channel.668"
    assert h.client.stats.messages == 2 and h.client.stats.connects == 1
    assert h.client.subscribed == {TOPIC, "channel.668"}


async def test_url_from_config() -> None:
    cfg = KickConfig()
    assert pusher_url(cfg) == (
        "wss://ws-us2.pusher.com/app/32cbd69e4b950bf97679"
        "?protocol=7&client=js&version=8.4.0&flash=false"
    )


async def test_from_config_connects_to_fake(pusher: FakePusher) -> None:
    h = Harness()
    h.start(ChatClient.from_config(pusher.config(), ROOM, h.on_event, EmoteParser()))
    try:
        await pusher.wait_for_subscription(TOPIC)
        await pusher.send_chat(ROOM, "a", "hi")
        assert [m.text for m in await h.wait_messages(1)] == ["hi"]
    finally:
        await h.close()
    assert h.task.exception() is None


async def test_from_config_takes_the_chat_pauses_from_config(pusher: FakePusher) -> None:
    """kick.chat_refused_retry_s and kick.chat_pause_s are what the bot's feeds run with."""
    h = Harness()
    cfg = pusher.config(chat_refused_retry_s=42.0, chat_pause_s=3.5)
    h.start(ChatClient.from_config(cfg, ROOM, h.on_event, EmoteParser(), sleep=h.sleeps))
    try:
        await pusher.wait_for_subscription(TOPIC)
        await pusher.close_with(4001)  # refused: wait chat_refused_retry_s, then try again
        await pusher.wait_for_subscription(TOPIC, count=2)
        await pusher.close_with(4100)  # over capacity: pause at least chat_pause_s
        await pusher.wait_for_subscription(TOPIC, count=3)
    finally:
        await h.close()
    assert h.sleeps.delays[0] == 42.0 and h.sleeps.delays[1] >= 3.5


def test_url_fills_in_the_cluster() -> None:
    cfg = KickConfig(pusher_cluster="eu1")
    assert pusher_url(cfg).startswith("wss://ws-eu1.pusher.com/app/32cbd69e4b950bf97679?")


async def test_answers_server_ping(
    pusher: FakePusher, start_client: Callable[..., Awaitable[Harness]]
) -> None:
    h = await start_client(pusher)
    await pusher.wait_for_subscription(TOPIC)
    await pusher.send_ping()
    await pusher.wait_for_client_event("pusher:pong")
    assert pusher.frames_of("pusher:pong")[0] == {"event": "pusher:pong", "data": {}}
    assert h.client.stats.pongs_sent == 1


async def test_own_ping_after_silence_keeps_connection() -> None:
    async with FakePusher(activity_timeout=0.1) as pusher:
        events: list[Any] = []
        client = ChatClient(pusher.url, ROOM, events.append, EmoteParser(), pong_timeout_s=0.5)
        task = asyncio.create_task(client.run())
        try:
            await pusher.wait_for_client_event("pusher:ping", count=3)
            assert client.activity_timeout_s == pytest.approx(0.1)
            assert pusher.frames_of("pusher:ping")[0] == {"event": "pusher:ping", "data": {}}
            assert client.stats.stale == 0 and pusher.connections_total == 1
        finally:
            client.stop()
            await asyncio.wait_for(task, 5)


async def test_stale_connection_detected_and_replaced(
    start_client: Callable[..., Awaitable[Harness]],
) -> None:
    async with FakePusher(activity_timeout=0.1) as pusher:
        pusher.stale = True
        h = await start_client(pusher, pong_timeout_s=0.1)
        await pusher.wait_for_subscription(TOPIC, count=2)
        assert h.client.stats.stale >= 1 and h.client.stats.reconnects >= 1
        pusher.stale = False
        await pusher.send_chat(ROOM, "a", "back")
        await h.wait_messages(1)
        await h.close()


async def test_malformed_frames_counted_and_skipped(
    pusher: FakePusher, start_client: Callable[..., Awaitable[Harness]]
) -> None:
    h = await start_client(pusher)
    await pusher.wait_for_subscription(TOPIC)
    await pusher.send_raw("not json at all")
    await pusher.send_raw("[1, 2, 3]")
    await pusher.send_event(TOPIC, "App\\Events\\ChatMessageEvent", "{broken json")
    await pusher.send_event(TOPIC, "App\\Events\\ChatMessageEvent", {"content": "no sender"})
    await pusher.send_event(TOPIC, "App\\Events\\PollUpdateEvent", {"poll": {"title": "?"}})
    await pusher.send_event(TOPIC, "App\\Events\\SomethingNewEvent", "not even json")
    await pusher.send_chat(ROOM, "alice", "still here")
    msgs = await h.wait_messages(1)
    assert [m.text for m in msgs] == ["still here"]
    assert h.client.stats.malformed == 4
    assert pusher.connections_total == 1 and h.client.stats.reconnects == 0


async def test_dropped_connection_reconnects_resubscribes_and_delivers(
    pusher: FakePusher, start_client: Callable[..., Awaitable[Harness]]
) -> None:
    h = await start_client(pusher)
    await pusher.wait_for_subscription(TOPIC)
    await pusher.send_chat(ROOM, "a", "before")
    await h.wait_messages(1)
    assert await pusher.drop_connections() == 1
    await pusher.wait_for_subscription(TOPIC, count=2)
    await pusher.send_chat(ROOM, "b", "after")
    msgs = await h.wait_messages(2)
    assert [m.text for m in msgs] == ["before", "after"]
    assert h.client.stats.reconnects == 1 and h.client.stats.connects == 2
    assert len(h.sleeps.delays) == 1  # one jittered pause before reconnecting


async def test_burst_delivered_in_order(
    pusher: FakePusher, start_client: Callable[..., Awaitable[Harness]]
) -> None:
    h = await start_client(pusher)
    await pusher.wait_for_subscription(TOPIC)
    sent = await pusher.burst(ROOM, [f"msg {i} {emote('LULW')}" for i in range(300)], rate=5000)
    msgs = await h.wait_messages(300)
    assert sent == 300 and [m.text.split()[1] for m in msgs] == [str(i) for i in range(300)]
    assert all(m.emotes == ("LULW",) for m in msgs)


async def test_callback_error_is_not_fatal(
    pusher: FakePusher, start_client: Callable[..., Awaitable[Harness]]
) -> None:
    seen: list[str] = []

    def flaky(item: object) -> None:
        assert isinstance(item, ChatMessage)
        seen.append(item.text)
        if item.text == "boom":
            raise RuntimeError("callback bug")

    h = await start_client(pusher, then=flaky)
    await pusher.wait_for_subscription(TOPIC)
    await pusher.send_chat(ROOM, "a", "boom")
    await pusher.send_chat(ROOM, "a", "fine")
    await h.waiter.wait_for(lambda: len(seen) == 2)
    assert h.client.stats.callback_errors == 1 and pusher.connections_total == 1


async def test_close_4001_stops_with_error(
    pusher: FakePusher,
    start_client: Callable[..., Awaitable[Harness]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    h = await start_client(pusher)
    await pusher.wait_for_subscription(TOPIC)
    await pusher.close_with(4001, "App key not in this cluster")
    with pytest.raises(PusherRefused) as err:
        await asyncio.wait_for(h.task, 5)
    assert err.value.code == 4001
    assert pusher.connections_total == 1 and h.sleeps.delays == []
    assert any(r.levelno == logging.ERROR and "4001" in r.getMessage() for r in caplog.records)


async def test_wrong_app_key_is_refused(
    pusher: FakePusher, start_client: Callable[..., Awaitable[Harness]]
) -> None:
    wrong = pusher.url_template.format(key="eb1d5f283081a78b932c")
    h = await start_client(pusher, url=wrong)
    with pytest.raises(PusherRefused, match="4001"):
        await asyncio.wait_for(h.task, 5)
    assert pusher.rejected == 1 and pusher.connections_total == 0
    assert "not in this cluster" in (h.client.stats.last_error or "")


async def test_refusal_with_long_retry_pauses_then_retries(
    pusher: FakePusher, start_client: Callable[..., Awaitable[Harness]]
) -> None:
    h = await start_client(pusher, refused_retry_s=600)
    await pusher.wait_for_subscription(TOPIC)
    await pusher.close_with(4001)
    await pusher.wait_for_subscription(TOPIC, count=2)
    assert h.sleeps.delays == [600]


async def test_repeated_refusal_is_one_error_then_long_pauses(
    pusher: FakePusher,
    start_client: Callable[..., Awaitable[Harness]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A wrong key is refused on every try: one ERROR with the code and Pusher's words, then
    only chat_refused_retry_s pauses (never the normal backoff), warnings after the first."""
    wrong = pusher.url_template.format(key="eb1d5f283081a78b932c")
    with caplog.at_level(logging.INFO, logger="engine.kick.chat"):
        h = await start_client(pusher, url=wrong, refused_retry_s=600)
        await h.sleeps.waiter.wait_for(lambda: len(h.sleeps.delays) >= 3)
    assert h.sleeps.delays[:3] == [600, 600, 600]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "4001" in errors[0] and "not in this cluster" in errors[0] and "600 s" in errors[0]
    assert pusher.rejected >= 3


async def test_close_4100_reconnects_after_pause(
    pusher: FakePusher, start_client: Callable[..., Awaitable[Harness]]
) -> None:
    h = await start_client(pusher, pause_s=3.0)
    await pusher.wait_for_subscription(TOPIC)
    await pusher.close_with(4100, "over capacity")
    await pusher.wait_for_subscription(TOPIC, count=2)
    assert len(h.sleeps.delays) == 1 and h.sleeps.delays[0] >= 3.0


async def test_close_4200_reconnects_at_once(
    pusher: FakePusher, start_client: Callable[..., Awaitable[Harness]]
) -> None:
    h = await start_client(pusher)
    await pusher.wait_for_subscription(TOPIC)
    await pusher.close_with(4200, "reconnect")
    await pusher.wait_for_subscription(TOPIC, count=2)
    assert h.sleeps.delays == [] and h.client.stats.reconnects == 1


async def test_unreachable_server_backs_off_until_stopped(
    start_client: Callable[..., Awaitable[Harness]],
) -> None:
    async with FakePusher() as pusher:
        url = pusher.url
    h = await start_client(pusher, url=url)  # the fake is gone: connection refused
    await h.sleeps.waiter.wait_for(lambda: len(h.sleeps.delays) >= 3)
    await h.close()
    assert h.task.done() and h.task.exception() is None
    assert h.sleeps.delays[:3] == pytest.approx([0.005, 0.01, 0.02])


async def test_stop_and_cancel_are_clean(
    pusher: FakePusher, start_client: Callable[..., Awaitable[Harness]]
) -> None:
    h = await start_client(pusher)
    await pusher.wait_for_subscription(TOPIC)
    h.client.stop()
    await asyncio.wait_for(h.task, 2)
    await pusher.wait_until(lambda: pusher.connected == 0)

    h2 = await start_client(pusher)
    await pusher.wait_for_subscription(TOPIC, count=2)
    h2.task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await h2.task
    await pusher.wait_until(lambda: pusher.connected == 0)
