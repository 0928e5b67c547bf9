"""Discord's documented limits on what a bot sends, so a bot bug shows here and not in production.

Each check raises the error Discord answers: 50006 for an empty message, 50035 (Invalid Form
Body) with the offending field for everything else.
"""

from __future__ import annotations

import re
from typing import Any

from .http_util import ApiException, UploadedFile, form_error
from .messages import IS_COMPONENTS_V2, iter_components

_COMMAND_NAME = re.compile(r"^[-_'\w]{1,32}$")
_ROW_ONLY = {2}  # buttons share a row (up to 5); selects (3, 5-8) fill a row alone
_SELECTS = {3, 5, 6, 7, 8}
EMBED_TOTAL = 6000  # title, description, field names and values, footers, authors: all embeds
OPTION_TYPES = {
    1: "SUB_COMMAND",
    2: "SUB_COMMAND_GROUP",
    3: "STRING",
    4: "INTEGER",
    5: "BOOLEAN",
    6: "USER",
    7: "CHANNEL",
    8: "ROLE",
    9: "MENTIONABLE",
    10: "NUMBER",
    11: "ATTACHMENT",
}


def _limit(value: Any, path: str, maximum: int, minimum: int = 0) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not minimum <= len(value) <= maximum:
        raise form_error(
            path, f"Must be between {minimum} and {maximum} in length.", "BASE_TYPE_BAD_LENGTH"
        )


def message_body(body: dict[str, Any], files: list[UploadedFile], *, editing: bool = False) -> None:
    """Content, embeds, components and attachment counts of a create or edit body."""
    _limit(body.get("content"), "content", 2000)
    embeds = body.get("embeds") or []
    if len(embeds) > 10:
        raise form_error("embeds", "Must be 10 or fewer in length.", "BASE_TYPE_MAX_LENGTH")
    # Discord counts the 6000 characters over every embed of the message together, not per
    # embed: ten embeds of 700 characters each are refused.
    total = sum(_embed(embed, f"embeds.{i}") for i, embed in enumerate(embeds))
    if total > EMBED_TOTAL:
        raise form_error(
            "embeds", f"Embed size exceeds maximum size of {EMBED_TOTAL}", "MAX_EMBED_SIZE_EXCEEDED"
        )
    v2 = bool(int(body.get("flags") or 0) & IS_COMPONENTS_V2)
    components(body.get("components") or [], "components", v2=v2)
    if len(files) > 10:
        raise form_error("files", "Must be 10 or fewer in length.", "BASE_TYPE_MAX_LENGTH")
    if not editing and not (
        body.get("content") or embeds or body.get("components") or files or body.get("sticker_ids")
    ):
        raise ApiException(400, 50006, "Cannot send an empty message")


def _embed(embed: dict[str, Any], path: str) -> int:
    """Check one embed's own limits; returns the characters it adds to the message's total."""
    _limit(embed.get("title"), f"{path}.title", 256)
    _limit(embed.get("description"), f"{path}.description", 4096)
    fields = embed.get("fields") or []
    if len(fields) > 25:
        raise form_error(f"{path}.fields", "Must be 25 or fewer in length.", "BASE_TYPE_MAX_LENGTH")
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    for j, fld in enumerate(fields):
        _limit(fld.get("name"), f"{path}.fields.{j}.name", 256, 1)
        _limit(fld.get("value"), f"{path}.fields.{j}.value", 1024, 1)
        total += len(fld.get("name") or "") + len(fld.get("value") or "")
    footer = (embed.get("footer") or {}).get("text")
    author = (embed.get("author") or {}).get("name")
    _limit(footer, f"{path}.footer.text", 2048)
    _limit(author, f"{path}.author.name", 256)
    return total + len(footer or "") + len(author or "")


def components(comps: list[dict[str, Any]], path: str, *, v2: bool = False) -> None:
    """Rows of at most 5 buttons or one select, unique custom_ids of at most 100 chars."""
    if not v2 and len(comps) > 5:
        raise form_error(path, "Must be 5 or fewer in length.", "BASE_TYPE_MAX_LENGTH")
    if not v2:
        for i, row in enumerate(comps):
            children = row.get("components") or []
            if row.get("type") != 1 or not 1 <= len(children) <= 5:
                raise form_error(
                    f"{path}.{i}", "Top-level components must be action rows of 1-5 items."
                )
            kinds = {c.get("type") for c in children}
            if kinds & _SELECTS and len(children) > 1:
                raise form_error(
                    f"{path}.{i}.components", "A select menu must be alone in its row."
                )
    seen: set[str] = set()
    for comp in iter_components(comps):
        custom_id = comp.get("custom_id")
        if comp.get("type") in _ROW_ONLY | _SELECTS | {4}:
            if comp.get("type") == 2 and comp.get("style") == 5:
                if not comp.get("url") or custom_id:
                    raise form_error(path, "Link buttons need a url and no custom_id.")
                continue
            if comp.get("type") == 2 and comp.get("style") == 6:
                continue  # premium buttons carry a sku_id instead
            if not custom_id:
                raise form_error(path, "Interactive components need a custom_id.")
        if custom_id is not None:
            _limit(custom_id, f"{path}.custom_id", 100, 1)
            if custom_id in seen:
                raise form_error(
                    path, f"Duplicate custom_id {custom_id!r}.", "COMPONENT_CUSTOM_ID_DUPLICATED"
                )
            seen.add(custom_id)
        if comp.get("type") == 2:
            _limit(comp.get("label"), f"{path}.label", 80)


