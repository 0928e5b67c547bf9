"""The retrying transport under the Kick client: one request, bounded retries, clear reasons.

Kick's site endpoints sit behind Cloudflare and its API rate-limits, so 403, 429, 5xx, network
errors and a 200 that is not JSON are retried with jittered backoff (a 429 waits its Retry-After)
under a budget of attempts and seconds, then surface as KickUnavailable. Kept apart from the
endpoints so the policy is one piece of code with one set of tests, and so secrets (the client
secret, the app token) are scrubbed from every reason it logs or raises.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import httpx

from engine.backoff import Backoff, parse_retry_after
from engine.config import KickConfig
from engine.kick_models import KickUnavailable

log = logging.getLogger("engine.kick_api")

RETRYABLE = frozenset({403, 429})

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
    ) -> None:
        self._cfg = config
        self._http = http
        self._sleep = sleep
        self._rand = rand
        self._max_attempts = max(1, max_attempts)
        self._max_retry_s = max_retry_s
        self._secrets = secrets

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
        waited = 0.0
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
                    if resp.status_code == 429:
                        retry_after = parse_retry_after(resp.headers.get("Retry-After"))
                else:
                    try:
                        body = resp.json()
                    except ValueError:
                        body = None
                    if not (200 <= resp.status_code < 300 and body is None):
                        return resp.status_code, body
                    problem = f"HTTP {resp.status_code} with a body that is not JSON"
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


def describe_failure(resp: httpx.Response) -> str:
    """A log-friendly reason for a retryable answer (Cloudflare page, JSON block, 429, 5xx)."""
    status = resp.status_code
    if status == 429:
        ra = resp.headers.get("Retry-After")
        return f"HTTP 429 rate limited (Retry-After {ra})" if ra else "HTTP 429 rate limited"
    text = resp.text[:2000]
    if status == 403:
        if "Just a moment" in text or "cloudflare" in text.lower():
            return "HTTP 403 blocked by a Cloudflare challenge"
        try:
            err = resp.json()
        except ValueError:
            return "HTTP 403 blocked"
        msg = err.get("error") or err.get("message") if isinstance(err, dict) else None
        return f"HTTP 403 blocked ({str(msg)[:120]})" if msg else "HTTP 403 blocked"
    return f"HTTP {status} server error"
