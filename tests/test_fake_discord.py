"""FakeDiscord against the real, unmodified discord.py 2.7 ``commands.Bot``.

A tiny bot (one slash command group, a ``DynamicItem`` approve button, a modal) logs in, syncs,
and is driven by injected interactions. The tests cover what the clip bot relies on: ephemeral
answers, permission checks fed by the fake's permission math, posting an embed + file + button,
a button that still works after a restart (and a control bot for which it does not), DMs open
and closed, modals, the upload limit, Discord's acknowledgement rules, and gateway reconnects.

Every test fails if discord.py logged an ERROR, if the bot hit a route the fake does not serve,
or if tasks, threads or sockets are left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import io
import logging
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.fakes.discord_server import (
    Channel,
    FakeDiscord,
    Guild,
    InteractionFailed,
    InvalidInteraction,
    Member,
    Perm,
    Role,
)

UPLOAD_LIMIT = 256 * 1024  # a small guild limit keeps the oversize upload cheap


# -- the tiny bot under test ---------------------------------------------------------------
class DemoApprove(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"demo:approve:(?P<id>\d+)"
):
    """Approve button whose state lives in its custom_id, so no view has to be re-added."""

    def __init__(self, clip_id: int) -> None:
        button: discord.ui.Button[Any] = discord.ui.Button(
            label="Approve", style=discord.ButtonStyle.success, custom_id=f"demo:approve:{clip_id}"
        )
        super().__init__(button)
        self.clip_id = clip_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: Any
    ) -> DemoApprove:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        text = f"Clip {self.clip_id} approved by {interaction.user.name}"
        await interaction.response.edit_message(content=text)


class FeedbackModal(discord.ui.Modal, title="Clip feedback"):
    note: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Note", custom_id="demo:feedback:note", max_length=200
    )

    def __init__(self) -> None:
        super().__init__(custom_id="demo:feedback")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"Thanks: {self.note.value}", ephemeral=True)


class ChooseView(discord.ui.View):
    @discord.ui.select(
        custom_id="demo:choose",
        options=[
            discord.SelectOption(label="A", value="a"),
            discord.SelectOption(label="B", value="b"),
        ],
    )
    async def choose(
        self, interaction: discord.Interaction, select: discord.ui.Select[ChooseView]
    ) -> None:
        self.stop()
        await interaction.response.edit_message(content=f"chose {select.values[0]}", view=None)


class DemoBot(commands.Bot):
    def __init__(self, guild_id: int, *, dynamic: bool = True) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            guild_ready_timeout=0.05,
        )
        self.guild_id = guild_id
        self.dynamic = dynamic
        self.ready_count = 0
        self.ready = asyncio.Event()
        #: What handlers saw (error codes...), for the test to assert on.
        self.observed: dict[str, Any] = {}

    async def setup_hook(self) -> None:
        if self.dynamic:
            self.add_dynamic_items(DemoApprove)
        guild = discord.Object(self.guild_id)
        self.tree.add_command(build_demo_group(), guild=guild)
        await self.tree.sync(guild=guild)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py sleeps 5 s before every re-IDENTIFY (Discord's identify rate limit); a
        test bot skips it so a forced re-identify takes milliseconds."""

    async def on_ready(self) -> None:
        self.ready_count += 1
        self.ready.set()

    async def post_clip(self, channel_id: int, clip_id: int, data: bytes) -> discord.Message:
        """What the review cog does: embed + video file + approve button."""
        channel = self.get_channel(channel_id)
        assert isinstance(channel, discord.TextChannel)
        embed = discord.Embed(title=f"Clip {clip_id}", description="chat went wild")
        view = discord.ui.View(timeout=None)
        view.add_item(DemoApprove(clip_id))
        file = discord.File(io.BytesIO(data), filename=f"clip{clip_id}.mp4")
        return await channel.send(embed=embed, file=file, view=view)


