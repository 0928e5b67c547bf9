"""``FakeDiscord``: REST v10 + gateway v10 in one aiohttp app on 127.0.0.1, for the real,
unmodified discord.py to connect to (see /work/shared/discord-testing.md).

The class wires the pieces together (world, REST, interactions, gateway), owns the recorded
traffic and the message store the routes write to; the test-facing methods are in public_api.
"""

from __future__ import annotations

import asyncio
import mimetypes
import traceback
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Self, TypeVar

import discord
import discord.gateway
import discord.http
import yarl
from aiohttp import web

from .commands import CommandStore
from .gateway import DIRECT_MESSAGES, GUILD_MESSAGES, MESSAGE_CONTENT, Gateway
from .http_util import (
    BODY_KEY,
    INTERACTION_KEY,
    ApiException,
    RateLimited,
    UploadedFile,
    json_response,
    parse_body,
)
from .interactions import Injector
from .messages import AttachmentFactory, Message, NonceLedger, StoredAttachment
from .public_api import PublicApi
from .records import (
    ApiError,
    CommandSync,
    InteractionCallback,
    InteractionRecord,
    MessageEdit,
    Notifier,
    RecordedRequest,
    ScriptedError,
    ScriptedRateLimit,
)
from .responses import InteractionApi
from .rest import API, RestApi
from .state import DM_UPLOAD_LIMIT, Channel, Snowflakes, User, World

T = TypeVar("T")
_NO_AUTH_PREFIXES = (f"{API}/webhooks/", f"{API}/interactions/", "/attachments/")
_GATEWAY_PATHS = ("/gateway", "/gateway-resume")


class DiscordPatch:
    """Points discord.py at the fake on creation; ``restore()`` or leaving the ``with`` block
    puts the real Discord addresses back."""

    def __init__(self, rest_base: str, gateway_url: str) -> None:
        self._old = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
        discord.http.Route.BASE = rest_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
        self._active = True

    def restore(self) -> None:
        if self._active:
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self._old
            self._active = False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.restore()

    async def __aenter__(self) -> Self:  # so it can share an ``async with`` with the fake
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.restore()


