"""Project-wide rules: engine purity, config completeness, the benchmark still runs."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from engine.config import Config, ConfigError, build, load_config

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN_IN_ENGINE = {"discord", "aiosqlite", "apscheduler"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(
    "path", sorted((ROOT / "engine").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_engine_never_imports_discord_or_storage(path: Path) -> None:
    assert not imported_modules(path) & FORBIDDEN_IN_ENGINE


PURE_CORE = ("detection", "triggers")


def test_triggers_are_pure() -> None:
    """No I/O, no asyncio, no wall clock inside the detection core (engine.detection and
    engine.triggers). import-linter checks the package rules; this adds the stdlib modules
    (time, os) that would let the wall clock or the file system in."""
    impure = {"asyncio", "time", "os", "socket", "httpx", "websockets", "subprocess"}
    paths = [p for pkg in PURE_CORE for p in (ROOT / "engine" / pkg).rglob("*.py")]
    assert any(p.name == "detector.py" for p in paths)
    for path in paths:
        assert not imported_modules(path) & impure, path


@pytest.mark.parametrize("folder", ["engine", "cogs", "storage", "bench", "publishing"])
def test_modules_stay_small(folder: str) -> None:
    """One responsibility per module: past ~400 lines a module is doing two things."""
    big = {
        str(p.relative_to(ROOT)): n
        for p in (ROOT / folder).rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) >= 400
    }
    assert big == {}


def test_engine_root_holds_only_foundations() -> None:
    """engine/ shows the architecture: its root keeps the foundations and the replay CLI; the
    rest lives in one package per responsibility."""
    root_modules = sorted(p.name for p in (ROOT / "engine").glob("*.py"))
    assert root_modules == ["__init__.py", "backoff.py", "events.py", "replay.py"]
    packages = sorted(p.name for p in (ROOT / "engine").iterdir() if (p / "__init__.py").exists())
    assert packages == ["config", "core", "detection", "kick", "media", "triggers"]
    for pkg in packages:
        doc = (ROOT / "engine" / pkg / "__init__.py").read_text(encoding="utf-8")
        assert doc.startswith('"""') and "import" in doc, f"engine/{pkg} says what it may import"


def test_shipped_config_sets_every_key() -> None:
    """config.yaml is the reference for defaults: every dataclass field appears in it."""
    raw = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))

    def walk(cls: type, data: dict, where: str) -> None:
        import dataclasses

        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            assert f.name in data, f"config.yaml lacks {where}{f.name}"
            if dataclasses.is_dataclass(f.default_factory):  # type: ignore[arg-type]
                walk(f.default_factory, data[f.name], f"{where}{f.name}.")  # type: ignore[arg-type]

    walk(Config, raw, "")
    load_config(ROOT / "config.yaml")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"clips": {"before_s": "twenty"}}, "clips.before_s: expected a number"),
        ({"triggers": {"keyword": {"high": "CLIP IT"}}}, "expected a list"),
        ({"limits": {"daily_max_clips": 2.5}}, "expected a whole number"),
        ({"triggers": {"keyword": {"enabled": "yes"}}}, "expected true or false"),
        ({"kick": 3}, "kick: expected a mapping"),
        ({"nope": {}}, "unknown key nope"),
    ],
)
def test_bad_config_is_a_clear_error(data: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build(Config, data)


def test_throughput_benchmark_runs_small() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "bench/engine_throughput.py",
            "--messages",
            "3000",
            "--runs",
            "1",
            "--hour-rate",
            "2",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    for label in ("detector on events", "raw decode of Pusher frames", "KiB held", "ratio"):
        assert label in proc.stdout


def test_every_config_key_is_read_by_the_code() -> None:
    """A documented key the bot ignores is a lie in the README: each field's name must be read
    (as `.name` or "name") somewhere outside engine/config/."""
    import dataclasses
    import re
    import typing

    sources = [ROOT / "bot.py"]
    for folder in ("engine", "cogs", "storage", "publishing", "web"):
        sources += [
            p for p in (ROOT / folder).rglob("*.py") if p.parent != ROOT / "engine" / "config"
        ]
    text = "\n".join(p.read_text(encoding="utf-8") for p in sources)
    unread: list[str] = []

    def walk(cls: type, prefix: str) -> None:
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            if dataclasses.is_dataclass(hints[f.name]):
                walk(hints[f.name], f"{prefix}{f.name}.")
            elif not re.search(rf"\.{f.name}\b|[\"']{f.name}[\"']", text):
                unread.append(prefix + f.name)

    walk(Config, "")
    assert unread == []
