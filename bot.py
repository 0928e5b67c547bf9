"""Kick clip bot: `python bot.py [--config config.yaml] [--check | --health]`.

Builds everything here and passes it down (no module-level bot, no import-time settings):
config -> storage -> Kick client -> feeds/watches/pipeline (engine) -> the discord.py Bot with
its cogs. setup_hook restores the watches, resumes unfinished clips and syncs the slash
commands; SIGTERM/SIGINT stop feeds, recorders, scheduler and storage within seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sqlite3
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import discord
from discord.ext import commands

from cogs.connect import point_discord_at, wait_for_discord
from engine.config import Config, ConfigError, default_config_path, load_config
from engine.core.app import App
from engine.core.feed import Feed
from engine.core.health import report as health_report
from engine.core.history import StatsHistory
from engine.core.library import Library
from engine.core.logging_setup import configure_logging
from engine.core.pipeline import ClipPipeline
from engine.core.private import private_dir, restrict_umask
from engine.core.watch_hub import SessionTracker, WatchHub
from engine.detection.detector import Detector
from engine.detection.emotes import EmoteParser
from engine.kick.api import KickApi
from engine.kick.chat_pool import ChatPool
from publishing.wiring import Publisher, build_publisher, check_config, font_check, youtube_auth
from storage.clip_library import ClipLibraryRepo
from storage.clips import ClipRepo
from storage.db import Database
from storage.profiles import ProfileRepo
from storage.publish import PublishRepo
from storage.sessions import SessionRepo
from storage.settings import SettingsRepo
from storage.watches import ChannelCacheRepo, WatchRepo
from web import launch as dashboard

log = logging.getLogger("bot")

COGS = (
    "cogs.errors",
    "cogs.admin",
    "cogs.watch",
    "cogs.thresholds",
    "cogs.stats",
    "cogs.alerts",
    "cogs.review",
    "cogs.maintenance",
    "cogs.health",
    "cogs.publish",
    "cogs.dashboard",
)


class StartupError(Exception):
    """A setup problem the operator must fix (exit 2, one line): not a bug, no traceback."""


#: SIGTERM to exit: Docker (and systemd's default) kill 10 s after the signal.
SHUTDOWN_DEADLINE_S = 9.0
#: Of that, kept for closing the database and the gateway, whatever overran before.
CLOSE_RESERVE_S = 1.0


@dataclass
class Services:
    """Everything the cogs use, built once and closed in reverse order."""

    config: Config
    db: Database
    kick: KickApi
    settings: SettingsRepo
    watches: WatchRepo
    clips: ClipRepo
    hub: WatchHub
    pipeline: ClipPipeline
    history: StatsHistory
    app: App
    extra: dict[str, Any] = field(default_factory=dict)
    publisher: Publisher | None = None  # publishing/: the service both fronts call

    async def close(self) -> None:
        await self.stop_work()
        await self.close_io()

    async def stop_work(self) -> None:
        """Feeds, recorders, moments in flight, clip jobs: what can take seconds."""
        if self.publisher is not None:  # uploads in flight keep their session for the next start
            await self.publisher.service.stop()
        await self.app.stop()

    async def close_io(self) -> None:
        """Sockets and the database: quick, and always done (aiosqlite's thread would keep
        the process alive)."""
        try:
            await self.kick.aclose()
            if self.publisher is not None:
                await self.publisher.http.aclose()
        finally:
            await self.db.close()


async def build_services(
    config: Config,
    *,
    kick_client_id: str | None = None,
    kick_client_secret: str | None = None,
    feed_kwargs: dict[str, Any] | None = None,
    publish_env: dict[str, str] | None = None,
) -> Services:
    """Open storage and wire the engine; nothing touches Discord or starts a feed yet."""
    st = config.storage
    try:
        for folder in (st.data_dir, st.segments_dir, st.clips_dir):  # 0700, also an old 0755
            private_dir(folder)
        db = await Database.open(st.database)
    except (OSError, sqlite3.Error) as exc:
        raise StartupError(
            f"cannot open the database {st.database} ({type(exc).__name__}: {exc}); check "
            "storage.database / storage.data_dir and that the folder is writable by this user"
        ) from exc
    settings, watches, clips = SettingsRepo(db), WatchRepo(db), ClipRepo(db)
    kick = KickApi(
        config.kick,
        client_id=kick_client_id,
        client_secret=kick_client_secret,
        cache=ChannelCacheRepo(db),
        known_chatrooms=config.kick.chatrooms,
    )

    # Every Feed's chat on a few shared Pusher sockets, not one socket per streamer.
    chat = ChatPool(config.kick, EmoteParser(config.triggers.emote_flood.plain_emotes))

    def make_feed(slug: str) -> Feed:
        return Feed(
            slug,
            config,
            kick,
            segments_dir=st.segments_dir,
            clips_dir=st.clips_dir,
            **{"chat_pool": chat, **(feed_kwargs or {})},
        )

    def make_detector(slug: str, overrides: Any, state: Any) -> Detector:
        return Detector(slug, config, overrides=overrides, state=state)

    async def post_later(clip_id: int) -> None:
        # Replaced by the review cog once it is loaded; until then clips stay "ready" and are
        # posted by resume() on the next start.
        log.info("clip %s is ready; no poster loaded yet", clip_id)

    def clipper_for(slug: str) -> Any:
        feed = hub.feeds.get(slug)
        return getattr(feed, "clipper", None)

    history = StatsHistory()
    app_ref: list[App] = []

    async def on_moment(guild_id: int, moment: Any) -> None:
        await app_ref[0].on_moment(guild_id, moment)

    hub = WatchHub(make_feed, make_detector, on_moment, SessionTracker(SessionRepo(db)))

    async def upload_limit(guild_id: int) -> int:
        return await app_ref[0].upload_limit(guild_id)

    async def on_ready(clip_id: int) -> None:
        await services.extra.get("poster", post_later)(clip_id)

    pipeline = ClipPipeline(clips, clipper_for, upload_limit, on_ready)
    app = App(
        config, kick, settings, watches, clips, hub, pipeline, history, profiles=ProfileRepo(db)
    )
    app_ref.append(app)
    services = Services(config, db, kick, settings, watches, clips, hub, pipeline, history, app)
    publisher = build_publisher(config, PublishRepo(db), clips, publish_env or os.environ)
    app.review_listeners.append(publisher.service.on_review)
    services.publisher = publisher
    return services


class ClipBot(commands.Bot):
    """The Discord front: cogs translate interactions into App calls."""

    def __init__(self, services: Services, **options: Any) -> None:
        # Slash commands and buttons need no privileged intent; `guilds` keeps roles and
        # channels cached for permission checks and posting.
        intents = discord.Intents.none()
        intents.guilds = True
        # A clip bot never joins voice: the missing voice libraries are not worth two warnings
        # at every start.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            **options,
        )
        self.services = services
        self.app = services.app
        self.config = services.config
        self.shutdown_deadline_s = SHUTDOWN_DEADLINE_S
        self._shutting_down = False

    async def setup_hook(self) -> None:
        for ext in COGS:
            await self.load_extension(ext)
        await self.app.start()
        if self.services.publisher is not None:  # unfinished publish jobs resume
            await self.services.publisher.service.start()
        library = Library(ClipLibraryRepo(self.services.db))  # the web dashboard, beside the feeds
        publisher = self.services.publisher.service if self.services.publisher else None
        await dashboard.start(self, self.config, self.app, library, self.services.extra, publisher)
        guilds = self.config.discord.sync_guilds
        if guilds:
            for gid in guilds:
                guild = discord.Object(id=gid)
                self.tree.copy_global_to(guild=guild)
                try:
                    await self.tree.sync(guild=guild)
                except discord.Forbidden as exc:  # 50001: not in that guild (a typo, kicked)
                    log.error(
                        "cannot register slash commands in guild %s (%s %s): the bot is not in "
                        "it or was invited without the applications.commands scope; fix "
                        "discord.sync_guilds or invite the bot there. Other guilds carry on.",
                        gid,
                        exc.code,
                        exc.text,
                    )
        else:
            await self.tree.sync()
        log.info("ready: %d watches restored", len(self.app.hub.watches))

    async def close(self) -> None:
        """Stop within `shutdown_deadline_s` whatever hangs (Docker kills 10 s after SIGTERM).

        Cogs first: their background work (posting, scheduled jobs) stops while storage is
        still open. Then feeds, recorders and clip jobs. If that overruns its budget, what was
        still running is logged and the rest is abandoned; the database and the gateway are
        closed either way (CLOSE_RESERVE_S is kept for them).
        """
        if self._shutting_down:
            return await super().close()
        self._shutting_down = True
        step = ["unloading the cogs"]

        async def stop_work() -> None:
            step[0] = "stopping the web dashboard"
            await dashboard.stop(self.services.extra)
            for ext in tuple(self.extensions):
                step[0] = f"unloading {ext}"
                try:
                    await self.unload_extension(ext)
                except Exception:
                    log.exception("unloading %s failed", ext)
            step[0] = "stopping feeds, recorders and clip jobs"
            await self.services.stop_work()

        budget = max(0.1, self.shutdown_deadline_s - CLOSE_RESERVE_S)
        try:
            await asyncio.wait_for(stop_work(), budget)
        except TimeoutError:
            me = asyncio.current_task()
            running = sorted(t.get_name() for t in asyncio.all_tasks() if t is not me)
            log.error(
                "shutdown: gave up after %.1f s while %s; still running: %s",
                budget,
                step[0],
                ", ".join(running[:20]) or "nothing",
            )
        except Exception:
            log.exception("shutdown: %s failed", step[0])
        try:
            await asyncio.wait_for(self.services.close_io(), CLOSE_RESERVE_S)
        except Exception:
            log.exception("shutdown: closing storage and the Kick client failed")
        finally:
            await super().close()


async def run(config: Config, token: str) -> int:
    point_discord_at(config)
    try:
        services = await build_services(
            config,
            kick_client_id=os.environ.get("KICK_CLIENT_ID") or None,
            kick_client_secret=os.environ.get("KICK_CLIENT_SECRET") or None,
        )
    except StartupError as exc:
        log.error("%s", exc)
        return 2
    bot = ClipBot(services)
    loop = asyncio.get_running_loop()
    closing: list[asyncio.Task[None]] = []
    stopping = asyncio.Event()

    def ask_stop() -> None:
        stopping.set()
        if not closing:
            log.info("stopping (signal)")
            closing.append(loop.create_task(bot.close()))

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, ask_stop)
    try:
        if await wait_for_discord(config.discord.api_base, stopping):
            await bot.start(token)
    except discord.LoginFailure:
        log.error("Discord refused the token (DISCORD_TOKEN): check it in the developer portal")
        await bot.close()
        return 2
    except (aiohttp.ClientError, OSError) as exc:
        # Lost between the reachability check and the login: exit non-zero without a traceback
        # so the supervisor (Docker's restart policy, systemd) starts us again.
        log.error("lost Discord while logging in (%s); exiting", exc)
        return 1
    finally:
        if closing:
            await closing[0]  # the signal's close, not a second one racing it
        elif not bot.is_closed():
            await bot.close()
    return 0


async def run_youtube_auth(config: Config) -> int:
    """`--youtube-auth`: Google's device flow; the refresh token lands in the database."""
    try:
        db = await Database.open(config.storage.database)
    except (OSError, sqlite3.Error) as exc:
        print(f"bot.py: cannot open the database {config.storage.database}: {exc}", file=sys.stderr)
        return 2
    try:
        return await youtube_auth(config, PublishRepo(db), os.environ)
    finally:
        await db.close()