class FakeDiscord(PublicApi):
    """A scriptable Discord. Use as ``async with FakeDiscord() as fake, fake.patch_discord():``.

    ``ack_timeout`` is Discord's 3 s to acknowledge an interaction; ``heartbeat_interval`` is
    sent in HELLO (seconds)."""

    def __init__(
        self,
        *,
        token: str = "fake-bot-token",  # noqa: S107 -- a fake, never a secret
        bot_name: str = "ClipBot",
        ack_timeout: float = 3.0,
        heartbeat_interval: float = 41.25,
    ) -> None:
        self.ids = Snowflakes()
        self.token = token
        self.bot_user = User(self.ids(), bot_name, bot=True)
        self.application_id = self.bot_user.id  # modern apps: bot user ID == application ID
        self.world = World(self.ids, self.bot_user)
        self.app_owner = self.world.add_user("app-owner")
        self.ack_timeout = ack_timeout
        self.notifier = Notifier()
        self.commands = CommandStore(self.ids, self.application_id)
        self.gateway = Gateway(self, heartbeat_interval)
        self._injector = Injector(self)
        # Everything recorded, in order.
        self.requests: list[RecordedRequest] = []
        self.unhandled: list[RecordedRequest] = []
        self.errors: list[ApiError] = []
        self.rate_limits: list[ScriptedRateLimit] = []
        self.scripted_errors: list[ScriptedError] = []
        self.internal_errors: list[str] = []
        self.messages: list[Message] = []
        self.edits: list[MessageEdit] = []
        self.deleted: list[Message] = []
        self.callbacks: list[InteractionCallback] = []
        self.command_syncs: list[CommandSync] = []
        self.interactions: dict[int, InteractionRecord] = {}
        self.interactions_by_token: dict[str, InteractionRecord] = {}
        self.attachments: dict[int, StoredAttachment] = {}
        self._messages_by_id: dict[int, Message] = {}
        #: enforce_nonce on Create Message; set ``nonces.window_s`` to shorten "a few minutes".
        self.nonces = NonceLedger()
        self._timers: list[Any] = []
        self._runner: web.AppRunner | None = None
        self._catch_all: web.AbstractResource | None = None
        self.port = 0

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application(middlewares=[self._middleware], client_max_size=1 << 30)
        RestApi(self).register(app.router)
        InteractionApi(self).register(app.router)
        for path in _GATEWAY_PATHS:
            app.router.add_get(path, self.gateway.handle)
        self._catch_all = app.router.add_route("*", "/{tail:.*}", self._unhandled).resource
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)  # 0 (any) unless set before
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def close(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        if self._runner is not None:
            await self.gateway.close_all()
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        return f"{self.base_url}{API}"

    @property
    def ws_base(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def gateway_url(self) -> str:
        return f"{self.ws_base}/gateway"

    def patch_discord(self) -> DiscordPatch:
        """Set ``Route.BASE`` and ``DiscordWebSocket.DEFAULT_GATEWAY`` now; restore on exit."""
        return DiscordPatch(self.api_base, self.gateway_url)

    def assert_clean(self) -> None:
        """Fail when the bot hit a route the fake does not know or the fake itself broke."""
        assert not self.unhandled, (
            f"unhandled routes: {[(r.method, r.path) for r in self.unhandled]}"
        )
        assert not self.internal_errors, "fake Discord failed:\n" + "\n".join(self.internal_errors)

    # -- HTTP plumbing --------------------------------------------------------------------
    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.path in _GATEWAY_PATHS:
            return await handler(request)
        record = RecordedRequest(request.method, request.path, dict(request.query))
        self.requests.append(record)
        try:
            parsed = await parse_body(request)
            record.json, record.files = parsed.json, parsed.files
            request[BODY_KEY] = parsed
            routed = request.match_info.route.resource is not self._catch_all
            authorized = request.headers.get("Authorization") == f"Bot {self.token}"
            if routed and not authorized and not request.path.startswith(_NO_AUTH_PREFIXES):
                raise ApiException(401, 0, "401: Unauthorized")
            self._take_rate_limit(request.method, request.path)
            response = await handler(request)
            self._take_error_after(request.method, request.path, response.status)
        except ApiException as exc:
            error = ApiError(request.method, request.path, exc.status, exc.code, exc.message)
            self.errors.append(error)
            rec = request.get(INTERACTION_KEY)
            if rec is not None:
                rec.errors.append(error)
            response = exc.response()
        except (KeyError, ValueError, TypeError, AttributeError):
            # A bug or gap in the fake: answer 400 (a 5xx makes discord.py retry for seconds).
            self.internal_errors.append(
                f"{request.method} {request.path}\n{traceback.format_exc()}"
            )
            response = json_response({"message": "fake Discord internal error", "code": 0}, 400)
        record.status = response.status
        self.notify()
        return response

    def _take_rate_limit(self, method: str, path: str) -> None:
        """Raise the first scripted 429 or error that matches this request (rate_limit_next,
        fail_next)."""
        for limit in self.rate_limits:
            if limit.count > 0 and limit.method == method and limit.path.search(path):
                limit.count -= 1
                raise RateLimited(limit.retry_after, f"fake-{id(limit):x}")
        for err in self.scripted_errors:
            if err.count > 0 and not err.after and err.method == method and err.path.search(path):
                err.count -= 1
                raise ApiException(err.status, err.code, err.message)

    def _take_error_after(self, method: str, path: str, status: int) -> None:
        """Replace a successful answer with the first matching `fail_after_next` error: the
        request took effect, the client only sees the error."""
        if status >= 300:
            return
        for err in self.scripted_errors:
            if err.count > 0 and err.after and err.method == method and err.path.search(path):
                err.count -= 1
                raise ApiException(err.status, err.code, err.message)

    async def _unhandled(self, request: web.Request) -> web.Response:
        self.unhandled.append(self.requests[-1])
        return json_response({"message": "404: Not Found", "code": 0}, 404)

    def notify(self) -> None:
        self.notifier.notify()

    # -- message store (used by the route modules) ----------------------------------------
    def find_message(self, message_id: int) -> Message | None:
        return self._messages_by_id.get(message_id)

    def bot_permissions(self, channel: Channel) -> int:
        return self.world.permissions(channel.guild_id or 0, self.bot_user, channel)

    def upload_limit(self, channel: Channel) -> int:
        return DM_UPLOAD_LIMIT if channel.is_dm else self.world.guild(channel.guild_id).upload_limit

    def store_attachment(
        self, channel_id: int, filename: str, data: bytes, content_type: str | None = None
    ) -> StoredAttachment:
        aid = self.ids()
        guessed = content_type or mimetypes.guess_type(filename)[0]
        url = f"{self.base_url}/attachments/{channel_id}/{aid}/{filename}"
        att = StoredAttachment(aid, filename, data, url, guessed)
        self.attachments[aid] = att
        return att

    def attachment_maker(self, channel_id: int) -> AttachmentFactory:
        def make(upload: UploadedFile, entry: dict[str, Any]) -> StoredAttachment:
            name = entry.get("filename") or upload.filename
            ctype = (
                upload.content_type if upload.content_type != "application/octet-stream" else None
            )
            att = self.store_attachment(channel_id, name, upload.data, ctype)
            att.description = entry.get("description")
            return att

        return make

    def new_message(
        self,
        channel: Channel,
        *,
        author: User | None = None,
        interaction: InteractionRecord | None = None,
    ) -> Message:
        msg = Message(self.ids(), channel.id, channel.guild_id, author or self.bot_user)
        if interaction is not None:
            msg.webhook_id = msg.application_id = self.application_id
            msg.interaction_id = interaction.id
            meta: dict[str, Any] = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": self.world.users[interaction.user_id].payload(),
                "authorizing_integration_owners": interaction.payload[
                    "authorizing_integration_owners"
                ],
            }
            if interaction.source_message is not None:
                meta["interacted_message_id"] = str(interaction.source_message.id)
            msg.interaction_metadata = meta
        return msg

    def store_message(self, msg: Message) -> None:
        self.messages.append(msg)
        self._messages_by_id[msg.id] = msg
        if not msg.ephemeral:
            self.world.channel(msg.channel_id).last_message_id = msg.id
        self._announce("MESSAGE_CREATE", msg)
        self.notify()

    def record_edit(
        self,
        msg: Message,
        via: str,
        changes: dict[str, Any],
        files: list[UploadedFile],
        *,
        interaction_id: int | None = None,
    ) -> MessageEdit:
        edit = MessageEdit(msg, via, changes, files, msg.payload(), interaction_id)
        self.edits.append(edit)
        self._announce("MESSAGE_UPDATE", msg)
        self.notify()
        return edit

    def delete_message(self, msg: Message) -> None:
        msg.deleted = True
        self.deleted.append(msg)
        if not msg.ephemeral:
            data = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
            if msg.guild_id is not None:
                data["guild_id"] = str(msg.guild_id)
            self.gateway.dispatch(
                "MESSAGE_DELETE", data, intent=GUILD_MESSAGES if msg.guild_id else DIRECT_MESSAGES
            )
        self.notify()

    def _announce(self, event: str, msg: Message) -> None:
        """MESSAGE_CREATE/UPDATE to sessions with the right intents; others' content needs the
        privileged message content intent, as on Discord."""
        if msg.ephemeral or msg.loading:
            return
        data = msg.payload(with_nonce=event == "MESSAGE_CREATE")
        if msg.guild_id is not None:
            member = self.world.guild(msg.guild_id).members.get(msg.author.id)
            if member is not None:
                data["member"] = member.payload(with_user=False)
        stripped = data | {"content": "", "embeds": [], "attachments": [], "components": []}
        own = msg.author.id == self.bot_user.id or msg.is_dm
        for session in self.gateway.live_sessions():
            if session.intents & (GUILD_MESSAGES if msg.guild_id else DIRECT_MESSAGES):
                full = own or session.intents & MESSAGE_CONTENT
                session.dispatch(event, data if full else stripped)

    def record_sync(self, guild_id: int | None, commands: list[dict[str, Any]]) -> None:
        self.command_syncs.append(CommandSync(guild_id, commands))
        self.notify()

    def register_interaction(self, rec: InteractionRecord, timeout: float) -> None:
        self.interactions[rec.id] = rec
        self.interactions_by_token[rec.token] = rec
        self._timers.append(asyncio.get_running_loop().call_later(timeout, self._expire, rec))

    def _expire(self, rec: InteractionRecord) -> None:
        if rec.callback is None:
            rec.expired = True
            self.notify()
