"""The replay CLI: the example captures, both formats, bad lines, and live == replay."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from engine.config import Config
from engine.detection.detector import Detector
from engine.replay import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
CHAT = "App\\Events\\ChatMessageEvent"
REQUIRED = {"t", "trigger", "triggers", "confidence", "clip_start", "clip_end"}


def run_replay(*args: str) -> tuple[list[dict], str]:
    proc = subprocess.run(
        [sys.executable, "-m", "engine.replay", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return [json.loads(line) for line in proc.stdout.splitlines()], proc.stderr


def seed_config_file(tmp_path: Path) -> Path:
    """config.yaml with the seed's fixed bars (triggers.adaptive.enabled: false)."""
    raw = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    raw["triggers"]["adaptive"]["enabled"] = False
    path = tmp_path / "seed.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def test_example_plain_with_viewers(tmp_path: Path) -> None:
    example = [str(EXAMPLES / "chat.jsonl"), "--viewers", str(EXAMPLES / "viewers.jsonl")]
    # The shipped adaptive bars on eight minutes of a never-seen channel: both moments are
    # clipped, and at most one chance burst besides (the bars are still mostly the prior).
    adaptive, _ = run_replay(*example)
    starts = {m["key"]: m["clip_start"] for m in adaptive}
    assert len(starts) <= 3
    for at in (240.0, 390.0):
        assert any(m["clip_start"] <= 1_767_900_000 + at <= m["clip_end"] for m in adaptive), (
            f"the moment at {at:.0f} s"
        )
    # The seed's fixed bars, exactly.
    seed = str(seed_config_file(tmp_path))
    moments, err = run_replay(*example, "--streamer", "demo", "--config", seed)
    assert all(m.keys() >= REQUIRED for m in moments)
    assert {m["streamer"] for m in moments} == {"demo"}
    clips = {m["key"]: m for m in moments}  # the last revision of each clip
    assert len(clips) == 2, "the fail at 4:00 and the raid at 6:30"
    fail, raid = sorted(clips.values(), key=lambda m: m["t"])
    assert fail["trigger"] == "super_combo" and "keyword" in fail["triggers"]
    assert "viewer_spike" in raid["triggers"]
    for m in clips.values():
        assert m["clip_end"] - m["clip_start"] <= 90
        assert m["details"]["samples"]
    assert err.count("\n") == 1 and "moments" in err and "bad lines" in err and "msgs/s" in err


def test_example_pusher_capture(tmp_path: Path) -> None:
    seed = str(seed_config_file(tmp_path))
    moments, err = run_replay(
        str(EXAMPLES / "chat_pusher.jsonl"), "--format", "pusher", "--config", seed
    )
    assert moments and moments[-1]["trigger"] == "super_combo"
    # The capture starts 90 s before the fail: adaptive chat bars are still learning this
    # never-seen channel (warmup_s), so by default the fail is clipped on its emote flood and
    # clip requests alone.
    shipped, _ = run_replay(str(EXAMPLES / "chat_pusher.jsonl"), "--format", "pusher")
    assert {m["key"] for m in shipped} == {shipped[0]["key"]}
    assert {"keyword", "emote_flood"} <= set(shipped[-1]["triggers"])
    assert "1 bad lines" in err, "the truncated frame is counted, not fatal"
    assert "4 ignored" in err, "ping, ack, connection and a deleted-message event"


def test_pusher_and_plain_decide_the_same(tmp_path: Path) -> None:
    plain = tmp_path / "plain.jsonl"
    with open(EXAMPLES / "chat_pusher.jsonl", encoding="utf-8") as src, open(plain, "w") as dst:
        for line in src:
            obj = json.loads(line)
            try:
                frame = json.loads(obj["frame"])
                data = json.loads(frame["data"])
                text, user = data["content"], data["sender"]["username"]
            except (ValueError, KeyError, TypeError):
                continue
            dst.write(json.dumps({"t": obj["t"], "user": user, "text": text}) + "\n")
    a, _ = run_replay(str(plain))
    b, _ = run_replay(str(EXAMPLES / "chat_pusher.jsonl"), "--format", "pusher")
    assert a == b


