"""Per-streamer 9:16 layouts: set and read them (both fronts), and the preview frame that lets
a reviewer check the rectangles on a real frame of the streamer's latest clip."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from pathlib import Path

from engine.config.schema import PublishConfig
from engine.core.app import UserError
from engine.core.stores import ClipStore
from engine.kick.api import InvalidSlug, normalize_slug
from publishing.model import Layout, LayoutError, PublishError, PublishStore, Rect, layout_of
from publishing.render import has_bytes, preview_frame

PREVIEW_FROM = ("approved", "posted", "rejected", "ready")


@dataclass(frozen=True, slots=True)
class Preview:
    png: bytes
    clip_id: int


class Layouts:
    def __init__(self, cfg: PublishConfig, store: PublishStore, clips: ClipStore) -> None:
        self.cfg, self.store, self.clips = cfg, store, clips

    async def get(self, guild_id: int, streamer: str) -> Layout:
        return layout_of(await self.store.layout(guild_id, _slug(streamer)), self.cfg.layout)

    async def set(
        self,
        guild_id: int,
        streamer: str,
        kind: str,
        crop: str | None = None,
        facecam: str | None = None,
        gameplay: str | None = None,
        by: int | None = None,
    ) -> Layout:
        """Validate and store a layout; UserError says what is wrong with the input."""
        slug = _slug(streamer)
        try:
            layout = Layout(
                kind,
                Rect.parse(crop) if crop else None,
                Rect.parse(facecam) if facecam else None,
                Rect.parse(gameplay) if gameplay else None,
            )
        except LayoutError as exc:
            raise UserError(str(exc)) from exc
        await self.store.set_layout(
            guild_id,
            slug,
            layout.kind,
            layout.crop.to_json() if layout.crop else None,
            layout.facecam.to_json() if layout.facecam else None,
            layout.gameplay.to_json() if layout.gameplay else None,
            by,
        )
        return layout

    async def preview(self, guild_id: int, streamer: str) -> Preview | None:
        """A 540x960 PNG of the streamer's layout on their latest clip; None without a clip."""
        slug = _slug(streamer)
        rows = await self.clips.with_status(*PREVIEW_FROM, guild_id=guild_id)
        latest = next(
            (
                r
                for r in reversed(rows)
                if r.streamer == slug and r.original_path and has_bytes(Path(r.original_path))
            ),
            None,
        )
        if latest is None:
            return None
        layout = await self.get(guild_id, slug)
        with tempfile.TemporaryDirectory(prefix="layout-") as work:
            dest = Path(work) / "preview.png"
            try:
                await preview_frame(Path(latest.original_path), layout, dest)
            except PublishError as exc:
                raise UserError(f"The preview could not be made: {exc}") from exc
            png = await asyncio.to_thread(dest.read_bytes)
        return Preview(png, latest.id)


def _slug(streamer: str) -> str:
    try:
        return normalize_slug(streamer.strip())
    except InvalidSlug as exc:
        raise UserError(f"`{streamer[:40]}` is not a Kick channel name.") from exc