def modal(data: dict[str, Any]) -> None:
    _limit(data.get("custom_id"), "data.custom_id", 100, 1)
    _limit(data.get("title"), "data.title", 45, 1)
    comps = data.get("components") or []
    if not 1 <= len(comps) <= 5:
        raise form_error(
            "data.components", "Must be between 1 and 5 in length.", "BASE_TYPE_BAD_LENGTH"
        )
    ids = [c["custom_id"] for c in iter_components(comps) if "custom_id" in c]
    if len(ids) != len(set(ids)):
        raise form_error(
            "data.components", "Duplicate custom_id.", "COMPONENT_CUSTOM_ID_DUPLICATED"
        )


def autocomplete_choices(data: dict[str, Any]) -> None:
    choices = data.get("choices")
    if not isinstance(choices, list) or len(choices) > 25:
        raise form_error("data.choices", "Must be 25 or fewer in length.", "BASE_TYPE_MAX_LENGTH")
    for i, choice in enumerate(choices):
        _limit(choice.get("name"), f"data.choices.{i}.name", 100, 1)
        if "value" not in choice:
            raise form_error(
                f"data.choices.{i}.value", "This field is required", "BASE_TYPE_REQUIRED"
            )


def command_definitions(commands: Any) -> None:
    """What a bulk overwrite (PUT .../commands) must satisfy."""
    if not isinstance(commands, list):
        raise form_error("", "Expected a list of commands.")
    seen: set[tuple[str, int]] = set()
    for i, cmd in enumerate(commands):
        kind = int(cmd.get("type", 1))
        name = cmd.get("name")
        if not isinstance(name, str) or not _COMMAND_NAME.match(name):
            raise form_error(
                f"{i}.name", "Invalid command name.", "APPLICATION_COMMAND_INVALID_NAME"
            )
        if kind == 1:
            if name != name.lower():
                raise form_error(f"{i}.name", "Slash command names must be lowercase.")
            _limit(cmd.get("description"), f"{i}.description", 100, 1)
            _options(cmd.get("options") or [], f"{i}.options", depth=0)
        if (name, kind) in seen:
            raise form_error(
                f"{i}.name", "Duplicate command name.", "APPLICATION_COMMANDS_DUPLICATE_NAME"
            )
        seen.add((name, kind))


def _options(options: list[dict[str, Any]], path: str, *, depth: int) -> None:
    if len(options) > 25:
        raise form_error(path, "Must be 25 or fewer in length.", "BASE_TYPE_MAX_LENGTH")
    optional_seen = False
    names: set[str] = set()
    for i, opt in enumerate(options):
        kind = opt.get("type")
        if kind not in OPTION_TYPES:
            raise form_error(f"{path}.{i}.type", f"Unknown option type {kind!r}.")
        name = opt.get("name")
        if not isinstance(name, str) or not _COMMAND_NAME.match(name) or name != name.lower():
            raise form_error(f"{path}.{i}.name", "Invalid option name.")
        if name in names:
            raise form_error(f"{path}.{i}.name", "Duplicate option name.")
        names.add(name)
        _limit(opt.get("description"), f"{path}.{i}.description", 100, 1)
        if kind in (1, 2):
            if depth >= (1 if kind == 2 else 2):
                raise form_error(f"{path}.{i}", "Subcommands nest at most two levels.")
            _options(opt.get("options") or [], f"{path}.{i}.options", depth=depth + 1)
            continue
        if opt.get("required"):
            if optional_seen:
                raise form_error(f"{path}.{i}.required", "Required options must come first.")
        else:
            optional_seen = True
        if len(opt.get("choices") or []) > 25:
            raise form_error(f"{path}.{i}.choices", "Must be 25 or fewer in length.")
        if opt.get("choices") and opt.get("autocomplete"):
            raise form_error(f"{path}.{i}", "Autocomplete and choices are exclusive.")
