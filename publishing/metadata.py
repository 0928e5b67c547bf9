"""Title, description and tags of an upload, from the templates in config (publish.youtube).

Fields: {title} (the clip's title, else "streamer: trigger"), {streamer}, {trigger},
{channel_url} (the credit link to the streamer's Kick channel), {clip_id}, {confidence}.
An unknown field in a template is left as typed rather than failing the upload. YouTube's
rules are applied here: titles <= 100 characters, descriptions <= 5000 bytes, no `<` or `>`
in either, tags <= 500 characters in all. A vertical clip of 60 s or less is a Short; YouTube
detects Shorts by shape and length, and its guidance is to add #Shorts to the title or
description, which is done (title when it fits, description always).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any

from engine.config.schema import YouTubeConfig

TITLE_MAX = 100
DESCRIPTION_MAX_BYTES = 5000
TAGS_MAX = 500
SHORTS_MAX_S = 60.0
SHORTS_TAG = "#Shorts"


@dataclass(frozen=True, slots=True)
class Metadata:
    title: str
    description: str
    tags: tuple[str, ...]
    privacy: str
    category_id: str
    short: bool

    def resource(self) -> dict[str, Any]:
        """The `videos` resource sent when the upload session is opened."""
        return {
            "snippet": {
                "title": self.title,
                "description": self.description,
                "tags": list(self.tags),
                "categoryId": self.category_id,
            },
            "status": {"privacyStatus": self.privacy, "selfDeclaredMadeForKids": False},
        }


class _Lenient(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fill(template: str, fields: dict[str, str]) -> str:
    try:
        return string.Formatter().vformat(template, (), _Lenient(fields))
    except (ValueError, IndexError):  # a stray brace: the template as typed
        return template


def _clean(text: str) -> str:
    return text.replace("<", "‹").replace(">", "›")


def fields_of(clip: Any) -> dict[str, str]:
    trigger = str(clip.trigger).replace("_", " ")
    return {
        "title": clip.title or f"{clip.streamer}: {trigger}",
        "streamer": clip.streamer,
        "trigger": trigger,
        "channel_url": f"https://kick.com/{clip.streamer}",
        "clip_id": str(clip.id),
        "confidence": f"{clip.confidence:.0%}",
    }


def build_metadata(clip: Any, cfg: YouTubeConfig, *, vertical: bool, duration: float) -> Metadata:
    fields = fields_of(clip)
    short = vertical and duration <= SHORTS_MAX_S
    title = " ".join(_clean(_fill(cfg.title_template, fields)).split()) or fields["title"]
    fits = len(title) + 1 + len(SHORTS_TAG) <= TITLE_MAX
    if short and fits and SHORTS_TAG.lower() not in title.lower():
        title = f"{title} {SHORTS_TAG}"
    title = title[:TITLE_MAX].rstrip()
    description = _clean(_fill(cfg.description_template, fields))
    if short and SHORTS_TAG.lower() not in description.lower():
        description = f"{description}\n\n{SHORTS_TAG}"
    description = description.encode()[:DESCRIPTION_MAX_BYTES].decode("utf-8", "ignore")
    tags: list[str] = []
    used = 0
    for raw in cfg.tags:
        tag = _clean(_fill(raw, fields)).strip()
        if not tag or tag in tags:
            continue
        cost = len(tag) + (2 if " " in tag else 0) + (1 if tags else 0)
        if used + cost > TAGS_MAX:
            break
        tags.append(tag)
        used += cost
    return Metadata(title, description, tuple(tags), cfg.privacy, cfg.category_id, short)
