"""What the fake records, and the waiting primitive tests use instead of sleep-polling.

Every change to the fake's state calls ``Notifier.notify()``; ``Notifier.wait_for`` re-checks a
predicate exactly then, so a test wakes as soon as the bot did the thing (or times out with a
clear message) and never depends on a guessed sleep.
"""

# ruff: noqa: ASYNC109  -- test helpers take a timeout= argument on purpose (wait_for API).

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .http_util import UploadedFile
from .messages import EPHEMERAL, Message

T = TypeVar("T")


class InvalidInteraction(ValueError):
    """The test asked for an interaction real Discord would never send (unknown command,
    wrong option type, missing button...)."""


class InteractionFailed(AssertionError):
    """The bot did not acknowledge within the deadline: the user sees "This interaction failed"."""


class Notifier:
    """Wakes every waiter on each state change so predicates are re-evaluated promptly.

    Waiters also re-check every ``POLL`` seconds, so a predicate may look at bot-side state
    (which changes without the fake noticing) and still wake soon after it turns true."""

    POLL = 0.05

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    def notify(self) -> None:
        for fut in self._waiters:
            if not fut.done():
                fut.set_result(None)
        self._waiters.clear()

    async def wait_for(
        self, predicate: Callable[[], T | None], timeout: float = 5.0, what: str | None = None
    ) -> T:
        """Return the predicate's first truthy value; TimeoutError names what was awaited."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout}s waiting for {what or predicate!r}")
            fut: asyncio.Future[None] = loop.create_future()
            self._waiters.add(fut)
            try:
                await asyncio.wait_for(fut, min(remaining, self.POLL))
            except TimeoutError:
                pass
            finally:
                self._waiters.discard(fut)


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    json: Any = None
    files: list[UploadedFile] = field(default_factory=list)
    status: int = 0


@dataclass
class ApiError:
    """An error the fake answered (the bot saw it as an HTTPException)."""

    method: str
    path: str
    status: int
    code: int
    message: str


@dataclass
class MessageEdit:
    """One edit of a message; ``via`` is "rest", "interaction" (type 7 update) or "webhook"."""

    message: Message
    via: str
    changes: dict[str, Any]
    files: list[UploadedFile]
    snapshot: dict[str, Any]
    interaction_id: int | None = None


@dataclass
class CommandSync:
    """One bulk overwrite of application commands (``guild_id`` None for global)."""

    guild_id: int | None
    commands: list[dict[str, Any]]


@dataclass
class InteractionCallback:
    """The bot's acknowledgement: type 4 message, 5 defer, 6 deferred update, 7 update,
    8 autocomplete result, 9 modal."""

    type: int
    data: dict[str, Any]
    files: list[UploadedFile]
    #: The message created (4, 5) or updated (7), if any.
    message: Message | None = None

    @property
    def ephemeral(self) -> bool:
        return bool(int(self.data.get("flags") or 0) & EPHEMERAL)

    @property
    def content(self) -> str | None:
        return self.data.get("content")

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self.data.get("embeds") or []

    @property
    def choices(self) -> list[dict[str, Any]]:
        return self.data.get("choices") or []


@dataclass(eq=False)
class InteractionRecord:
    """One injected interaction and everything the bot did with it."""

    id: int
    token: str
    type: int
    payload: dict[str, Any]
    guild_id: int
    channel_id: int
    user_id: int
    deadline: float
    notifier: Notifier
    #: For components: the message the clicked component is on.
    source_message: Message | None = None
    #: For modal submits: the interaction whose type 9 response opened the modal.
    parent: InteractionRecord | None = None
    callback: InteractionCallback | None = None
    expired: bool = False
    #: The message ``@original`` refers to (response message, or the component's message).
    original: Message | None = None
    followups: list[Message] = field(default_factory=list)
    original_edits: list[MessageEdit] = field(default_factory=list)
    errors: list[ApiError] = field(default_factory=list)
    #: How many gateway sessions got (or buffered) the INTERACTION_CREATE.
    delivered_to: int = 0

    @property
    def acknowledged(self) -> bool:
        return self.callback is not None

    @property
    def modal(self) -> dict[str, Any] | None:
        """The modal the bot opened (type 9 data), for ``inject_modal_submit``."""
        if self.callback is not None and self.callback.type == 9:
            return self.callback.data
        return None

    async def response(self, timeout: float | None = None) -> InteractionCallback:
        """Wait for the acknowledgement; InteractionFailed once the 3 s deadline passes."""
        loop = asyncio.get_running_loop()
        limit = timeout if timeout is not None else max(self.deadline - loop.time(), 0) + 1.0
        with contextlib.suppress(TimeoutError):
            await self.notifier.wait_for(
                lambda: self.callback is not None or self.expired, limit, f"ack of {self.id}"
            )
        if self.callback is None:
            raise InteractionFailed(f"interaction {self.id} was not acknowledged in time")
        return self.callback

    def __await__(self) -> Generator[Any, None, InteractionCallback]:
        """``await record`` is ``await record.response()``."""
        return self.response().__await__()

    async def wait_followups(self, count: int = 1, timeout: float = 5.0) -> list[Message]:
        await self.notifier.wait_for(
            lambda: len(self.followups) >= count, timeout, f"{count} followup(s) of {self.id}"
        )
        return self.followups

    async def wait_original_edits(self, count: int = 1, timeout: float = 5.0) -> list[MessageEdit]:
        await self.notifier.wait_for(
            lambda: len(self.original_edits) >= count, timeout, f"{count} @original edit(s)"
        )
        return self.original_edits


@dataclass
class ScriptedRateLimit:
    """The next `count` requests of `method` whose path matches `path` get a 429."""

    method: str
    path: re.Pattern[str]
    retry_after: float
    count: int


@dataclass
class ScriptedError:
    """The next `count` requests of `method` whose path matches `path` get this error.

    ``after``: the request is carried out first and only its answer is replaced (a 5xx from a
    proxy after Discord created the message: the client cannot know it worked)."""

    method: str
    path: re.Pattern[str]
    status: int
    code: int
    message: str
    count: int
    after: bool = False
