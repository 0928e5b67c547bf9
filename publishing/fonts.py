"""The font of burned-in titles, found once at start and checked by `bot.py --check`.

No font file ships in this repository: matplotlib (a dependency, for the /stats chart) already
installs DejaVu Sans Bold (a free licence: Bitstream Vera + public domain changes), so every
install has it. A configured `publish.title_font` wins; system DejaVu/Liberation/Noto are the
fallback when matplotlib's copy is missing (a trimmed image).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

SYSTEM_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf",
    "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
    "/Library/Fonts/Arial Bold.ttf",
)


class FontMissing(RuntimeError):
    """No usable font: the message says which setting to fix."""


def matplotlib_font() -> Path | None:
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = (
        Path(next(iter(spec.submodule_search_locations))) / "mpl-data/fonts/ttf/DejaVuSans-Bold.ttf"
    )
    return path if path.is_file() else None


def find_font(configured: str) -> Path:
    """The font file to use; FontMissing names the problem."""
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise FontMissing(
                f"publish.title_font {configured!r} is not a file: give a .ttf/.otf path or "
                '"" for the bundled DejaVu Sans Bold'
            )
        return path
    found = matplotlib_font()
    if found is not None:
        return found
    for candidate in SYSTEM_FONTS:
        if Path(candidate).is_file():
            return Path(candidate)
    raise FontMissing(
        "no font for burned-in titles: set publish.title_font to a .ttf file, install "
        "fonts-dejavu-core, or turn publish.burn_title off"
    )