def test_replay_equals_live_feeding(shipped: Config, capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI decides exactly what a Detector fed the same events live decides."""
    assert main([str(EXAMPLES / "chat.jsonl"), "--streamer", "x"]) == 0
    replayed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert replayed, "the example's two moments"
    d = Detector("x", shipped)
    live = []
    with open(EXAMPLES / "chat.jsonl", encoding="utf-8") as f:
        for line in f:
            o = json.loads(line)
            live += [m.to_dict() for m in d.feed(d.message(o["t"], o["user"], o["text"]))]
    assert json.loads(json.dumps(live)) == replayed


def test_bad_lines_are_counted_never_fatal(tmp_path: Path) -> None:
    chat = tmp_path / "chat.jsonl"
    good = [json.dumps({"t": 1000 + i * 0.1, "user": f"u{i}", "text": "CLIP IT"}) for i in range(8)]
    bad = [
        "not json",
        "[1, 2]",
        json.dumps({"t": "soon", "user": "a", "text": "b"}),
        json.dumps({"t": 5, "user": 7, "text": "b"}),
        json.dumps({"t": 5, "viewers": -3}),
        json.dumps({"t": 5, "viewers": True}),
        json.dumps({"user": "a", "text": "b"}),
        '{"t": 1, "user": "a", "text": "\\ud800 lone surrogate"',
        '{"t": NaN, "user": "a", "text": "b"}',
        '{"t": Infinity, "user": "a", "text": "b"}',
        '{"t": 1e400, "user": "a", "text": "b"}',
        '{"t": -5, "user": "a", "text": "b"}',
        '{"t": 1e12, "user": "a", "text": "b"}',
        '{"t": ' + "9" * 400 + ', "user": "a", "text": "b"}',
        '{"t": 1000.5, "viewers": ' + "9" * 400 + "}",
        json.dumps({"t": 1000.5, "viewers": 10**9}),
        "[" * 100_000,
        '{"t": 1000.5, "user": "a", "text": ' + "[" * 100_000 + "}",
    ]
    chat.write_text("\n".join(bad[:4] + good + bad[4:]) + "\n\n", encoding="utf-8")
    # Seed bars: eight requests in the first second of a capture (adaptive bars would wait to
    # see the channel's normal first).
    moments, err = run_replay(str(chat), "--config", str(seed_config_file(tmp_path)))
    assert [m["trigger"] for m in moments] == ["keyword"]
    assert f"{len(bad)} bad lines" in err
    assert "Traceback" not in err


def test_bad_pusher_lines_are_counted_never_fatal(tmp_path: Path) -> None:
    chat = tmp_path / "chat.jsonl"
    bad = [
        "[" * 100_000,
        json.dumps({"t": 1000.0, "frame": "[" * 100_000}),
        json.dumps({"t": 1000.0, "frame": json.dumps({"event": CHAT, "data": "[" * 100_000})}),
        '{"t": NaN, "frame": "{}"}',
        '{"t": 1000.0, "viewers": ' + "9" * 400 + "}",
    ]
    chat.write_text("\n".join(bad) + "\n", encoding="utf-8")
    moments, err = run_replay(str(chat), "--format", "pusher")
    assert moments == []
    assert f"{len(bad)} bad lines" in err and "Traceback" not in err


def test_summary_counts_clips_besides_moments() -> None:
    """Upgrades are moments (one stdout line each) but not new clips."""
    moments, err = run_replay(
        str(EXAMPLES / "chat.jsonl"), "--viewers", str(EXAMPLES / "viewers.jsonl")
    )
    clips = len({m["key"] for m in moments})
    assert clips < len(moments)
    assert f"{len(moments)} moments ({clips} clips)" in err


def test_a_closed_stdout_is_a_quiet_exit(tmp_path: Path) -> None:
    """`python -m engine.replay x | head -c 10`: the reader leaving is not a read error."""
    chat = tmp_path / "chat.jsonl"
    lines = [
        json.dumps({"t": 1000 + i * 0.1, "user": f"u{i}", "text": "CLIP IT"}) for i in range(8)
    ]
    chat.write_text("\n".join(lines) + "\n", encoding="utf-8")
    seed = seed_config_file(tmp_path)  # a moment in the first second: the seed's bars
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first moment is written
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "engine.replay", str(chat), "--config", str(seed)],
            cwd=ROOT,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert proc.returncode == 141, proc.stderr
    assert proc.stderr == ""


def test_missing_file_and_bad_config_are_clear(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "engine.replay", str(tmp_path / "nope.jsonl")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "cannot read" in proc.stderr and "Traceback" not in proc.stderr
    cfg = tmp_path / "c.yaml"
    cfg.write_text("triggers:\n  keyword:\n    min_cout: 3\n", encoding="utf-8")
    (tmp_path / "x.jsonl").write_text("", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "engine.replay", str(tmp_path / "x.jsonl"), "--config", str(cfg)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "unknown key triggers.keyword.min_cout" in proc.stderr


def test_a_bad_timezone_is_refused_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("limits:\n  timezone: Nope/Zone\n", encoding="utf-8")
    (tmp_path / "x.jsonl").write_text("", encoding="utf-8")
    assert main([str(tmp_path / "x.jsonl"), "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "limits.timezone: unknown time zone 'Nope/Zone'" in err and "Traceback" not in err