def main(argv: list[str] | None = None) -> int:
    # Before anything is created: the database, logs, clips and the files ffmpeg and
    # streamlink write (they inherit the umask) are owner-only (engine.core.private).
    restrict_umask()
    ap = argparse.ArgumentParser(prog="bot.py", description="Kick clip bot for Discord")
    ap.add_argument(
        "--config",
        type=Path,
        default=default_config_path(os.environ),
        help="config.yaml to use (default: $CLIPBOT_CONFIG, else the one beside bot.py); "
        "CLIPBOT__SECTION__KEY variables override its keys",
    )
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="check the setup and exit")
    mode.add_argument(
        "--health", action="store_true", help="exit 0 if the running bot's heartbeat is healthy"
    )
    mode.add_argument(
        "--youtube-auth",
        action="store_true",
        help="connect a YouTube channel once (device flow); the refresh token goes to the database",
    )
    args = ap.parse_args(argv)
    try:
        config = load_config(args.config, os.environ)
        check_config(config)
    except ConfigError as exc:
        if args.check:  # same shape as every other check, so the report reads the same
            print(f"FAIL  config: {exc} (hint: fix {args.config} or the variable it names)")
            return 1
        print(f"bot.py: {exc}", file=sys.stderr)
        return 2
    if args.health:  # needs no token and writes nothing: it only reads the heartbeat
        return health_report(config)
    if args.youtube_auth:  # needs no Discord token: only the YouTube client and the database
        return asyncio.run(run_youtube_auth(config))
    token = os.environ.get("DISCORD_TOKEN", "").strip()
    if not token and not args.check:  # refuse before touching the disk (no log file yet)
        print(
            "bot.py: DISCORD_TOKEN is not set: put your bot token in the environment or in .env",
            file=sys.stderr,
        )
        return 2
    # Redacted from every log line.
    env_secrets = ("KICK_CLIENT_SECRET", "YOUTUBE_CLIENT_SECRET", "CLIPBOT_WEB_SECRET")
    secrets = [s for s in (token, *(os.environ.get(n, "") for n in env_secrets)) if s]
    configure_logging(config.logging, secrets)
    if args.check:
        from engine.core.checks import run_checks

        return asyncio.run(run_checks(config, token, extra=[font_check(config)]))
    return asyncio.run(run(config, token))


if __name__ == "__main__":
    raise SystemExit(main())
