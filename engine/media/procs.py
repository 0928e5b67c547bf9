"""Child processes (ffmpeg, streamlink) that never outlive the bot and never become zombies.

- Started with ``asyncio.create_subprocess_exec`` (argv list, never a shell: a streamer slug or a
  path can never be interpreted as shell syntax).
- ``start_new_session=True``: each child leads its own process group, so a Ctrl-C in the bot's
  terminal does not hit ffmpeg before the orderly shutdown (which SIGINTs it itself), and
  :func:`stop_process` can signal the whole group (streamlink's Kick plugin may start a headless
  Chromium of its own; it must go too).
- Linux ``PR_SET_PDEATHSIG``: the kernel sends SIGTERM to the child when the bot dies, even by
  SIGKILL, so nothing is orphaned. asyncio passes ``preexec_fn`` through to ``subprocess.Popen``;
  it is documented as unsafe with threads because arbitrary Python may deadlock between fork and
  exec. Ours calls one libc function resolved before the fork (no import, no lock, no allocation
  beyond the call), which is the accepted use. The signal is tied to the forking *thread*: start
  children from the event loop's thread (asyncio does).
- Every live child is tracked; an ``atexit`` hook kills what a caller forgot to stop.
- A child's pipes are read with :func:`read_lines`, never ``async for line in stream``: asyncio's
  line reader raises ValueError on a line over its 64 KiB limit (streamlink with Chromium can
  print one), the reader ends, nobody drains the pipe, and the child blocks once it is full.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import logging
import os
import signal
import sys
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
_CHUNK = 64 * 1024
MAX_LINE = 16 * 1024  # longer lines are cut here: the head is all a log tail or a parser needs
_live: dict[int, asyncio.subprocess.Process] = {}

try:
    _libc: Any = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None
    _prctl = _libc.prctl if _libc is not None else None
except (OSError, AttributeError):  # pragma: no cover - exotic libc
    _prctl = None


def _child_setup() -> None:  # pragma: no cover - runs in the forked child
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)


async def start_process(
    argv: Sequence[str],
    *,
    stdin: int | None = asyncio.subprocess.DEVNULL,
    stdout: int | None = asyncio.subprocess.DEVNULL,
    stderr: int | None = asyncio.subprocess.PIPE,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
) -> asyncio.subprocess.Process:
    """Start ``argv`` in its own session with parent-death SIGTERM; tracked until reaped.

    stdin/stdout/stderr take what ``create_subprocess_exec`` takes: PIPE, DEVNULL or a raw fd
    (which lets streamlink write straight into ffmpeg through an ``os.pipe`` with no copy
    through Python).
    """
    if not argv:
        raise ValueError("empty argv")
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        env=env,
        cwd=cwd,
        start_new_session=True,
        preexec_fn=_child_setup if _prctl is not None else None,
    )
    _live[proc.pid] = proc
    log.debug("started pid %d: %s", proc.pid, " ".join(argv[:3]))
    return proc


def _signal_group(proc: asyncio.subprocess.Process, sig: int) -> None:
    """Signal the child's process group (it is the leader), or the child alone as a fallback."""
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)


async def _wait(proc: asyncio.subprocess.Process, timeout: float) -> bool:  # noqa: ASYNC109
    try:
        await asyncio.wait_for(asyncio.shield(proc.wait()), timeout)
    except TimeoutError:
        return False
    return True


async def stop_process(
    proc: asyncio.subprocess.Process,
    timeout: float = 5.0,  # noqa: ASYNC109 - a grace period per signal, not a deadline
    *,
    first_signal: int = signal.SIGINT,
) -> int:
    """Stop ``proc`` and reap it; returns its exit code.

    ``first_signal`` (SIGINT by default: ffmpeg then writes its trailer and the segment list entry
    of the file it was writing), then SIGTERM after ``timeout``, then SIGKILL after a short grace.
    Whatever the child does, it is waited for before this returns, so no zombie is left. Leftover
    members of its process group get SIGKILL at the end.
    """
    try:
        if proc.returncode is None:
            _signal_group(proc, first_signal)
            if not await _wait(proc, timeout):
                log.warning("pid %d ignored signal %d; terminating", proc.pid, first_signal)
                _signal_group(proc, signal.SIGTERM)
                if not await _wait(proc, min(timeout, 2.0)):
                    log.warning("pid %d ignored SIGTERM; killing", proc.pid)
                    _signal_group(proc, signal.SIGKILL)
        code = await proc.wait()
    finally:
        if proc.returncode is not None:
            _live.pop(proc.pid, None)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # stragglers (helpers the child started)
    return code


async def reap(proc: asyncio.subprocess.Process) -> int:
    """Wait for a child that exited on its own and forget it."""
    code = await proc.wait()
    _live.pop(proc.pid, None)
    return code


async def run_to_end(
    argv: Sequence[str],
    limit_s: float,
    *,
    tail_lines: int = 15,
    on_line: Callable[[str], bool] | None = None,
) -> tuple[int | None, list[str]]:
    """Run a short-lived command (an ffmpeg cut) to completion: (exit code or None if it ran
    past ``limit_s`` and was stopped, the last ``tail_lines`` of its stderr). Reaped even when
    the caller is cancelled. Raises OSError when it cannot start. ``on_line`` sees each stderr
    line first; a line it returns True for (e.g. ffmpeg's progress) stays out of the tail."""
    proc = await start_process(argv, stderr=asyncio.subprocess.PIPE)
    tail: deque[str] = deque(maxlen=tail_lines)

    async def drain() -> None:
        assert proc.stderr is not None
        async for raw in read_lines(proc.stderr):
            line = raw.decode("utf-8", "replace").rstrip()
            if line and (on_line is None or not on_line(line)):
                tail.append(line)

    reader = asyncio.create_task(drain())
    timed_out = False
    try:
        await asyncio.wait_for(asyncio.shield(proc.wait()), limit_s)
    except TimeoutError:
        timed_out = True
    finally:
        await stop_process(proc, 2.0)  # reaps; stops it first if it timed out or we were cancelled
        await reader
    return (None if timed_out else proc.returncode), list(tail)


async def read_lines(
    stream: asyncio.StreamReader, max_line: int = MAX_LINE
) -> AsyncIterator[bytes]:
    """The lines of a child's pipe (newline kept), read in chunks until EOF: a line longer than
    ``max_line`` yields its head and the rest is skipped, so the pipe is always drained."""
    buf = bytearray()
    skipping = False  # inside an overlong line whose head was already yielded
    while chunk := await stream.read(_CHUNK):
        buf += chunk
        start = 0
        while (nl := buf.find(b"\n", start)) >= 0:
            if not skipping:
                yield bytes(buf[start : min(nl + 1, start + max_line)])
            skipping = False
            start = nl + 1
        del buf[:start]
        if len(buf) > max_line:
            if not skipping:
                yield bytes(buf[:max_line])
            skipping = True
            buf.clear()
    if buf and not skipping:
        yield bytes(buf)


def live_pids() -> list[int]:
    """Children started here and not yet reaped (for tests and diagnostics)."""
    return [pid for pid, p in _live.items() if p.returncode is None]


@atexit.register
def _kill_leftovers() -> None:
    """Last resort at interpreter exit: the event loop is gone, so SIGKILL the groups."""
    for pid, proc in list(_live.items()):
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
    _live.clear()