def build_demo_group() -> app_commands.Group:
    """A fresh group per bot instance, as a cog would build it."""
    demo = app_commands.Group(name="demo", description="Demo commands")

    @demo.command(name="ping", description="Answer privately")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong", ephemeral=True)

    @demo.command(name="config", description="Needs Manage Server")
    async def config(interaction: discord.Interaction) -> None:
        if not interaction.permissions.manage_guild:
            await interaction.response.send_message("You need Manage Server.", ephemeral=True)
            return
        await interaction.response.send_message("Settings saved.", ephemeral=True)

    @demo.command(name="post", description="Post a clip for review")
    @app_commands.describe(clip_id="Clip number")
    async def post(interaction: discord.Interaction, clip_id: app_commands.Range[int, 1]) -> None:
        bot = interaction.client
        assert isinstance(bot, DemoBot) and interaction.channel_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        message = await bot.post_clip(interaction.channel_id, clip_id, b"\x00fake-mp4" * 8)
        await interaction.followup.send(f"Posted {message.jump_url}", ephemeral=True)

    @demo.command(name="dm", description="DM a member")
    async def dm(interaction: discord.Interaction, member: discord.Member) -> None:
        try:
            await member.send(f"Hello {member.name}, a clip is waiting")
        except discord.Forbidden as exc:
            await interaction.response.send_message(f"DMs closed ({exc.code})", ephemeral=True)
            return
        await interaction.response.send_message("Sent.", ephemeral=True)

    @demo.command(name="feedback", description="Open a modal")
    async def feedback(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(FeedbackModal())

    @demo.command(name="double", description="Acknowledge twice (a bug)")
    async def double(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("first")
        try:  # a second InteractionResponse bypasses discord.py's local guard, like a 2nd bot
            await discord.InteractionResponse(interaction).send_message("second")
        except discord.HTTPException as exc:
            observe(interaction, "double", exc.code)

    @demo.command(name="slow", description="Answers too late")
    async def slow(interaction: discord.Interaction, delay: float) -> None:
        await asyncio.sleep(delay)
        try:
            await interaction.response.send_message("late")
        except discord.NotFound as exc:
            observe(interaction, "slow", exc.code)

    @demo.command(name="early", description="Follows up before acknowledging")
    async def early(interaction: discord.Interaction) -> None:
        try:
            await interaction.followup.send("too early")
        except discord.NotFound as exc:
            observe(interaction, "early", exc.code)
        await interaction.response.send_message("ok", ephemeral=True)

    @demo.command(name="progress", description="Answer with a file, then edit the answer")
    async def progress(interaction: discord.Interaction) -> None:
        thumb = discord.File(io.BytesIO(b"\x89PNG-thumb"), filename="thumb.png")
        await interaction.response.send_message("working", file=thumb, ephemeral=True)
        await interaction.edit_original_response(content="done")

    @demo.command(name="choose", description="A private select menu")
    async def choose(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("Pick one", view=ChooseView(), ephemeral=True)

    @demo.command(name="pick", description="Autocomplete a streamer")
    async def pick(interaction: discord.Interaction, streamer: str) -> None:
        await interaction.response.send_message(f"Picked {streamer}", ephemeral=True)

    @pick.autocomplete("streamer")
    async def pick_streamer(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        names = ["xqc", "xena", "adin", "amouranth"]
        return [app_commands.Choice(name=n, value=n) for n in names if n.startswith(current)]

    return demo


def observe(interaction: discord.Interaction, key: str, value: Any) -> None:
    bot = interaction.client
    assert isinstance(bot, DemoBot)
    bot.observed[key] = value


# -- fixtures ------------------------------------------------------------------------------
@dataclass
class World:
    guild: Guild
    channel: Channel
    alice: Member  # plain member
    mod: Member  # has a role with Manage Server
    bob: Member  # DMs closed
    mods: Role


def _socket_count() -> int:
    fds = os.listdir("/proc/self/fd")
    count = 0
    for fd in fds:
        try:
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except OSError:
            continue
    return count


@pytest.fixture(autouse=True)
async def no_errors_or_leaks(caplog: pytest.LogCaptureFixture) -> AsyncIterator[None]:
    """Fail on any ERROR log (discord.py logs handler exceptions) and on leftovers.

    Autouse fixtures are set up first, so this teardown runs after the fake has closed."""
    caplog.set_level(logging.INFO, logger="discord")
    sockets_before = _socket_count()
    yield
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 2.0
    while True:
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
        threads = [t for t in threading.enumerate() if t.name.startswith("keep-alive-handler")]
        sockets = _socket_count() - sockets_before
        if not (tasks or threads or sockets > 0) or loop.time() > deadline:
            break
        await asyncio.sleep(0.02)
    assert not tasks, f"tasks left running: {tasks}"
    assert not threads, f"heartbeat threads left running: {threads}"
    assert sockets <= 0, f"{sockets} socket(s) left open"
    gc.collect()  # an unclosed aiohttp session (a bot never closed) logs an asyncio ERROR here
    errors = [
        r
        for phase in ("setup", "call", "teardown")
        for r in caplog.get_records(phase)  # type: ignore[arg-type]
        if r.levelno >= logging.ERROR
    ]
    assert not errors, [f"{r.name}: {r.getMessage()}" for r in errors]


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server, server.patch_discord():
        yield server
        server.assert_clean()


@pytest.fixture
def world(fake: FakeDiscord) -> World:
    guild = fake.add_guild("Clips", upload_limit=UPLOAD_LIMIT)
    channel = fake.add_channel(guild, "clips")
    mods = fake.add_role(guild, "Mods", discord.Permissions(manage_guild=True))
    alice = fake.add_member(guild, "alice")
    mod = fake.add_member(guild, "mod", roles=[mods])
    bob = fake.add_member(guild, fake.add_user("bob", dms_open=False))
    return World(guild, channel, alice, mod, bob, mods)


@asynccontextmanager
async def running(
    fake: FakeDiscord, world: World, *, dynamic: bool = True
) -> AsyncIterator[DemoBot]:
    """Start a DemoBot against the fake, wait for on_ready, and always close it cleanly
    (close, then await the start task, so nothing of the bot outlives the block)."""
    bot = DemoBot(world.guild.id, dynamic=dynamic)
    task = asyncio.create_task(bot.start(fake.token), name="demo-bot")
    ready = asyncio.ensure_future(bot.ready.wait())
    try:
        done, _ = await asyncio.wait({task, ready}, timeout=10.0, return_when="FIRST_COMPLETED")
        if ready not in done:
            if task in done:
                task.result()  # login or connect failed: raise why
            raise TimeoutError("bot did not become ready")
        yield bot
    finally:
        ready.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ready
        await bot.close()
        await task


# -- tests ---------------------------------------------------------------------------------
async def test_login_sync_and_ready(fake: FakeDiscord, world: World) -> None:
    async with running(fake, world) as bot:
        assert bot.ready_count == 1
        assert bot.user is not None and bot.user.id == fake.bot_user.id
        guild = bot.get_guild(world.guild.id)
        assert guild is not None and guild.get_channel(world.channel.id) is not None
        assert guild.me.guild_permissions.attach_files
        fetched = await bot.tree.fetch_commands(guild=discord.Object(world.guild.id))
        assert [c.name for c in fetched] == ["demo"]
    paths = [(r.method, r.path) for r in fake.requests]
    assert paths[:3] == [
        ("GET", "/api/v10/users/@me"),
        ("GET", "/api/v10/oauth2/applications/@me"),
        ("PUT", f"/api/v10/applications/{fake.application_id}/guilds/{world.guild.id}/commands"),
    ]
    sync = await fake.wait_for_sync(world.guild)
    (demo,) = sync.commands
    assert demo["name"] == "demo" and demo["id"].isdigit()
    subs = {o["name"] for o in demo["options"]}
    assert {"ping", "config", "post", "dm", "feedback"} <= subs
    assert fake.gateway.identifies[0]["intents"] == discord.Intents.default().value
    async with aiohttp.ClientSession() as session:  # gotcha 1: no charset after the type
        headers = {"Authorization": f"Bot {fake.token}"}
        async with session.get(f"{fake.api_base}/users/@me", headers=headers) as resp:
            assert resp.headers["Content-Type"] == "application/json"
            assert (await resp.json())["id"] == str(fake.bot_user.id)


async def test_slash_command_answers_ephemerally(fake: FakeDiscord, world: World) -> None:
    async with running(fake, world):
        rec = await fake.inject_slash(
            world.guild, world.channel, world.alice, "demo", subcommand="ping"
        )
        callback = await rec  # the same as: await rec.response()
    assert callback.type == 4 and callback.ephemeral and callback.content == "pong"
    assert rec.original is not None and rec.original.ephemeral


async def test_permission_check_uses_member_permissions(fake: FakeDiscord, world: World) -> None:
    assert not fake.permissions(world.guild, world.alice, world.channel).manage_guild
    assert fake.permissions(world.guild, world.mod, world.channel).manage_guild
    owner = world.guild.members[world.guild.owner_id]
    assert fake.permissions(world.guild, owner) == discord.Permissions.all()
    async with running(fake, world):
        refused = await fake.inject_slash(
            world.guild, world.channel, world.alice, "demo", subcommand="config"
        )
        accepted = await fake.inject_slash(
            world.guild, world.channel, world.mod, "demo", subcommand="config"
        )
        by_owner = await fake.inject_slash(
            world.guild, world.channel, owner, "demo", subcommand="config"
        )
        assert (await refused.response()).content == "You need Manage Server."
        assert (await accepted.response()).content == "Settings saved."
        assert (await by_owner.response()).content == "Settings saved."
    assert refused.payload["member"]["permissions"] == str(
        fake.permissions(world.guild, world.alice, world.channel).value
    )


async def test_post_clip_then_click_updates_message(fake: FakeDiscord, world: World) -> None:
    async with running(fake, world) as bot:
        rec = await fake.inject_slash(
            world.guild, world.channel, world.mod, "demo", {"clip_id": 7}, subcommand="post"
        )
        assert (await rec.response()).type == 5
        (followup,) = await rec.wait_followups(1)
        posted = await fake.wait_for_message(lambda m: m.attachments != [], channel=world.channel)
        assert followup is rec.original and followup.ephemeral and not followup.loading
        assert followup.content.startswith("Posted https://discord.com/channels/")
        assert posted.embeds[0]["title"] == "Clip 7"
        assert posted.attachments[0].filename == "clip7.mp4"
        assert posted.file("clip7.mp4") == b"\x00fake-mp4" * 8
        assert posted.custom_ids() == ["demo:approve:7"]

        click = await fake.inject_button(posted, "demo:approve:7", world.alice)
        callback = await click.response()
        assert bot.is_ready()
    assert callback.type == 7
    edit = fake.edits[-1]
    assert edit.message is posted and edit.via == "interaction" and edit.interaction_id == click.id
    assert posted.content == "Clip 7 approved by alice"
    assert (
        posted.custom_ids() == ["demo:approve:7"] and posted.attachments[0].filename == "clip7.mp4"
    )


async def test_button_survives_restart_but_not_without_registration(
    fake: FakeDiscord, world: World
) -> None:
    async with running(fake, world) as bot:
        posted = await bot.post_clip(world.channel.id, 42, b"clip")
    stored = fake.find_message(posted.id)
    assert stored is not None

    async with running(fake, world) as restarted:
        click = await fake.inject_button(stored, "demo:approve:42", world.mod)
        assert (await click.response()).type == 7
        assert restarted.ready_count == 1
    assert stored.content == "Clip 42 approved by mod"

    async with running(fake, world, dynamic=False):  # control: nothing knows the button
        ignored = await fake.inject_button(stored, "demo:approve:42", world.alice, ack_timeout=0.5)
        with pytest.raises(InteractionFailed):
            await ignored.response()
    assert ignored.expired and ignored.callback is None
    assert len(fake.gateway.identifies) == 3


async def test_dm_open_and_closed(fake: FakeDiscord, world: World) -> None:
    async with running(fake, world) as bot:
        rec = await fake.inject_slash(
            world.guild, world.channel, world.mod, "demo", {"member": world.alice}, subcommand="dm"
        )
        assert (await rec.response()).content == "Sent."
        (dm,) = fake.dms
        assert dm.content == "Hello alice, a clip is waiting"
        assert fake.world.channel(dm.channel_id).recipient_ids == [world.alice.id]

        closed = await fake.inject_slash(
            world.guild, world.channel, world.mod, "demo", {"member": world.bob}, subcommand="dm"
        )
        assert (await closed.response()).content == "DMs closed (50007)"
        user = await bot.fetch_user(world.bob.id)
        with pytest.raises(discord.Forbidden) as excinfo:
            await user.send("direct")
    assert excinfo.value.code == 50007 and excinfo.value.status == 403
    assert len(fake.dms) == 1


async def test_modal_opens_and_submit_is_handled(fake: FakeDiscord, world: World) -> None:
    async with running(fake, world):
        opened = await fake.inject_slash(
            world.guild, world.channel, world.alice, "demo", subcommand="feedback"
        )
        callback = await opened.response()
        assert callback.type == 9 and opened.modal is not None
        assert opened.modal["custom_id"] == "demo:feedback"
        submit = await fake.inject_modal_submit(opened, {"demo:feedback:note": "great clip"})
        answer = await submit.response()
    assert answer.type == 4 and answer.ephemeral and answer.content == "Thanks: great clip"
    with pytest.raises(InvalidInteraction):
        await fake.inject_modal_submit(submit, {})


async def test_oversize_file_is_refused_with_40005(fake: FakeDiscord, world: World) -> None:
    async with running(fake, world) as bot:
        channel = bot.get_channel(world.channel.id)
        assert isinstance(channel, discord.TextChannel)
        big = discord.File(io.BytesIO(b"x" * (UPLOAD_LIMIT + 1)), filename="big.mp4")
        with pytest.raises(discord.HTTPException) as excinfo:
            await channel.send(file=big)
        ok = await channel.send(
            file=discord.File(io.BytesIO(b"x" * UPLOAD_LIMIT), filename="ok.mp4")
        )
    assert excinfo.value.status == 413 and excinfo.value.code == 40005
    assert [e.code for e in fake.errors] == [40005]
    assert fake.find_message(ok.id) is not None and ok.attachments[0].size == UPLOAD_LIMIT


async def test_embed_limits_are_discords(fake: FakeDiscord, world: World) -> None:
    """Each embed's own limits, and 6000 characters summed over all embeds of one message."""
    async with running(fake, world) as bot:
        channel = bot.get_channel(world.channel.id)
        assert isinstance(channel, discord.TextChannel)
        refused: dict[str, str] = {}
        cases: dict[str, list[discord.Embed]] = {
            "description": [discord.Embed(description="x" * 4097)],
            "title": [discord.Embed(title="x" * 257)],
            "field value": [discord.Embed().add_field(name="n", value="x" * 1025)],
            "footer": [discord.Embed().set_footer(text="x" * 2049)],
            "author": [discord.Embed().set_author(name="x" * 257)],
            "26 fields": [_fields(26)],
            "total over embeds": [discord.Embed(description="x" * 3001)] * 2,
        }
        for name, embeds in cases.items():
            with pytest.raises(discord.HTTPException) as excinfo:
                await channel.send(embeds=embeds)
            assert excinfo.value.code == 50035, name
            refused[name] = excinfo.value.text
        fits = await channel.send(embeds=[discord.Embed(description="x" * 600)] * 10)
    assert len(fake.errors) == len(cases)
    assert "embeds.0.description" in refused["description"]
    assert "embeds.0.fields" in refused["26 fields"]
    assert "Embed size exceeds maximum size of 6000" in refused["total over embeds"]
    assert len(fits.embeds) == 10


def _fields(n: int) -> discord.Embed:
    embed = discord.Embed()
    for i in range(n):
        embed.add_field(name=f"f{i}", value="v")
    return embed


async def test_double_acknowledgement_surfaces_40060(fake: FakeDiscord, world: World) -> None:
    async with running(fake, world) as bot:
        rec = await fake.inject_slash(
            world.guild, world.channel, world.alice, "demo", subcommand="double"
        )
        assert (await rec.response()).content == "first"
        await fake.wait_for(lambda: "double" in bot.observed)
    assert bot.observed["double"] == 40060
    assert [e.code for e in rec.errors] == [40060]


async def test_late_ack_and_early_followup_are_refused(fake: FakeDiscord, world: World) -> None:
    async with running(fake, world) as bot:
        slow = await fake.inject_slash(
            world.guild,
            world.channel,
            world.alice,
            "demo",
            {"delay": 0.4},
            subcommand="slow",
            ack_timeout=0.2,
        )
        with pytest.raises(InteractionFailed):
            await slow.response()
        early = await fake.inject_slash(
            world.guild, world.channel, world.alice, "demo", subcommand="early"
        )
        assert (await early.response()).content == "ok"
        await fake.wait_for(lambda: "slow" in bot.observed and "early" in bot.observed)
    assert bot.observed == {"slow": 10062, "early": 10015}


async def test_autocomplete_returns_choices(fake: FakeDiscord, world: World) -> None:
    async with running(fake, world):
        rec = await fake.inject_autocomplete(
            world.guild,
            world.channel,
            world.alice,
            "demo",
            {"streamer": "x"},
            "streamer",
            subcommand="pick",
        )
        callback = await rec.response()
    assert callback.type == 8
    assert [c["value"] for c in callback.choices] == ["xqc", "xena"]


async def test_gateway_resume_and_reidentify(fake: FakeDiscord, world: World) -> None:
    async with running(fake, world) as bot:
        await fake.drop_gateway()
        # Sent while the bot is away: buffered in the session and replayed on RESUME.
        rec = await fake.inject_slash(
            world.guild, world.channel, world.alice, "demo", subcommand="ping"
        )
        assert (await rec.response()).content == "pong"
        assert len(fake.gateway.resumes) == 1 and len(fake.gateway.identifies) == 1

        bot.ready.clear()
        await fake.drop_gateway(invalidate=True)
        await asyncio.wait_for(bot.ready.wait(), 10.0)
        assert bot.ready_count == 2 and len(fake.gateway.identifies) == 2
        # discord.py 2.7.1 re-identifies on the stale resume URL, not DEFAULT_GATEWAY.
        assert fake.gateway.connects == ["/gateway"] + ["/gateway-resume"] * 3
        again = await fake.inject_slash(
            world.guild, world.channel, world.alice, "demo", subcommand="ping"
        )
        assert (await again.response()).content == "pong"


async def test_impossible_interactions_raise_in_the_test(fake: FakeDiscord, world: World) -> None:
    async with running(fake, world) as bot:
        with pytest.raises(InvalidInteraction, match="not synced"):
            await fake.inject_slash(world.guild, world.channel, world.alice, "nope")
        with pytest.raises(InvalidInteraction, match="INTEGER"):
            await fake.inject_slash(
                world.guild, world.channel, world.alice, "demo", {"clip_id": "7"}, subcommand="post"
            )
        with pytest.raises(InvalidInteraction, match=">= 1"):
            await fake.inject_slash(
                world.guild, world.channel, world.alice, "demo", {"clip_id": 0}, subcommand="post"
            )
        with pytest.raises(InvalidInteraction, match="missing required"):
            await fake.inject_slash(
                world.guild, world.channel, world.alice, "demo", subcommand="post"
            )
        with pytest.raises(InvalidInteraction, match="subcommand"):
            await fake.inject_slash(world.guild, world.channel, world.alice, "demo")
        posted = await bot.post_clip(world.channel.id, 1, b"x")
        with pytest.raises(InvalidInteraction, match="no component"):
            await fake.inject_button(posted.id, "demo:reject:1", world.alice)
        with pytest.raises(discord.NotFound):
            await bot.http.request(discord.http.Route("GET", "/guilds/{guild_id}/bans", guild_id=1))
        assert [(r.method, r.path) for r in fake.unhandled] == [("GET", "/api/v10/guilds/1/bans")]
        fake.unhandled.clear()  # recorded as it should be; keep the fixture's check meaningful
        hidden = fake.add_channel(world.guild, "staff")
        fake.set_overwrite(hidden, world.guild.everyone_role, deny=Perm.VIEW_CHANNEL)
        with pytest.raises(InvalidInteraction, match="cannot see"):
            await fake.inject_slash(world.guild, hidden, world.alice, "demo", subcommand="ping")
    assert not fake.interactions


async def test_permission_math_matches_discord_rules(fake: FakeDiscord, world: World) -> None:
    """Overwrites apply @everyone, then roles, then the member; admin and owner bypass them."""
    staff = fake.add_channel(world.guild, "staff")
    fake.set_overwrite(staff, world.guild.everyone_role, deny=Perm.VIEW_CHANNEL)
    fake.set_overwrite(staff, world.mods, allow=Perm.VIEW_CHANNEL, deny=Perm.SEND_MESSAGES)
    fake.set_overwrite(staff, world.mod, allow=Perm.SEND_MESSAGES)
    assert fake.permissions(world.guild, world.alice, staff).value == 0  # no view, nothing
    in_staff = fake.permissions(world.guild, world.mod, staff)
    assert in_staff.view_channel and in_staff.send_messages and in_staff.manage_guild
    fake.set_overwrite(staff, world.mod, deny=Perm.SEND_MESSAGES)
    denied = fake.permissions(world.guild, world.mod, staff)
    assert not denied.send_messages and not denied.attach_files  # implied by send
    admins = fake.add_role(world.guild, "Admins", discord.Permissions(administrator=True))
    fake.set_member_roles(world.guild, world.alice, [admins])
    assert fake.permissions(world.guild, world.alice, staff) == discord.Permissions.all()


async def test_bot_missing_permission_gets_50013(fake: FakeDiscord, world: World) -> None:
    bot_member = world.guild.members[fake.bot_user.id]
    fake.set_overwrite(world.channel, bot_member, deny=Perm.ATTACH_FILES)
    async with running(fake, world) as bot:
        channel = bot.get_channel(world.channel.id)
        assert isinstance(channel, discord.TextChannel)
        with pytest.raises(discord.Forbidden) as excinfo:
            await channel.send(file=discord.File(io.BytesIO(b"x"), filename="x.mp4"))
        await channel.send("text still works")
    assert excinfo.value.code == 50013
    assert [m.content for m in fake.channel_messages(world.channel)] == ["text still works"]


async def test_response_file_edits_and_deletes(fake: FakeDiscord, world: World) -> None:
    async with running(fake, world) as bot:
        rec = await fake.inject_slash(
            world.guild, world.channel, world.alice, "demo", subcommand="progress"
        )
        callback = await rec.response()
        (edit,) = await rec.wait_original_edits(1)
        posted = await bot.post_clip(world.channel.id, 3, b"clip")
        await posted.edit(content="rejected", attachments=[], view=None)
        await posted.delete()
    assert callback.type == 4 and callback.files[0].filename == "thumb.png"
    assert rec.original is not None and rec.original.file("thumb.png") == b"\x89PNG-thumb"
    assert edit.via == "webhook" and edit.changes == {"content": "done"}
    assert rec.original.content == "done" and rec.original.attachments  # kept
    stored = fake.find_message(posted.id)
    assert stored is not None and stored.deleted and stored in fake.deleted
    rest_edit = fake.edits[-1]
    assert rest_edit.via == "rest" and rest_edit.message is stored
    assert stored.content == "rejected" and stored.attachments == [] and stored.components == []


async def test_select_on_an_ephemeral_message(fake: FakeDiscord, world: World) -> None:
    async with running(fake, world):
        rec = await fake.inject_slash(
            world.guild, world.channel, world.alice, "demo", subcommand="choose"
        )
        await rec.response()
        assert rec.original is not None and rec.original.custom_ids() == ["demo:choose"]
        with pytest.raises(InvalidInteraction, match="ephemeral"):
            await fake.inject_select(rec.original, "demo:choose", world.mod, ["a"])
        with pytest.raises(InvalidInteraction, match="among"):
            await fake.inject_select(rec.original, "demo:choose", world.alice, ["z"])
        chosen = await fake.inject_select(rec.original, "demo:choose", world.alice, ["b"])
        assert (await chosen.response()).type == 7
    assert rec.original.content == "chose b" and rec.original.components == []
