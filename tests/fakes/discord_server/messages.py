"""Stored messages and attachments, and how a create/edit body changes them.

Everything the bot sends lands here byte for byte (file data included), so tests can assert on
what a user would actually see: content, embeds, components, attachment names and bytes.
"""

from __future__ import annotations

import copy
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .http_util import UploadedFile, form_error, too_large
from .state import User, now_iso

EPHEMERAL = 1 << 6
LOADING = 1 << 7
SUPPRESS_EMBEDS = 1 << 2
IS_COMPONENTS_V2 = 1 << 15
#: Flags a bot may set when sending or editing (others are Discord-owned and ignored).
SETTABLE_FLAGS = (
    EPHEMERAL | SUPPRESS_EMBEDS | IS_COMPONENTS_V2 | (1 << 12)
)  # + SUPPRESS_NOTIFICATIONS


@dataclass(eq=False)
class StoredAttachment:
    id: int
    filename: str
    data: bytes
    url: str
    content_type: str | None = None
    description: str | None = None

    @property
    def size(self) -> int:
        return len(self.data)

    def payload(self, *, with_nonce: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "filename": self.filename,
            "size": self.size,
            "url": self.url,
            "proxy_url": self.url,
        }
        if self.content_type:
            data["content_type"] = self.content_type
        if self.description:
            data["description"] = self.description
        return data


