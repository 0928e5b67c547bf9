"""A fake Discord (REST v10 + gateway v10 on 127.0.0.1) that the real discord.py connects to.

Usage (pytest-asyncio)::

    async with FakeDiscord() as fake, fake.patch_discord():
        guild = fake.add_guild("Clips", upload_limit=8 * 1024 * 1024)
        channel = fake.add_channel(guild, "clips")
        mods = fake.add_role(guild, "Mods", discord.Permissions(manage_guild=True))
        alice = fake.add_member(guild, "alice", roles=[mods])
        bot = MyBot(guild_ready_timeout=0.05)          # any commands.Bot, unmodified
        task = asyncio.create_task(bot.start(fake.token))
        ...                                            # wait for on_ready
        rec = await fake.inject_slash(guild, channel, alice, "watch", {"streamer": "xqc"})
        callback = await rec.response()                # type 4/5/9..., InteractionFailed if none
        posted = await fake.wait_for_message(lambda m: m.attachments, channel=channel)
        click = await fake.inject_button(posted, "clip:approve:1", alice)
        await bot.close(); await task
        fake.assert_clean()                            # no unhandled route, no fake bug

Modules: models/state (world and permission math), messages, validate (Discord's limits),
commands (synced definitions, option checks), rest, responses (callbacks, followups,
``@original``), interactions (injection), gateway, records (what is recorded, waiting),
server (wiring, message store) and public_api (the methods tests call).
"""

from .http_util import UploadedFile
from .messages import Message, StoredAttachment
from .records import (
    ApiError,
    CommandSync,
    InteractionCallback,
    InteractionFailed,
    InteractionRecord,
    InvalidInteraction,
    MessageEdit,
    RecordedRequest,
)
from .server import DiscordPatch, FakeDiscord
from .state import Channel, Guild, Member, Overwrite, Perm, Role, User

__all__ = [
    "ApiError",
    "Channel",
    "CommandSync",
    "DiscordPatch",
    "FakeDiscord",
    "Guild",
    "InteractionCallback",
    "InteractionFailed",
    "InteractionRecord",
    "InvalidInteraction",
    "Member",
    "Message",
    "MessageEdit",
    "Overwrite",
    "Perm",
    "RecordedRequest",
    "Role",
    "StoredAttachment",
    "UploadedFile",
    "User",
]
