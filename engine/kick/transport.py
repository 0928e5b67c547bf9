"""The retrying transport under the Kick client: one request, bounded retries, clear reasons.

Kick's site endpoints sit behind Cloudflare and its API rate-limits, so 403, 429, 5xx, network
errors and a 200 that is not JSON are retried with jittered backoff under a budget of attempts and
seconds, then surface as KickUnavailable. Kept apart from the endpoints so the policy is one piece
of code with one set of tests, and so secrets (the client secret, the app token) are scrubbed from
every reason it logs or raises.

Retry-After (delta-seconds or an HTTP date) is honoured on 403, 429 and 503, the answers where
Cloudflare and Kick send it. It is also remembered per host as a "not before" time, because every
Feed shares this transport: while it runs, other requests to that host wait it out when it fits
their budget and fail fast otherwise, instead of hammering a host that asked for quiet (and
earning a longer block). A Retry-After beyond the budget ends the request at once.

A Retry-After is capped at ``kick.retry_after_max_s`` (default 300 s): one 429 asking for
99999 s once silenced every Kick request for ~28 h, so a stream going live was never noticed.
The log line keeps Kick's figure; errors carry the real (capped) wait as ``retry_in_s``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import httpx

from engine.backoff import Backoff, parse_retry_after
from engine.config import KickConfig
from engine.kick.models import KickUnavailable

log = logging.getLogger("engine.kick.api")

RETRYABLE = frozenset({403, 429})
RETRY_AFTER_STATUSES = frozenset({403, 429, 503})

Sleep = Callable[[float], Awaitable[None]]


class KickTransport:
    def __init__(
        self,
        config: KickConfig,
        http: httpx.AsyncClient,
        *,
        sleep: Sleep,
        rand: Callable[[], float],
        max_attempts: int,
        max_retry_s: float,
        secrets: Callable[[], Iterable[str | None]] = tuple,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._cfg = config
        self._http = http
        self._sleep = sleep
        self._rand = rand
        self._max_attempts = max(1, max_attempts)
        self._max_retry_s = max_retry_s
        self._secrets = secrets
        self._monotonic = monotonic
        self._not_before: dict[str, float] = {}  # host -> monotonic time Kick asked us to wait for
        self._announced: dict[str, float] = {}  # host -> the not-before already logged

    def redact(self, text: str) -> str:
        for secret in self._secrets():
            if secret:
                text = text.replace(secret, "***")
        return text

    async def request(
        self,
        method: str,
        url: str,
        *,
        subject: str,
        what: str,
        headers: dict[str, str],
        params: dict[str, Any] | None = None,
        data: dict[str, str] | None = None,
        fallback: bool = False,
    ) -> tuple[int, Any]:
        """One request with bounded retries; returns (status, JSON body or None).

        Anything not retryable is returned for the caller to judge. When the attempts or the
        time budget run out it raises KickUnavailable. A `fallback` request (one with a plan B)
        is tried once and its failure logged quietly.
        """
        max_attempts = 1 if fallback else self._max_attempts
        backoff = Backoff(self._cfg.backoff_initial_s, self._cfg.backoff_max_s, rand=self._rand)
        host = urlsplit(url).netloc
        waited = await self._wait_not_before(host, what, subject, fallback)
        problem = "no attempt made"
        last_status: int | None = None
        attempt = 0
        while True:
            attempt += 1
            retry_after: float | None = None
            try:
                resp = await self._http.request(
                    method, url, headers=headers, params=params, data=data
                )
            except httpx.HTTPError as exc:
                problem = f"network error ({type(exc).__name__}: {self.redact(str(exc))})"
                last_status = None
            else:
                last_status = resp.status_code
                if resp.status_code in RETRYABLE or resp.status_code >= 500:
                    problem = describe_failure(resp)
                    if resp.status_code in RETRY_AFTER_STATUSES:
                        retry_after = self._capped(
                            parse_retry_after(resp.headers.get("Retry-After")), host, what
                        )
                else:
                    try:
                        body = resp.json()
                    except ValueError:
                        body = None
                    if not (200 <= resp.status_code < 300 and body is None):
                        return resp.status_code, body
                    problem = f"HTTP {resp.status_code} with a body that is not JSON"
            if retry_after is not None:
                self._hold(host, retry_after)
                if waited + retry_after > self._max_retry_s:
                    self._announced[host] = self._not_before[host]
                    log.error(
                        "Kick %s for %s: %s; that is beyond the %.0f s retry budget, so %s is "
                        "not asked again for %.0f s",
                        what, subject, problem, self._max_retry_s, host, retry_after,
                    )  # fmt: skip
                    raise KickUnavailable(
                        f"Kick is rate limiting us ({what} for {subject}): HTTP "
                        f"{last_status}; not asking {host} again for {retry_after:.0f} s",
                        subject,
                        last_status,
                        retry_after,
                    )
            delay = retry_after if retry_after is not None else backoff.next_delay()
            if attempt >= max_attempts or waited + delay > self._max_retry_s:
                break
            log.warning(
                "Kick %s for %s: %s; retry %d/%d in %.1f s",
                what,
                subject,
                problem,
                attempt,
                max_attempts - 1,
                delay,
            )
            await self._sleep(delay)
            waited += delay
        log.log(
            logging.INFO if fallback else logging.ERROR,
            "Kick %s for %s failed after %d attempt(s): %s",
            what,
            subject,
            attempt,
            problem,
        )
        raise KickUnavailable(
            f"Kick is unavailable ({what} for {subject}): {problem}, after {attempt} attempt(s)",
            subject,
            last_status,
        )

    def _capped(self, asked: float | None, host: str, what: str) -> float | None:
        """Kick's Retry-After, cut to ``kick.retry_after_max_s``; the cut is logged once per
        answer with Kick's own figure, so the operator sees both."""
        cap = max(0.0, self._cfg.retry_after_max_s)
        if asked is None or asked <= cap:
            return asked
        log.warning(
            "Kick %s: %s asked for %.0f s of quiet (Retry-After); waiting %.0f s instead "
            "(kick.retry_after_max_s)",
            what, host, asked, cap,
        )  # fmt: skip
        return cap

    def _hold(self, host: str, seconds: float) -> None:
        """Remember that `host` asked for `seconds` of quiet (the later of two asks wins)."""
        until = self._monotonic() + seconds
        self._not_before[host] = max(until, self._not_before.get(host, until))

    async def _wait_not_before(self, host: str, what: str, subject: str, fallback: bool) -> float:
        """Honour an earlier Retry-After of `host`: wait it out if it fits the budget (returns
        the seconds waited), else raise KickUnavailable without sending anything."""
        until = self._not_before.get(host)
        if until is None:
            return 0.0
        remaining = until - self._monotonic()
        if remaining <= 0:
            del self._not_before[host]
            self._announced.pop(host, None)
            return 0.0
        if remaining <= self._max_retry_s:
            log.info(
                "Kick %s for %s: %s asked for quiet; waiting %.1f s", what, subject, host, remaining
            )
            await self._sleep(remaining)
            return remaining
        first = self._announced.get(host) != until
        self._announced[host] = until
        log.log(
            logging.WARNING if first and not fallback else logging.DEBUG,
            "Kick %s for %s skipped: %s rate-limited us (Retry-After); next try in %.0f s",
            what, subject, host, remaining,
        )  # fmt: skip
        raise KickUnavailable(
            f"Kick is rate limiting us ({what} for {subject}): {host} asked us to wait, "
            f"{remaining:.0f} s to go",
            subject,
            None,
            remaining,
        )


def describe_failure(resp: httpx.Response) -> str:
    """A log-friendly reason for a retryable answer (Cloudflare page, JSON block, 429, 5xx)."""
    status = resp.status_code
    ra = resp.headers.get("Retry-After")
    suffix = f" (Retry-After {ra[:40]})" if ra and status in RETRY_AFTER_STATUSES else ""
    if status == 429:
        return f"HTTP 429 rate limited{suffix}"
    text = resp.text[:2000]
    if status == 403:
        if "Just a moment" in text or "cloudflare" in text.lower():
            return f"HTTP 403 blocked by a Cloudflare challenge{suffix}"
        try:
            err = resp.json()
        except ValueError:
            return f"HTTP 403 blocked{suffix}"
        msg = err.get("error") or err.get("message") if isinstance(err, dict) else None
        return (
            f"HTTP 403 blocked ({str(msg)[:120]}){suffix}" if msg else f"HTTP 403 blocked{suffix}"
        )
    return f"HTTP {status} server error{suffix}"