@dataclass(eq=False)
class Message:
    id: int
    channel_id: int
    guild_id: int | None
    author: User
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[StoredAttachment] = field(default_factory=list)
    flags: int = 0
    timestamp: str = field(default_factory=now_iso)
    edited_timestamp: str | None = None
    deleted: bool = False
    tts: bool = False
    webhook_id: int | None = None
    application_id: int | None = None
    interaction_metadata: dict[str, Any] | None = None
    message_reference: dict[str, Any] | None = None
    #: Which interaction created it (responses and followups), for tests to correlate.
    interaction_id: int | None = None
    #: The create request's nonce: Discord echoes it in the create answer and MESSAGE_CREATE
    #: only; a message fetched later (GET, channel history) does not carry it.
    nonce: str | int | None = None

    @property
    def type(self) -> int:
        """20 (CHAT_INPUT_COMMAND) for slash command responses, else 0 (DEFAULT)."""
        meta = self.interaction_metadata
        return 20 if meta is not None and meta.get("type") == 2 else 0

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        return bool(self.flags & LOADING)

    @property
    def is_dm(self) -> bool:
        return self.guild_id is None

    def file(self, filename: str) -> bytes:
        """The bytes of an attachment by filename (KeyError when absent)."""
        for att in self.attachments:
            if att.filename == filename:
                return att.data
        raise KeyError(filename)

    def custom_ids(self) -> list[str]:
        """Every custom_id in the message's components, nested ones included."""
        return [c["custom_id"] for c in iter_components(self.components) if "custom_id" in c]

    def payload(self, *, with_nonce: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "type": self.type,
            "content": self.content,
            "author": self.author.payload(),
            "embeds": [self._resolved(e) for e in self.embeds],
            "components": copy.deepcopy(self.components),
            "attachments": [a.payload() for a in self.attachments],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": self.tts,
            "flags": self.flags,
            "timestamp": self.timestamp,
            "edited_timestamp": self.edited_timestamp,
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        if self.webhook_id is not None:
            data["webhook_id"] = str(self.webhook_id)
        if self.application_id is not None:
            data["application_id"] = str(self.application_id)
        if self.interaction_metadata is not None:
            data["interaction_metadata"] = copy.deepcopy(self.interaction_metadata)
        if self.message_reference is not None:
            data["message_reference"] = copy.deepcopy(self.message_reference)
        if with_nonce and self.nonce is not None:
            data["nonce"] = self.nonce
        return data

    def _resolved(self, embed: dict[str, Any]) -> dict[str, Any]:
        """The embed as Discord returns it: an ``attachment://name`` image or thumbnail comes
        back as that attachment's signed CDN URL (it expires after ~24 h), never as the
        reference the bot sent. A bot that re-sends what it read gets the expiring URL stored."""
        out = copy.deepcopy(embed)
        for key in ("image", "thumbnail"):
            media = out.get(key)
            url = media.get("url") if isinstance(media, dict) else None
            if not isinstance(url, str) or not url.startswith("attachment://"):
                continue
            name = url.removeprefix("attachment://")
            att = next((a for a in self.attachments if a.filename == name), None)
            if att is not None:
                media["url"] = media["proxy_url"] = signed(att.url)
        return out


NONCE_MAX_LENGTH = 25


class NonceLedger:
    """`enforce_nonce` as Discord documents it for Create Message: "If true and nonce is
    present, it will be checked for uniqueness in the past few minutes. If another message was
    created by the same author with the same nonce, that message will be returned and no new
    message will be created." The window ("a few minutes") is ``window_s``; a message deleted
    meanwhile no longer counts (the documentation does not say; this is the cautious reading
    for a bot: a reviewer who deleted a post does not get it back silently)."""

    def __init__(self, window_s: float = 300.0, clock: Callable[[], float] = time.monotonic):
        self.window_s = window_s
        self.clock = clock
        self._seen: dict[tuple[int, str], tuple[Message, float]] = {}

    def existing(self, author_id: int, nonce: str | int) -> Message | None:
        hit = self._seen.get((author_id, str(nonce)))
        if hit is None:
            return None
        msg, at = hit
        if msg.deleted or self.clock() - at > self.window_s:
            return None
        return msg

    def remember(self, msg: Message) -> None:
        if msg.nonce is not None:
            self._seen[(msg.author.id, str(msg.nonce))] = (msg, self.clock())


def check_nonce(value: Any) -> None:
    """Discord's nonce is an integer or a string of at most 25 characters (50035 otherwise)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise form_error("nonce", "Must be an integer or a string.")
    if isinstance(value, str) and len(value) > NONCE_MAX_LENGTH:
        raise form_error(
            "nonce", f"Must be {NONCE_MAX_LENGTH} or fewer in length.", "BASE_TYPE_MAX_LENGTH"
        )


def signed(url: str, *, now: float | None = None) -> str:
    """A CDN URL with Discord's expiry signature (ex: expires, is: issued, hm: the hash)."""
    issued = int(time.time() if now is None else now)
    digest = hashlib.sha256(f"{url}{issued}".encode()).hexdigest()
    return f"{url}?ex={issued + 86400:x}&is={issued:x}&hm={digest}&"


def iter_components(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flatten action rows, containers, sections and labels into one list."""
    out: list[dict[str, Any]] = []
    for comp in components:
        out.append(comp)
        for key in ("components", "component", "accessory"):
            child = comp.get(key)
            if isinstance(child, list):
                out.extend(iter_components(child))
            elif isinstance(child, dict):
                out.extend(iter_components([child]))
    return out


def check_upload_size(files: list[UploadedFile], limit: int) -> None:
    """Discord answers 413 / 40005 when a file (or the request's files together) is too big.

    Checking the sum as well is stricter than a per-file limit, which is the safe side: a bot
    that passes here also passes on Discord."""
    if any(f.size > limit for f in files) or sum(f.size for f in files) > limit:
        raise too_large()


AttachmentFactory = Callable[[UploadedFile, dict[str, Any]], StoredAttachment]


def apply_body(
    msg: Message,
    body: dict[str, Any],
    files: list[UploadedFile],
    make_attachment: AttachmentFactory,
    *,
    editing: bool,
) -> dict[str, Any]:
    """Apply a create/edit body to ``msg`` and return the fields that changed.

    On edit, an ``attachments`` array lists what to keep (existing IDs) plus new uploads (by
    index); without it, existing attachments stay and uploads are appended, as on Discord.
    """
    changes: dict[str, Any] = {}
    if "content" in body:
        msg.content = body["content"] or ""
        changes["content"] = msg.content
    if "embeds" in body:
        msg.embeds = copy.deepcopy(body["embeds"] or [])
        changes["embeds"] = msg.embeds
    if "components" in body:
        msg.components = copy.deepcopy(body["components"] or [])
        changes["components"] = msg.components
    if body.get("flags") is not None:
        settable = SETTABLE_FLAGS if not editing else SUPPRESS_EMBEDS | IS_COMPONENTS_V2
        msg.flags = (msg.flags & ~settable) | (int(body["flags"]) & settable)
        changes["flags"] = msg.flags
    if not editing and "tts" in body:
        msg.tts = bool(body["tts"])
    if not editing and body.get("message_reference"):
        msg.message_reference = body["message_reference"]

    by_index = {f.index: f for f in files}
    used: set[int] = set()
    if "attachments" in body or files:
        existing = {a.id: a for a in msg.attachments}
        kept: list[StoredAttachment] = [] if "attachments" in body else list(msg.attachments)
        for entry in body.get("attachments") or []:
            key = entry.get("id")
            if isinstance(key, str) and key.isdigit() and int(key) in existing:
                att = existing[int(key)]
                att.description = entry.get("description", att.description)
                kept.append(att)
            elif key is not None and int(key) in by_index:
                used.add(int(key))
                kept.append(make_attachment(by_index[int(key)], entry))
            elif editing or key is not None:
                raise form_error("attachments", f"Unknown attachment {key!r}")
        kept.extend(make_attachment(f, {}) for f in files if f.index not in used)
        msg.attachments = kept
        changes["attachments"] = [a.payload() for a in kept]
    if editing:
        msg.edited_timestamp = now_iso()
    return changes
