"""REST v10 routes a bot uses outside interactions: login, command sync, channels, messages,
DMs, users, guilds, and the attachment "CDN".

Each handler enforces the Discord rule a bot could trip over (Missing Permissions, closed DMs,
upload limit, editing someone else's message) with Discord's status and error code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import validate
from .http_util import (
    BODY_KEY,
    ApiException,
    ParsedBody,
    json_response,
    missing_access,
    missing_permissions,
    unknown,
)
from .messages import EPHEMERAL, Message, apply_body, check_nonce, check_upload_size
from .state import DM_UPLOAD_LIMIT, Channel, Perm

if TYPE_CHECKING:
    from .server import FakeDiscord

API = "/api/v10"


def body_of(request: web.Request) -> tuple[dict[str, Any], ParsedBody]:
    parsed: ParsedBody = request[BODY_KEY]
    data = parsed.json if isinstance(parsed.json, dict) else {}
    return data, parsed


class RestApi:
    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake

    def register(self, router: web.UrlDispatcher) -> None:
        get, post = router.add_get, router.add_post
        get(f"{API}/users/@me", self.get_me)
        get(f"{API}/oauth2/applications/@me", self.get_application)
        get(f"{API}/applications/@me", self.get_application)
        get(f"{API}/gateway", self.get_gateway)
        get(f"{API}/gateway/bot", self.get_gateway)
        for path in (
            f"{API}/applications/{{app}}/commands",
            f"{API}/applications/{{app}}/guilds/{{guild}}/commands",
        ):
            router.add_put(path, self.put_commands)
            get(path, self.get_commands)
        post(f"{API}/users/@me/channels", self.create_dm)
        get(f"{API}/users/{{user}}", self.get_user)
        get(f"{API}/channels/{{channel}}", self.get_channel)
        get(f"{API}/channels/{{channel}}/messages", self.list_messages)
        post(f"{API}/channels/{{channel}}/messages", self.create_message)
        get(f"{API}/channels/{{channel}}/messages/{{message}}", self.get_message)
        router.add_patch(f"{API}/channels/{{channel}}/messages/{{message}}", self.edit_message)
        router.add_delete(f"{API}/channels/{{channel}}/messages/{{message}}", self.delete_message)
        get(f"{API}/guilds/{{guild}}", self.get_guild)
        get(f"{API}/guilds/{{guild}}/channels", self.get_guild_channels)
        get(f"{API}/guilds/{{guild}}/roles", self.get_guild_roles)
        get(f"{API}/guilds/{{guild}}/members/{{user}}", self.get_member)
        get("/attachments/{channel}/{attachment}/{filename}", self.get_attachment)

    # -- login ----------------------------------------------------------------------------
    async def get_me(self, request: web.Request) -> web.Response:
        user = self.fake.bot_user.payload() | {"verified": True, "mfa_enabled": False, "flags": 0}
        return json_response(user)

    async def get_application(self, request: web.Request) -> web.Response:
        fake = self.fake
        return json_response(
            {
                "id": str(fake.application_id),
                "name": fake.bot_user.username,
                "icon": None,
                "description": "fake application",
                "summary": "",
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": fake.app_owner.payload(),
                "team": None,
                "verify_key": "0" * 64,
                "flags": 0,
                "rpc_origins": [],
                "interactions_endpoint_url": None,
                "bot": fake.bot_user.payload(),
            }
        )

    async def get_gateway(self, request: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
        return json_response(
            {"url": f"{self.fake.ws_base}/gateway", "shards": 1, "session_start_limit": limit}
        )

    # -- commands -------------------------------------------------------------------------
    def _scope(self, request: web.Request) -> int | None:
        if int(request.match_info["app"]) != self.fake.application_id:
            raise missing_access()
        guild = request.match_info.get("guild")
        if guild is None:
            return None
        gid = int(guild)
        if gid not in {g.id for g in self.fake.world.bot_guilds()}:
            raise missing_access()  # the bot is not in that guild
        return gid

    async def put_commands(self, request: web.Request) -> web.Response:
        scope = self._scope(request)
        stored = self.fake.commands.overwrite(scope, request[BODY_KEY].json)
        self.fake.record_sync(scope, stored)
        return json_response(stored)

    async def get_commands(self, request: web.Request) -> web.Response:
        return json_response(self.fake.commands.list(self._scope(request)))

    # -- users, guilds --------------------------------------------------------------------
    async def get_user(self, request: web.Request) -> web.Response:
        user = self.fake.world.users.get(int(request.match_info["user"]))
        if user is None:
            raise unknown("User")
        return json_response(user.payload())

    async def create_dm(self, request: web.Request) -> web.Response:
        data, _ = body_of(request)
        user = self.fake.world.users.get(int(data.get("recipient_id") or 0))
        if user is None:
            raise unknown("User")
        return json_response(self.fake.world.channel_payload(self.fake.world.dm_channel(user)))

    def _guild(self, request: web.Request) -> Any:
        guild = self.fake.world.guilds.get(int(request.match_info["guild"]))
        if guild is None or self.fake.bot_user.id not in guild.members:
            raise unknown("Guild")
        return guild

    async def get_guild(self, request: web.Request) -> web.Response:
        payload = self.fake.world.guild_payload(self._guild(request))
        for key in ("channels", "members", "threads", "voice_states", "presences", "joined_at"):
            payload.pop(key, None)
        return json_response(payload)

    async def get_guild_channels(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        return json_response([self.fake.world.channel_payload(c) for c in guild.channels.values()])

    async def get_guild_roles(self, request: web.Request) -> web.Response:
        return json_response([r.payload() for r in self._guild(request).roles.values()])

    async def get_member(self, request: web.Request) -> web.Response:
        member = self._guild(request).members.get(int(request.match_info["user"]))
        if member is None:
            raise unknown("Member")
        return json_response(member.payload())

    # -- channels and messages ------------------------------------------------------------
    def _channel(self, request: web.Request) -> Channel:
        channel = self.fake.world.channels.get(int(request.match_info["channel"]))
        if channel is None:
            raise unknown("Channel")
        if not channel.is_dm:
            perms = self.fake.bot_permissions(channel)
            if not perms & Perm.VIEW_CHANNEL:
                raise missing_access()
        return channel

    def _message(self, request: web.Request, channel: Channel) -> Message:
        msg = self.fake.find_message(int(request.match_info["message"]))
        if msg is None or msg.deleted or msg.channel_id != channel.id or msg.ephemeral:
            raise unknown("Message")
        return msg

    async def get_channel(self, request: web.Request) -> web.Response:
        return json_response(self.fake.world.channel_payload(self._channel(request)))

    async def list_messages(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        if not channel.is_dm and not self.fake.bot_permissions(channel) & Perm.READ_MESSAGE_HISTORY:
            return json_response([])
        query = request.query
        limit = min(int(query.get("limit", 50)), 100)
        before = int(query.get("before", 0)) or None
        after = int(query.get("after", 0)) or None
        found = [
            m
            for m in self.fake.messages
            if m.channel_id == channel.id
            and not m.deleted
            and not m.ephemeral
            and (before is None or m.id < before)
            and (after is None or m.id > after)
        ]
        if after is not None and before is None:
            # The `limit` messages right after `after` (discord.py pages forward from the
            # newest of them), still newest first.
            found.sort(key=lambda m: m.id)
            found = found[:limit][::-1]
        else:
            found.sort(key=lambda m: m.id, reverse=True)
        return json_response([m.payload() for m in found[:limit]])

    async def create_message(self, request: web.Request) -> web.Response:
        fake = self.fake
        channel = self._channel(request)
        data, parsed = body_of(request)
        if channel.is_dm:
            check_upload_size(parsed.files, DM_UPLOAD_LIMIT)
            if not fake.world.users[channel.recipient_ids[0]].dms_open:
                raise ApiException(403, 50007, "Cannot send messages to this user")
        else:
            check_upload_size(parsed.files, fake.world.guild(channel.guild_id).upload_limit)
            perms = fake.bot_permissions(channel)
            if not perms & Perm.SEND_MESSAGES or (parsed.files and not perms & Perm.ATTACH_FILES):
                raise missing_permissions()
        validate.message_body(data, parsed.files)
        nonce = data.get("nonce")
        check_nonce(nonce)
        if nonce is not None and data.get("enforce_nonce"):
            earlier = fake.nonces.existing(fake.bot_user.id, nonce)
            if earlier is not None:  # the same nonce again: that message, nothing new
                return json_response(earlier.payload(with_nonce=True))
        msg = fake.new_message(channel)
        apply_body(msg, data, parsed.files, fake.attachment_maker(channel.id), editing=False)
        msg.flags &= ~EPHEMERAL  # only interaction responses can be ephemeral
        msg.nonce = nonce
        fake.nonces.remember(msg)
        fake.store_message(msg)
        return json_response(msg.payload(with_nonce=True))

    async def get_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        return json_response(self._message(request, channel).payload())

    async def edit_message(self, request: web.Request) -> web.Response:
        fake = self.fake
        channel = self._channel(request)
        msg = self._message(request, channel)
        data, parsed = body_of(request)
        if msg.author.id != fake.bot_user.id:
            raise ApiException(403, 50005, "Cannot edit a message authored by another user")
        check_upload_size(parsed.files, fake.upload_limit(channel))
        validate.message_body(data, parsed.files, editing=True)
        changes = apply_body(
            msg, data, parsed.files, fake.attachment_maker(channel.id), editing=True
        )
        fake.record_edit(msg, "rest", changes, parsed.files)
        return json_response(msg.payload())

    async def delete_message(self, request: web.Request) -> web.Response:
        fake = self.fake
        channel = self._channel(request)
        msg = self._message(request, channel)
        if msg.author.id != fake.bot_user.id:
            if channel.is_dm:
                raise ApiException(403, 50003, "Cannot execute action on a DM channel")
            if not fake.bot_permissions(channel) & Perm.MANAGE_MESSAGES:
                raise missing_permissions()
        fake.delete_message(msg)
        return web.Response(status=204)

    async def get_attachment(self, request: web.Request) -> web.Response:
        att = self.fake.attachments.get(int(request.match_info["attachment"]))
        if att is None or att.filename != request.match_info["filename"]:
            raise unknown("Attachment")
        return web.Response(
            body=att.data, content_type=att.content_type or "application/octet-stream"
        )
