"""The fake Discord's Create Message idempotency (`nonce` + `enforce_nonce`), its 5xx-after-
create fault injection, and channel history paging forward with `after=`.

These are the Discord behaviours the bot's exactly-once posting relies on, so the fake must have
them the way Discord documents them, checked here with plain HTTP and with discord.py itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest

from tests.fakes.discord_server import Channel, FakeDiscord


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server, server.patch_discord():
        yield server
        server.assert_clean()


@pytest.fixture
def channel(fake: FakeDiscord) -> Channel:
    return fake.add_channel(fake.add_guild("Clips"), "clips")


async def create(fake: FakeDiscord, channel: Channel, body: dict[str, Any]) -> tuple[int, Any]:
    headers = {"Authorization": f"Bot {fake.token}"}
    url = f"{fake.api_base}/channels/{channel.id}/messages"
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json=body, headers=headers) as resp,
    ):
        return resp.status, await resp.json()


async def test_enforce_nonce_returns_the_existing_message(
    fake: FakeDiscord, channel: Channel
) -> None:
    status, first = await create(
        fake, channel, {"content": "a", "nonce": "n1", "enforce_nonce": True}
    )
    assert status == 200 and first["nonce"] == "n1"
    _, again = await create(fake, channel, {"content": "b", "nonce": "n1", "enforce_nonce": True})
    assert again["id"] == first["id"] and again["content"] == "a"  # returned, not re-created
    _, plain = await create(fake, channel, {"content": "c", "nonce": "n1"})  # not enforced
    assert plain["id"] != first["id"]
    assert [m.content for m in fake.channel_messages(channel)] == ["a", "c"]
    # Fetched later, a message does not carry its nonce (only the create answer and the
    # MESSAGE_CREATE event do), so finding a post again needs a marker of its own.
    assert "nonce" not in fake.channel_messages(channel)[0].payload()

    fake.nonces.window_s = 0.0  # "the past few minutes" are over
    _, late = await create(fake, channel, {"content": "d", "nonce": "n1", "enforce_nonce": True})
    assert late["id"] != first["id"]
    fake.delete_message(fake.channel_messages(channel)[-1])
    fake.nonces.window_s = 300.0
    _, after_delete = await create(
        fake, channel, {"content": "e", "nonce": "n1", "enforce_nonce": True}
    )
    assert after_delete["content"] == "e"

    status, error = await create(fake, channel, {"content": "x", "nonce": "n" * 26})
    assert status == 400 and error["code"] == 50035 and "nonce" in error["errors"]
    fake.errors.clear()


async def test_a_5xx_after_create_is_retried_by_discord_py_without_a_duplicate(
    fake: FakeDiscord, channel: Channel
) -> None:
    """discord.py sends a nonce with enforce_nonce on every send and retries a 502 with the
    same body: the retry gets the message the first try created."""
    fake.fail_after_next("POST", rf"/channels/{channel.id}/messages$")
    client = discord.Client(intents=discord.Intents.none())
    try:
        await client.login(fake.token)
        target = await client.fetch_channel(channel.id)
        assert isinstance(target, discord.TextChannel)
        sent = await target.send("hello")
    finally:
        await client.close()
    posts = [r for r in fake.requests if r.method == "POST" and r.path.endswith("/messages")]
    assert [r.status for r in posts] == [502, 200]
    assert posts[0].json["nonce"] == posts[1].json["nonce"] and posts[0].json["enforce_nonce"]
    assert [m.id for m in fake.channel_messages(channel)] == [sent.id]


async def test_history_after_an_id_pages_forward_through_a_busy_channel(
    fake: FakeDiscord, channel: Channel
) -> None:
    """Discord answers `after=` with the messages right after that id (newest first within the
    page); discord.py pages on from the newest of them and must see every message."""
    user = fake.add_member(channel.guild_id or 0, "chatty")
    sent = [fake.inject_message(channel, user, f"m{i}") for i in range(230)]
    client = discord.Client(intents=discord.Intents.none())
    try:
        await client.login(fake.token)
        target = await client.fetch_channel(channel.id)
        assert isinstance(target, discord.TextChannel)
        seen = [
            m.id
            async for m in target.history(
                limit=None, after=discord.Object(sent[9].id), oldest_first=True
            )
        ]
    finally:
        await client.close()
    assert seen == [m.id for m in sent[10:]]
