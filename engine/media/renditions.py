"""Which recorded renditions are really the same stream as the original.

A channel that offers one rendition only (or none at or below the preview's height) resolves the
preview selection ("480p": that, else the lowest one >= 360p, else the lowest) to the very
variant "best" is: a second streamlink + ffmpeg pair then downloaded the same bytes and every
preview was re-encoded anyway (posted ~9-14 s after the window instead of ~2 s). So before a
preview rendition records, one ``streamlink --json URL`` lists the channel's streams (one
playlist fetch, so variant URLs compare within it, signed or not) and the preview is skipped
when its selection lands on the original's variant: the stream is recorded once, and previews
are cut from the original (transcoded only when over the upload limit).

The selection mirrors engine/media/recorder_cmd.quality_args. A listing that fails or times out
changes nothing: every rendition records, as before.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Sequence
from typing import Any

from engine.media.procs import start_process, stop_process
from engine.media.recorder_cmd import PREVIEW_MIN_HEIGHT
from engine.media.segments import SegmentIndex

log = logging.getLogger("engine.media.recorder")

_NAME_RE = re.compile(r"^(\d{3,4})p(\d{2})?$")


async def list_streams(
    streamlink: Sequence[str], url: str, extra: Sequence[str] = (), timeout_s: float = 20.0
) -> dict[str, str] | None:
    """``{stream name: variant URL}`` from ``streamlink --json URL``; None when it fails."""
    try:
        proc = await start_process(
            [*streamlink, "--json", *extra, url],
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
    except OSError as exc:
        log.warning("cannot list the streams of %s (%s); recording every rendition", url, exc)
        return None
    try:
        raw, _ = await asyncio.wait_for(proc.communicate(), timeout_s)  # to EOF
    except TimeoutError:
        log.warning("listing the streams of %s took over %.0f s; recording every rendition",
                    url, timeout_s)  # fmt: skip
        return None
    finally:
        await stop_process(proc, 2.0)
    return parse_listing(raw)


def parse_listing(raw: bytes | str) -> dict[str, str] | None:
    try:
        doc: Any = json.loads(raw)
    except ValueError:
        return None
    streams = doc.get("streams") if isinstance(doc, dict) else None
    if not isinstance(streams, dict):
        return None
    return {
        name: s["url"]
        for name, s in streams.items()
        if isinstance(name, str) and isinstance(s, dict) and isinstance(s.get("url"), str)
    }


def pick(rendition: str, streams: dict[str, str]) -> str | None:
    """The variant URL streamlink would record for ``rendition`` (recorder_cmd.quality_args):
    ``480p``/``480p60`` when listed, else the lowest at or above 360p, else the lowest."""
    m = _NAME_RE.fullmatch(rendition)
    if not m:
        return streams.get(rendition)
    height = int(m[1])
    names = [rendition] if m[2] else [f"{height}p", f"{height}p60"]
    for name in names:
        if name in streams:
            return streams[name]
    floor = min(height, PREVIEW_MIN_HEIGHT)
    sized = []
    for name, url in streams.items():
        if (n := _NAME_RE.fullmatch(name)) is not None and int(n[1]) >= floor:
            sized.append((int(n[1]), int(n[2] or 30), url))
    if sized:
        return min(sized)[2]
    return streams.get("worst")


def same_as_original(renditions: Sequence[str], streams: dict[str, str] | None) -> set[str]:
    """The renditions after the first whose selection is the first's own variant."""
    if not streams or len(renditions) < 2:
        return set()
    original = pick(renditions[0], streams)
    if original is None:
        return set()
    return {r for r in renditions[1:] if pick(r, streams) == original}


class RenditionProbe:
    """One listing per recorder start, shared by its preview renditions; the verdict goes to
    the index (``same_as_original``), where the clipper reads it. ``known`` is set once this
    start knows what it records (at once with one rendition)."""

    def __init__(
        self,
        slug: str,
        streamlink: Sequence[str],
        url: str,
        extra: Sequence[str],
        index: SegmentIndex,
        renditions: Sequence[str],
    ) -> None:
        self.slug, self.url, self.index = slug, url, index
        self._streamlink, self._extra, self.renditions = list(streamlink), list(extra), renditions
        self._listing: asyncio.Future[dict[str, str] | None] | None = None
        self.known = asyncio.Event()
        self.reset()

    def reset(self) -> None:
        self.cancel()
        self.known.clear()
        if len(self.renditions) < 2:
            self.known.set()

    def cancel(self) -> None:
        if self._listing is not None:
            self._listing.cancel()
        self._listing = None

    async def aclose(self) -> None:
        """Cancel a listing in flight and wait until its streamlink is stopped and reaped."""
        listing = self._listing
        self.cancel()
        if listing is not None:
            await asyncio.gather(listing, return_exceptions=True)

    async def same_as_original(self, rendition: str, stop: asyncio.Event) -> bool:
        """Is ``rendition`` (a preview) the original's stream? No answer (or a stop) = no."""
        if rendition not in self.renditions[1:]:
            return False
        if self._listing is None:
            self._listing = asyncio.ensure_future(
                list_streams(self._streamlink, self.url, self._extra)
            )
        listing = self._listing
        stopper: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
        waits: list[asyncio.Future[Any]] = [listing, stopper]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        done = listing.done() and not listing.cancelled() and listing.exception() is None
        got = listing.result() if done else None
        merged = same_as_original(self.renditions, got)
        if merged and not self.known.is_set():
            log.info("%s: %s is the same stream as %s; recording it once",
                     self.slug, ", ".join(sorted(merged)), self.renditions[0])  # fmt: skip
        self.index.same_as_original = merged
        self.known.set()
        return rendition in merged
