"""Review edge cases through the real bot and the fake Discord: abandoned rename modals, bulk
actions whose message edits partly fail, and messages of clips the cleanup deleted."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from cogs import review_view
from cogs.review_view import MODAL_TIMEOUT_S, RENAME_INPUT
from tests.fakes.discord_server import InteractionFailed, Message

if TYPE_CHECKING:  # registered as a plugin in conftest.py, so its asserts are rewritten
    from tests.bot_harness import BotHarness


async def posted_clip(h: BotHarness, **kwargs: Any) -> tuple[int, Message]:
    clip_id = await h.ready_clip(**kwargs)
    await h.post(clip_id)
    msg = await h.fake.wait_for_message(
        lambda m: f"clip:approve:{clip_id}" in m.custom_ids(), channel=h.cast.review
    )
    return clip_id, msg


def open_modals(h: BotHarness) -> dict[str, Any]:
    return h.bot._connection._view_store._modals  # type: ignore[union-attr]


async def test_a_dismissed_rename_modal_times_out_with_its_token(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h, cast = harness, harness.cast
    await h.setup_review()
    clip_id, msg = await posted_clip(h)
    monkeypatch.setattr(review_view, "MODAL_TIMEOUT_S", 0.5)  # 15 minutes, compressed
    first = await h.fake.inject_button(msg, f"clip:rename:{clip_id}", cast.reviewer)
    assert (await first.response()).type == 9  # ... and the member closes it without a word
    monkeypatch.setattr(review_view, "MODAL_TIMEOUT_S", MODAL_TIMEOUT_S)
    second = await h.fake.inject_button(msg, f"clip:rename:{clip_id}", cast.reviewer)
    assert (await second.response()).type == 9
    modals = await h.fake.wait_for(lambda: len(open_modals(h)) == 2 and open_modals(h))
    assert sorted(m.timeout for m in modals.values()) == [0.5, 15 * 60]
    await h.fake.wait_for(lambda: len(open_modals(h)) == 1)  # the abandoned one is gone
    late = await h.fake.inject_modal_submit(first, {RENAME_INPUT: "too late"}, ack_timeout=0.3)
    with pytest.raises(InteractionFailed):
        await late.response()
    # The newer modal of the same member and clip survived the older one's timeout.
    submit = await h.fake.inject_modal_submit(second, {RENAME_INPUT: "Fresh title"})
    assert (await submit.response()).type == 7
    assert (await h.app.clips.get(clip_id)).title == "Fresh title"  # type: ignore[union-attr]
