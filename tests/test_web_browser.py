"""The dashboard in a real browser: headless Debian Chromium driven by Selenium (never a
downloaded driver: /usr/bin/chromium + /usr/bin/chromedriver, installed by scripts/browser-deps).

The real bot runs against the fake Discord; a reviewer's /dashboard link comes from the fake's
recorded ephemeral reply. The browser opens it, logs in, finds the clip in the grid, hovers it
until the real H.264 preview plays (currentTime advances), approves it on the clip page, and the
review message in the fake Discord shows it approved; a second clip is approved with the review
queue's keyboard shortcut (A). CLIPBOT_SCREENSHOTS=<dir> also saves the
grid at desktop and phone width (how docs/ got its pictures).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from engine.media.ffmpeg_bin import ffmpeg_exe
from tests.test_bot_commands import _watch_live
from tests.test_bot_review import disabled, fields, posted_clip
from tests.test_web_api import moment
from tests.web_client import dashboard_link

if TYPE_CHECKING:
    from tests.bot_harness import BotHarness

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="Debian's chromium + chromium-driver are not installed (scripts/browser-deps "
        "installs them when run as root)",
    ),
]


def real_clip_files(folder: Path) -> tuple[bytes, bytes]:
    """A 4 s 320x180 H.264/AAC faststart preview and a JPEG thumbnail, made by ffmpeg."""
    preview, thumb = folder / "preview.mp4", folder / "thumb.jpg"
    src = ["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25"]
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", *src, "-f", "lavfi", "-i", "sine=frequency=440",
         "-t", "4", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac",
         "-movflags", "+faststart", str(preview)],
        check=True, timeout=60,
    )  # fmt: skip
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", *src, "-frames:v", "1", str(thumb)],
        check=True,
        timeout=60,
    )
    return preview.read_bytes(), thumb.read_bytes()


@pytest.fixture
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    options.page_load_strategy = "eager"  # the DOM is enough; media keep loading after it
    for arg in (
        "--headless=new",
        "--no-sandbox",  # CI containers run as root
        "--disable-dev-shm-usage",
        "--mute-audio",
        "--window-size=1280,900",
        "--autoplay-policy=no-user-gesture-required",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def until(driver: Any, check: Callable[[Any], Any], timeout: float = 15) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(check)


async def test_login_grid_preview_approve(
    harness: BotHarness, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    h = harness
    await h.setup_review()
    preview, thumb = await asyncio.to_thread(real_clip_files, tmp_path)
    clip_id, msg = await posted_clip(h, preview=preview, thumbnail=thumb)
    other, other_msg = await posted_clip(h, streamer="trainwreck", preview=preview, thumbnail=thumb)
    for row in [await h.app.clips.get(i) for i in (clip_id, other)]:
        assert row is not None and row.original_path
        Path(row.original_path).write_bytes(preview)  # a playable original too
    link = await dashboard_link(h, h.cast.reviewer)

    def log_in_and_play() -> float:
        browser.get(link)
        browser.find_element(By.ID, "login").click()
        card = until(browser, lambda d: d.find_element(By.CSS_SELECTOR, f'[data-clip="{clip_id}"]'))
        assert browser.current_url.endswith("/clips")
        assert "xqc" in card.text and "posted" in card.text.lower()
        video = card.find_element(By.CSS_SELECTOR, "video.hover-preview")
        assert video.get_property("paused")
        ActionChains(browser).move_to_element(card).perform()
        return float(until(browser, lambda d: (t := video.get_property("currentTime")) > 0.5 and t))

    played = await asyncio.to_thread(log_in_and_play)
    assert played > 0.5  # the preview really plays on hover

    def approve_on_clip_page() -> str:
        browser.get(f"{link.split('/login/')[0]}/clips/{clip_id}")
        player = browser.find_element(By.CSS_SELECTOR, ".player video")
        assert player.get_attribute("src").endswith(f"/media/{clip_id}/original")
        browser.find_element(By.CSS_SELECTOR, '[data-action="approve"]').click()
        badge = f'.info [data-status-for="{clip_id}"]'
        until(browser, lambda d: d.find_element(By.CSS_SELECTOR, badge).text.lower() == "approved")
        return str(browser.find_element(By.CSS_SELECTOR, badge).text)

    assert (await asyncio.to_thread(approve_on_clip_page)).lower() == "approved"
    await h.fake.wait_for(lambda: fields(msg)["Status"].startswith("✅ approved"))
    assert disabled(msg) == {"approve"}
    row = await h.app.clips.get(clip_id)
    assert row is not None and row.status == "approved" and row.reviewed_by == h.cast.reviewer.id

    def approve_with_the_keyboard() -> str:
        browser.get(f"{link.split('/login/')[0]}/review")
        item = browser.find_element(By.CSS_SELECTOR, ".qitem.current")
        assert item.get_attribute("data-clip") == str(other)  # the one still waiting
        browser.find_element(By.TAG_NAME, "body").send_keys("a")
        badge = f'.qitem [data-status-for="{other}"]'
        until(browser, lambda d: d.find_element(By.CSS_SELECTOR, badge).text.lower() == "approved")
        return str(item.get_attribute("data-clip"))

    assert await asyncio.to_thread(approve_with_the_keyboard) == str(other)
    await h.fake.wait_for(lambda: fields(other_msg)["Status"].startswith("✅ approved"))

    # The Live page hears a new trigger over its event stream and lists it without a reload.
    base = link.split("/login/")[0]

    def open_live_page() -> None:
        browser.get(f"{base}/live")
        until(browser, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-stream"))

    await asyncio.to_thread(open_live_page)  # its event stream is subscribed now
    for hook in h.app.on_moment_hooks:
        await hook(h.cast.guild.id, moment("xqc"), 4242)

    def newest_recent() -> str:
        first = until(
            browser, lambda d: d.find_element(By.CSS_SELECTOR, '#recent a[href="/clips/4242"]')
        )
        return str(first.text)

    assert "xqc · keyword" in await asyncio.to_thread(newest_recent)

    shots = os.environ.get("CLIPBOT_SCREENSHOTS")
    if shots:
        await _watch_live(h, "xqc", viewers=12345)  # the Live page with someone on it
        await asyncio.to_thread(browser.get, f"{link.split('/login/')[0]}/clips")
        await asyncio.to_thread(screenshots, browser, Path(shots))


def screenshots(browser: Any, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    browser.get(browser.current_url)  # the grid again, previews at rest
    browser.save_screenshot(str(folder / "dashboard-clips.png"))
    browser.set_window_size(390, 844)
    browser.get(browser.current_url)
    browser.save_screenshot(str(folder / "dashboard-clips-phone.png"))
    browser.set_window_size(1280, 900)
    base = browser.current_url.rsplit("/clips", 1)[0]
    for page in ("review", "stats", "live"):
        browser.get(f"{base}/{page}")
        until(
            browser,
            lambda d: d.execute_script("return [...document.images].every(i => i.complete)"),
        )
        browser.save_screenshot(str(folder / f"dashboard-{page}.png"))
    first = browser.find_element("css selector", "#recent a").get_attribute("href")
    browser.get(first)
    browser.save_screenshot(str(folder / "dashboard-clip.png"))
