"""Interaction callbacks and the interaction webhook (followups, ``@original``).

Discord's rules are enforced because they are where bots break: 3 s to acknowledge (10062
Unknown interaction), one acknowledgement only (40060), no followup or ``@original`` before the
acknowledgement (10015 Unknown Webhook), response types valid for the interaction type. The
callback answers 200 with ``{"interaction", "resource"}`` because discord.py sends
``?with_response=1`` and a 204 breaks it.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import validate
from .http_util import (
    INTERACTION_KEY,
    ApiException,
    UploadedFile,
    form_error,
    json_response,
    unknown,
)
from .messages import EPHEMERAL, LOADING, Message, apply_body, check_upload_size
from .records import InteractionCallback, InteractionRecord
from .rest import API, body_of

if TYPE_CHECKING:
    from .server import FakeDiscord

#: Response types Discord accepts per interaction type (2 command, 3 component, 4 autocomplete,
#: 5 modal submit).
ALLOWED_RESPONSES = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}


class InteractionApi:
    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake

    def register(self, router: web.UrlDispatcher) -> None:
        router.add_post(f"{API}/interactions/{{iid}}/{{token}}/callback", self.callback)
        router.add_post(f"{API}/webhooks/{{app}}/{{token}}", self.followup)
        path = f"{API}/webhooks/{{app}}/{{token}}/messages/{{message}}"
        router.add_get(path, self.get_webhook_message)
        router.add_patch(path, self.edit_webhook_message)
        router.add_delete(path, self.delete_webhook_message)

    # -- callback -------------------------------------------------------------------------
    async def callback(self, request: web.Request) -> web.Response:
        rec = self.fake.interactions.get(int(request.match_info["iid"]))
        if rec is None or rec.token != request.match_info["token"]:
            raise unknown("interaction")
        request[INTERACTION_KEY] = rec
        body, parsed = body_of(request)
        if rec.callback is not None:
            raise ApiException(400, 40060, "Interaction has already been acknowledged.")
        if rec.expired or asyncio.get_running_loop().time() > rec.deadline:
            rec.expired = True
            raise unknown("interaction")
        ctype = int(body.get("type") or 0)
        data: dict[str, Any] = body.get("data") or {}
        if ctype not in ALLOWED_RESPONSES[rec.type]:
            raise form_error(
                "type", f"Response type {ctype} is invalid for interaction type {rec.type}."
            )
        message = self._respond(rec, ctype, data, parsed.files)
        rec.callback = InteractionCallback(ctype, data, parsed.files, message)
        self.fake.callbacks.append(rec.callback)
        self.fake.notify()
        info: dict[str, Any] = {"id": str(rec.id), "type": rec.type}
        resource: dict[str, Any] = {"type": ctype}
        if message is not None:
            info["response_message_id"] = str(message.id)
            info["response_message_loading"] = message.loading
            info["response_message_ephemeral"] = message.ephemeral
            resource["message"] = message.payload()
        return json_response({"interaction": info, "resource": resource})

    def _respond(
        self, rec: InteractionRecord, ctype: int, data: dict[str, Any], files: list[UploadedFile]
    ) -> Message | None:
        fake = self.fake
        limit = rec.payload["attachment_size_limit"]
        if ctype == 4:
            check_upload_size(files, limit)
            validate.message_body(data, files)
            rec.original = self._response_message(rec, data, files, flags=0)
            return rec.original
        if ctype == 5:
            flags = LOADING | (int(data.get("flags") or 0) & EPHEMERAL)
            rec.original = self._response_message(rec, {}, [], flags=flags)
            return rec.original
        if ctype in (6, 7):
            source = rec.source_message
            if source is None or source.deleted:
                raise form_error("type", "There is no message to update for this interaction.")
            rec.original = source
            if ctype == 6:
                return None
            check_upload_size(files, limit)
            validate.message_body(data, files, editing=True)
            changes = apply_body(
                source, data, files, fake.attachment_maker(source.channel_id), editing=True
            )
            fake.record_edit(source, "interaction", changes, files, interaction_id=rec.id)
            return source
        if ctype == 8:
            validate.autocomplete_choices(data)
        elif ctype == 9:
            validate.modal(data)
        return None

    def _response_message(
        self, rec: InteractionRecord, data: dict[str, Any], files: list[UploadedFile], *, flags: int
    ) -> Message:
        fake = self.fake
        channel = fake.world.channel(rec.channel_id)
        msg = fake.new_message(channel, interaction=rec)
        apply_body(msg, data, files, fake.attachment_maker(channel.id), editing=False)
        msg.flags |= flags
        fake.store_message(msg)
        return msg

    # -- webhook --------------------------------------------------------------------------
    def _record(self, request: web.Request) -> InteractionRecord:
        fake = self.fake
        rec = fake.interactions_by_token.get(request.match_info["token"])
        if rec is None or int(request.match_info["app"]) != fake.application_id:
            raise unknown("Webhook")
        request[INTERACTION_KEY] = rec
        if rec.callback is None or rec.type == 4:
            raise unknown("Webhook")  # nothing to follow up until acknowledged
        return rec

    def _target(self, rec: InteractionRecord, message: str) -> Message:
        if message == "@original":
            target = rec.original
        else:
            target = next((m for m in rec.followups if m.id == int(message)), None)
            if target is None and rec.original is not None and rec.original.id == int(message):
                target = rec.original
        if target is None or target.deleted:
            raise unknown("Message")
        return target

    async def followup(self, request: web.Request) -> web.Response:
        fake = self.fake
        rec = self._record(request)
        data, parsed = body_of(request)
        check_upload_size(parsed.files, rec.payload["attachment_size_limit"])
        validate.message_body(data, parsed.files)
        original = rec.original
        if rec.callback is not None and rec.callback.type == 5 and original and original.loading:
            # The first followup after a defer replaces the "thinking" message and keeps its
            # ephemerality, as on Discord.
            body = {k: v for k, v in data.items() if k != "flags"}
            changes = apply_body(
                original,
                body,
                parsed.files,
                fake.attachment_maker(original.channel_id),
                editing=True,
            )
            original.flags &= ~LOADING
            fake.record_edit(original, "webhook", changes, parsed.files, interaction_id=rec.id)
            msg = original
        else:
            channel = fake.world.channel(rec.channel_id)
            msg = fake.new_message(channel, interaction=rec)
            apply_body(msg, data, parsed.files, fake.attachment_maker(channel.id), editing=False)
            fake.store_message(msg)
        rec.followups.append(msg)
        fake.notify()
        if request.query.get("wait") in ("1", "true", "True"):
            return json_response(msg.payload())
        return web.Response(status=204)

    async def get_webhook_message(self, request: web.Request) -> web.Response:
        rec = self._record(request)
        return json_response(self._target(rec, request.match_info["message"]).payload())

    async def edit_webhook_message(self, request: web.Request) -> web.Response:
        fake = self.fake
        rec = self._record(request)
        msg = self._target(rec, request.match_info["message"])
        data, parsed = body_of(request)
        check_upload_size(parsed.files, rec.payload["attachment_size_limit"])
        validate.message_body(data, parsed.files, editing=True)
        changes = apply_body(
            msg, data, parsed.files, fake.attachment_maker(msg.channel_id), editing=True
        )
        msg.flags &= ~LOADING
        edit = fake.record_edit(msg, "webhook", changes, parsed.files, interaction_id=rec.id)
        if msg is rec.original:
            rec.original_edits.append(edit)
        fake.notify()
        return json_response(msg.payload())

    async def delete_webhook_message(self, request: web.Request) -> web.Response:
        rec = self._record(request)
        self.fake.delete_message(self._target(rec, request.match_info["message"]))
        return web.Response(status=204)
