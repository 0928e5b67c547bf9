"""The dashboard's pure pieces: one-time links, library queries, the session key file, the
reviewer rule, its config keys, `--check`'s and the healthcheck's view of it."""

from __future__ import annotations

import dataclasses
import socket
import stat
from pathlib import Path
from typing import Any

import pytest

from engine.config import Config, ConfigError, load_config
from engine.config.schema import WebConfig
from engine.core.access import may_review
from engine.core.checks import _web
from engine.core.health import web_answers
from engine.core.library import ClipQuery, QueryError, parse_query
from engine.core.login import MAX_OPEN_LINKS, LinkRefused, LoginGrant, LoginLinks
from web.secret import ENV, session_secret


class Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


def test_a_link_works_once_and_for_ten_minutes() -> None:
    clock = Clock()
    links = LoginLinks(clock)
    token = links.issue(1, 2)
    assert links.redeem(token) == LoginGrant(1, 2)
    with pytest.raises(LinkRefused, match="already used"):
        links.redeem(token)
    late = links.issue(1, 3)
    clock.t += 10 * 60 + 1
    with pytest.raises(LinkRefused, match="expired"):
        links.redeem(late)
    with pytest.raises(LinkRefused, match="unknown or expired"):
        links.redeem("made-up")
    clock.t += 10 * 60 + 1  # long gone: forgotten, still refused
    with pytest.raises(LinkRefused):
        links.redeem(token)


def test_open_links_are_bounded() -> None:
    links = LoginLinks(Clock())
    first = links.issue(1, 1)
    for i in range(MAX_OPEN_LINKS):
        links.issue(1, i)
    assert len(links._open) == MAX_OPEN_LINKS
    with pytest.raises(LinkRefused):
        links.redeem(first)  # the oldest made room


def test_library_queries_are_checked() -> None:
    q = parse_query(
        {"streamer": " XQC ", "status": "posted", "trigger": "keyword", "favorite": "true",
         "q": "ace", "since": "2026-01-01", "until": "2026-01-31", "limit": "10", "sort": "time"}
    )  # fmt: skip
    assert q == ClipQuery("xqc", "posted", "keyword", True, "ace", "2026-01-01", "2026-01-31",
                          limit=10)  # fmt: skip
    assert parse_query({"streamer": "", "q": " "}) == ClipQuery()  # empty means no filter

    class Row:
        id, confidence = 42, 0.75

    scored = parse_query({"sort": "score"})
    again = parse_query({"sort": "score", "before": scored.cursor_after(Row())})
    assert (again.before_score, again.before_id) == (0.75, 42)
    assert parse_query({"before": parse_query({}).cursor_after(Row())}).before_id == 42
    for bad, message in (
        ({"status": "lost"}, "status must be"),
        ({"limit": "500"}, "limit must be 1 to 200"),
        ({"limit": "x"}, "whole number"),
        ({"since": "31/01/2026"}, "since must be a day"),
        ({"before": "abc"}, "cursor"),
        ({"sort": "score", "before": "1"}, "cursor"),
        ({"streamer": "no spaces"}, "Kick channel name"),
        ({"favorite": "maybe"}, "true or false"),
        ({"q": "x" * 101}, "at most 100"),
    ):
        with pytest.raises(QueryError, match=message):
            parse_query(bad)


def test_the_session_key_is_made_once_and_private(tmp_path: Path) -> None:
    key = session_secret(tmp_path, {})
    path = tmp_path / "web_session.key"
    assert len(key) == 64 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert session_secret(tmp_path, {}) == key  # sessions survive a restart
    path.chmod(0o644)
    assert session_secret(tmp_path, {}) == key and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert session_secret(tmp_path, {ENV: "e" * 40}) == "e" * 40
    with pytest.raises(ValueError, match="at least 32"):
        session_secret(tmp_path, {ENV: "short"})


def test_the_reviewer_rule() -> None:
    assert may_review(True, [], None)
    assert may_review(False, [5, 7], 7)
    assert not may_review(False, [5], 7)
    assert not may_review(False, [5], None)


def test_web_config_keys(tmp_path: Path) -> None:
    config = load_config(None, {"CLIPBOT__WEB__PORT": "9000", "CLIPBOT__WEB__BIND": "0.0.0.0"})
    assert config.web == WebConfig(True, "0.0.0.0", 9000, "")
    for env, message in (
        ({"CLIPBOT__WEB__PORT": "70000"}, "web.port"),
        ({"CLIPBOT__WEB__PUBLIC_URL": "clips.example.org"}, "web.public_url"),
        ({"CLIPBOT__WEB__PUBLIC_URL": "ftp://x"}, "web.public_url"),
    ):
        with pytest.raises(ConfigError, match=message):
            load_config(None, env)
    assert load_config(None, {"CLIPBOT__WEB__PUBLIC_URL": "https://c.example.org/"}).web.public_url


def with_web(**kw: Any) -> Config:
    return dataclasses.replace(Config(), web=WebConfig(**kw))


def test_check_says_whether_the_dashboard_can_listen() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = _web(with_web(bind="127.0.0.1", port=port))
    assert not busy.ok and not busy.hard and "in use" in busy.line()  # WARN: maybe the bot
    free = _web(with_web(bind="127.0.0.1", port=port))
    assert free.ok and f"127.0.0.1:{port}" in free.detail
    wrong = _web(with_web(bind="203.0.113.9", port=port))  # not an address of this machine
    assert not wrong.ok and wrong.hard and "web.bind" in wrong.line()
    assert _web(with_web(enabled=False)).ok


def test_healthcheck_fails_when_the_dashboard_does_not_answer() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    ok, why = web_answers(with_web(bind="127.0.0.1", port=port), timeout_s=2)
    assert not ok and "dashboard not answering" in why
    assert web_answers(with_web(enabled=False)) == (True, "")
