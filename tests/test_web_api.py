"""The dashboard's REST API and pages against the real bot (FakeDiscord, real discord.py, real
SQLite): every route, and every refusal the issue names: no session, a used or expired link,
a member without the role, a role removed mid-session, another server's clip, a missing CSRF
token, a cross-origin write. Actions on the web edit the Discord review message; button
clicks in Discord show on the web (the API and the live event stream)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from typing import TYPE_CHECKING, Any

import aiohttp

from engine.core.health import web_answers
from engine.events import Moment
from tests.bot_harness import updated
from tests.test_bot_commands import _watch_live
from tests.test_bot_review import BUTTONS, disabled, fields, posted_clip
from tests.web_client import dashboard_link, logged_in, redeem

if TYPE_CHECKING:
    from tests.bot_harness import BotHarness


def board(h: BotHarness) -> Any:
    return h.services.extra["dashboard"]


async def test_reads_filters_pages_and_media(harness: BotHarness) -> None:
    h = harness
    await h.setup_review()
    first, _ = await posted_clip(h)
    second, _ = await posted_clip(h, streamer="trainwreck", trigger="chat_velocity")
    third, _ = await posted_clip(h, triggers=("keyword", "emote_flood"), trigger="hype_moment")
    async with logged_in(h, h.cast.reviewer) as user:
        status, body = await user.call("GET", "/api/clips")
        assert status == 200 and [c["id"] for c in body["clips"]] == [third, second, first]
        clip = body["clips"][2]
        assert clip["streamer"] == "xqc" and clip["status"] == "posted" and clip["score"] == 0.87
        assert set(clip["media"]) == {"original", "preview", "thumbnail"}

        async def ids(query: str) -> list[int]:
            status, body = await user.call("GET", f"/api/clips?{query}")
            assert status == 200, body
            return [c["id"] for c in body["clips"]]

        assert await ids("streamer=trainwreck") == [second]
        assert await ids("trigger=emote_flood") == [third]  # a part of a combo finds the combo
        assert await ids("status=approved") == []
        assert await ids("sort=score&limit=3") == [third, second, first]  # equal scores: newest
        today = time.strftime("%Y-%m-%d", time.gmtime())
        assert await ids(f"since={today}&until={today}") == [third, second, first]
        assert await ids("until=2000-01-01") == []
        status, page1 = await user.call("GET", "/api/clips?limit=2")
        assert [c["id"] for c in page1["clips"]] == [third, second] and page1["next"]
        assert await ids(f"limit=2&before={page1['next']}") == [first]
        status, body = await user.call("GET", "/api/clips?limit=2&before=2")
        assert [c["id"] for c in body["clips"]] == [first] and body["next"] is None
        for bad in ("status=nope", "limit=0", "before=x", "since=yesterday", "sort=random"):
            status, body = await user.call("GET", f"/api/clips?{bad}")
            assert status == 400 and body["error"], bad

        status, body = await user.call("PATCH", f"/api/clips/{first}", json={"title": "The ace"})
        assert status == 200 and body["clip"]["title"] == "The ace"
        assert await ids("q=ACE") == [first] and await ids("q=%25") == []  # LIKE escaped

        status, one = await user.call("GET", f"/api/clips/{second}")
        assert status == 200 and one["trigger"] == "chat_velocity"
        assert one["details"]["viewers"] == 15234
        status, pending = await user.call("GET", "/api/review/pending")
        assert [c["id"] for c in pending["clips"]] == [first, second, third]  # oldest first
        assert pending["total"] == 3
        status, stats = await user.call("GET", "/api/review/stats")
        assert stats["pending"] == 3 and stats["approval_rate"] is None
        status, live = await user.call("GET", "/api/streamers")
        assert status == 200 and live == {"streamers": []}  # nobody watched in this test

        for path, text in (
            ("/clips", "The ace"),
            (f"/clips/{first}", 'id="publish"'),
            ("/review", "3 waiting"),
            ("/live", "watches nobody"),
            ("/stats", "Clips per streamer and day"),
        ):
            async with user.http.get(user.base + path) as r:
                assert r.status == 200 and text in await r.text(), path

        async with user.http.get(f"{user.base}/clips/{first}") as r:
            page = await r.text()
        assert "KEKW" in page and "[emote:" not in page  # chat as people read it
        url = f"{user.base}/media/{first}/original"
        async with user.http.get(url, headers={"Range": "bytes=0-8"}) as r:
            assert r.status == 206 and await r.read() == b"original "
            assert r.headers["Content-Range"] == "bytes 0-8/90"
        async with user.http.get(url + "?download=1") as r:
            assert "attachment" in r.headers["Content-Disposition"]
        async with user.http.get(f"{user.base}/media/{first}/secrets") as r:
            assert r.status == 404


async def test_web_actions_edit_the_discord_message(harness: BotHarness) -> None:
    h = harness
    await h.setup_review()
    clip, msg = await posted_clip(h)
    other, other_msg = await posted_clip(h)
    more_posted = [await posted_clip(h) for _ in range(2)]
    more = [clip_id for clip_id, _ in more_posted]
    bare, _ = await posted_clip(h, preview=None, thumbnail=None)  # posted as text only
    async with logged_in(h, h.cast.reviewer) as user:
        async with user.http.get(user.base + "/clips") as r:
            assert r.status == 200 and "no preview" in await r.text()  # a clip without files
        status, body = await user.call("GET", f"/api/clips/{bare}")
        assert body["media"]["preview"] is None and body["media"]["original"]
        status, body = await user.call("POST", f"/api/clips/{clip}/approve")
        assert status == 200 and body["changed"] and body["clip"]["status"] == "approved"
        await h.fake.wait_for(lambda: fields(msg)["Status"].startswith("✅ approved"))
        status, body = await user.call("POST", f"/api/clips/{clip}/approve")
        assert status == 409 and not body["changed"]  # already: nothing changes twice
        status, body = await user.call("POST", f"/api/clips/{clip}/favorite")
        assert body["clip"]["favorite"] is True
        status, body = await user.call("PATCH", f"/api/clips/{clip}", json={"title": ""})
        assert status == 400 and "1 to 100" in body["error"]
        status, body = await user.call("PATCH", f"/api/clips/{clip}", json={"name": "x"})
        assert status == 400
        evil = "<script>alert(1)</script>"
        status, body = await user.call("PATCH", f"/api/clips/{clip}", json={"title": evil})
        assert status == 200 and body["clip"]["title"] == evil
        async with user.http.get(f"{user.base}/clips/{clip}") as r:
            page = await r.text()
        assert evil not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # escaped

        status, body = await user.call(
            "POST", "/api/review/bulk", json={"action": "reject", "ids": [*more, clip, 999999]}
        )
        # like clicking each: the approved one changes its mind too, the unknown id is skipped
        assert status == 200 and sorted(body["changed"]) == sorted([clip, *more])
        assert body["unchanged"] == 1
        for _, message in more_posted:  # each review message in Discord follows
            await h.fake.wait_for(lambda m=message: disabled(m) == {"reject"})
        for bad in ({"action": "delete", "ids": more}, {"action": "approve", "ids": ["1"]}):
            status, _ = await user.call("POST", "/api/review/bulk", json=bad)
            assert status == 400

        # Discord's button shows on the web: in the API and at once on an open page (SSE).
        async with user.http.get(user.base + "/events") as stream:
            assert stream.status == 200
            click = await h.fake.inject_button(other_msg, f"clip:reject:{other}", h.cast.manager)
            await updated(click)
            event = await asyncio.wait_for(next_event(stream, "clip"), 5)
            assert event["origin"] == "discord" and event["clip"]["id"] == other
            assert event["clip"]["status"] == "rejected"
        status, body = await user.call("GET", f"/api/clips/{other}")
        assert body["status"] == "rejected"

        status, body = await user.call("DELETE", f"/api/clips/{clip}")
        assert status == 200 and body["clip"]["status"] == "deleted"
        assert (await h.app.clips.get(clip)).original_path  # row kept, files gone
        await h.fake.wait_for(lambda: disabled(msg) == set(BUTTONS))  # Discord shows it


def moment(streamer: str) -> Moment:
    t = time.time()
    return Moment(t, streamer, "keyword", ("keyword",), 0.7, t - 20, t + 25, key=f"{streamer}-t")


async def next_event(stream: aiohttp.ClientResponse, name: str) -> Any:
    """The data of the next server-sent event called `name`."""
    event = ""
    async for raw in stream.content:
        line = raw.decode().rstrip("\r\n")
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and event == name:
            return json.loads(line.split(":", 1)[1])
    raise AssertionError("the event stream ended")


async def test_refusals(harness: BotHarness) -> None:
    h, cast = harness, harness.cast
    await h.setup_review()
    clip, _ = await posted_clip(h)
    base = board(h).base_url
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as anon:
        for method, path in (("GET", "/api/clips"), ("POST", f"/api/clips/{clip}/approve")):
            async with anon.request(method, base + path, headers={"Origin": base}) as r:
                assert r.status == 401 and "run /dashboard" in (await r.json())["error"]
        async with anon.get(base + "/clips") as r:
            assert r.status == 401 and "/dashboard" in await r.text()

        # a member without the role is refused by /dashboard, and by a link made for them
        refused = await h.answer(cast.plain, "dashboard")
        assert "Only reviewers" in (refused.content or "")
        status, page = await redeem(anon, board(h).login_url(cast.guild.id, cast.plain.id))
        assert status == 403 and "may not see this server" in page
        # a link is used once, and lasts 10 minutes
        link = await dashboard_link(h, cast.reviewer)
        async with anon.post(link, headers={"Origin": "http://evil.example"}) as r:
            assert r.status == 403  # a cross-origin login does not use the link up
        assert (await redeem(anon, link))[0] == 200
        status, page = await redeem(anon, link)
        assert status == 403 and "already used" in page
        links = board(h).links
        late = await dashboard_link(h, cast.reviewer)
        links.clock = lambda: time.time() + 601
        status, page = await redeem(anon, late)
        links.clock = time.time
        assert status == 403 and "expired" in page

    other_guild_clip = await h.ready_clip()
    await h.app.clips.transition(other_guild_clip, None, status="posted")
    await h.services.db.execute(
        "UPDATE clips SET guild_id = 424242 WHERE id = ?", (other_guild_clip,)
    )
    async with logged_in(h, cast.reviewer) as user:
        for method, path in (
            ("GET", f"/api/clips/{other_guild_clip}"),
            ("POST", f"/api/clips/{other_guild_clip}/approve"),
            ("DELETE", f"/api/clips/{other_guild_clip}"),
        ):
            status, body = await user.call(method, path)
            assert status == 404, (method, path, body)
        status, body = await user.call("GET", "/api/clips")
        assert [c["id"] for c in body["clips"]] == [clip]
        async with user.http.get(f"{user.base}/media/{other_guild_clip}/original") as r:
            assert r.status == 404

        status, body = await user.call(
            "POST", f"/api/clips/{clip}/approve", headers={"X-CSRF-Token": ""}
        )
        assert status == 403 and "CSRF" in body["error"]
        status, body = await user.call(
            "POST", f"/api/clips/{clip}/approve", headers={"Origin": "http://evil.example"}
        )
        assert status == 403 and "cross-origin" in body["error"]
        status, body = await user.call("POST", f"/api/clips/{clip}/approve", headers={"Origin": ""})
        assert status == 403
        assert (await h.app.clips.get(clip)).status == "posted"

        async with user.http.post(
            user.base + "/logout", data={"csrf": "wrong"}, headers={"Origin": user.base}
        ) as r:
            assert r.status == 403  # a forged logout form changes nothing
        status, _ = await user.call("GET", "/api/clips")
        assert status == 200

        h.fake.set_member_roles(cast.guild, cast.reviewer, [])  # the role is taken away
        status, body = await user.call("POST", f"/api/clips/{clip}/approve")
        assert status == 403 and "not a reviewer" in body["error"]
        assert (await h.app.clips.get(clip)).status == "posted"

    h.fake.set_member_roles(cast.guild, cast.reviewer, [cast.reviewers])
    async with logged_in(h, cast.reviewer) as user:
        async with user.http.post(
            user.base + "/logout", data={"csrf": user.csrf}, headers={"Origin": user.base}
        ) as r:
            assert r.status == 200 and "Logged out" in await r.text()
        status, _ = await user.call("GET", "/api/clips")
        assert status == 401  # the cookie is gone


async def test_live_state_of_watched_streamers(harness: BotHarness) -> None:
    h = harness
    await _watch_live(h, "xqc", viewers=12345)
    async with logged_in(h, h.cast.reviewer) as user:

        async def live_now() -> dict[str, Any] | None:
            _, body = await user.call("GET", "/api/streamers")
            found = body["streamers"]
            return found[0] if found and found[0]["live"] and found[0]["viewers"] else None

        streamer = None
        for _ in range(100):  # the poller reports within a poll interval (0.5 s here)
            if (streamer := await live_now()) is not None:
                break
            await asyncio.sleep(0.05)
        assert streamer is not None, "the streamer never showed live"
        assert streamer["streamer"] == "xqc" and streamer["viewers"] == 12345
        names = {name for name, _ in streamer["bars"]}
        assert {"velocity", "baseline", "threshold", "clips today"} <= names  # every field
        async with user.http.get(user.base + "/live") as r:
            page = await r.text()
        assert 'data-streamer="xqc"' in page and "<th>threshold</th>" in page
        async with user.http.get(user.base + "/events") as stream:
            first = await asyncio.wait_for(next_event(stream, "live"), 5)
            assert [s["streamer"] for s in first] == ["xqc"] and first[0]["live"]
            for hook in h.app.on_moment_hooks:  # what App.on_moment does once a clip is stored
                await hook(h.cast.guild.id, moment("xqc"), 77)
            told = await asyncio.wait_for(next_event(stream, "moment"), 5)
        assert told["moment"]["clip_id"] == 77 and told["moment"]["triggers"] == ["keyword"]
        async with user.http.get(user.base + "/stats/chart/xqc.png") as r:
            assert r.status == 200 and (await r.read()).startswith(b"\x89PNG")
        async with user.http.get(user.base + "/stats/chart/nobody.png") as r:
            assert r.status == 404


async def test_review_cards_link_to_the_clip_page_with_a_public_url(harness: BotHarness) -> None:
    h = harness
    public = "https://clips.example.org"
    h.config = dataclasses.replace(
        h.config, web=dataclasses.replace(h.config.web, public_url=public)
    )
    await h.restart()
    await h.setup_review()
    clip, msg = await posted_clip(h)

    def links() -> list[tuple[str, str]]:
        return [
            (c["label"], c["url"])
            for row in msg.components
            for c in row["components"]
            if c.get("style") == 5  # a link button
        ]

    assert links() == [("Open / original", f"{public}/clips/{clip}")]
    click = await h.fake.inject_button(msg, f"clip:approve:{clip}", h.cast.reviewer)
    await updated(click)
    assert fields(msg)["Status"].startswith("✅ approved")
    assert links() == [("Open / original", f"{public}/clips/{clip}")]  # kept on re-render
    link = await dashboard_link(h, h.cast.reviewer, public)
    assert link.startswith(f"{public}/login/")
    # the healthcheck reaches the running dashboard on its port
    web = dataclasses.replace(h.config.web, port=board(h).port)
    assert await asyncio.to_thread(web_answers, dataclasses.replace(h.config, web=web)) == (
        True,
        "",
    )


async def test_an_open_live_page_does_not_hold_up_shutdown(harness: BotHarness) -> None:
    h = harness
    async with (
        logged_in(h, h.cast.manager) as user,  # Manage Server: no /setup needed
        user.http.get(user.base + "/events") as stream,
    ):
        assert await asyncio.wait_for(next_event(stream, "live"), 5) == []
        loop = asyncio.get_running_loop()
        started = loop.time()
        await h.stop()
        assert loop.time() - started < 3.0  # the stream ends with the bot
        rest = await asyncio.wait_for(stream.content.read(), 5)
        assert b"event: clip" not in rest
