"""What ships: the README documents every config key and variable, the two commands are the ones
CI runs, and the Dockerfile follows the rules the image's users rely on (hadolint-clean too)."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
FREE_FORM = {"kick.chatrooms"}  # a mapping whose keys are the user's, not ours


def leaf_keys(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        dotted = prefix + key
        if isinstance(value, dict) and dotted not in FREE_FORM:
            out.update(leaf_keys(value, dotted + "."))
        else:
            out[dotted] = value
    return out


CONFIG_KEYS = leaf_keys(yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8")))
ROWS = {
    m.group(1): m.group(2).strip()
    for m in re.finditer(r"^\| `([a-z_.]+)` \| (.*?) \| .+ \|$", README, flags=re.MULTILINE)
}


@pytest.mark.parametrize("key", sorted(CONFIG_KEYS))
def test_every_config_key_is_documented_with_its_default(key: str) -> None:
    assert key in ROWS, f"README's configuration reference lacks `{key}`"
    cell = ROWS[key]
    code = re.fullmatch(r"`([^`]*)`", cell)
    if code is None:
        return  # described in words (a long list, a long string)
    assert yaml.safe_load(code.group(1)) == CONFIG_KEYS[key] or (
        code.group(1) == "" and CONFIG_KEYS[key] == ""
    ), f"README says {key} defaults to {cell}, config.yaml says {CONFIG_KEYS[key]!r}"


def test_the_reference_has_no_keys_that_do_not_exist() -> None:
    documented = {k for k in ROWS if "." in k and k.split(".")[0] in _sections()}
    assert documented <= set(CONFIG_KEYS), documented - set(CONFIG_KEYS)


def _sections() -> set[str]:
    return {k.split(".")[0] for k in CONFIG_KEYS}


def environment_names() -> set[str]:
    """Every variable the shipped code reads with os.environ.get (or environ.get on the
    mapping a function is given, as engine.config does)."""
    names: set[str] = set()
    for path in [
        ROOT / "bot.py",
        *(ROOT / "engine").rglob("*.py"),
        *(ROOT / "cogs").rglob("*.py"),
        *(ROOT / "publishing").rglob("*.py"),
    ]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get"
                and ast.unparse(node.func.value) in ("os.environ", "environ")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                names.add(str(node.args[0].value))
    return names


def test_every_environment_variable_is_documented() -> None:
    names = environment_names()
    assert {"DISCORD_TOKEN", "KICK_CLIENT_SECRET", "CLIPBOT_CONFIG"} <= names
    for name in names:
        assert f"`{name}`" in README or f"`{name}`," in README, name


def test_readme_run_and_test_are_one_command_each_and_ci_runs_the_test_one() -> None:
    def command(section: str) -> str:
        body = README.split(f"\n## {section}\n", 1)[1]
        block = re.search(r"```sh\n(.*?)```", body, flags=re.DOTALL)
        assert block is not None
        lines = [x for x in block.group(1).splitlines() if x.strip()]
        assert len(lines) == 1, lines
        return lines[0]

    assert command("Run") == "DISCORD_TOKEN=your-bot-token scripts/run"
    assert command("Test") == "scripts/test"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^scripts/test\b", ci, flags=re.MULTILINE), ci


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_dockerfile_rules() -> None:
    ins = instructions()
    assert ins[0] == ("FROM", "debian:bookworm-slim")
    assert "<<" not in DOCKERFILE, "heredocs fail under the CI's buildah"
    by = {word: rest for word, rest in ins}  # the last of each
    assert re.fullmatch(r"\d+:\d+", by["USER"]) and not by["USER"].startswith("0"), "non-root"
    assert json.loads(by["VOLUME"]) == ["/data"]
    assert by["STOPSIGNAL"] == "SIGTERM"
    entry = json.loads(by["ENTRYPOINT"])  # exec form: the bot itself gets SIGTERM
    assert entry[-2:] == ["python", "/app/bot.py"] and "tini" in entry[0]
    health = by["HEALTHCHECK"]
    assert json.loads(health.split("CMD", 1)[1]) == ["python", "-m", "engine.core.health"]
    env = " ".join(rest for word, rest in ins if word == "ENV")
    assert "CLIPBOT__STORAGE__DATA_DIR=/data" in env
    run = " ".join(rest for word, rest in ins if word == "RUN")
    for package in ("ffmpeg", "chromium", "python3-venv"):
        assert package in run
    assert "--mount=type=secret,id=ca" in run, "a custom CA for pip at build time"


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or str(Path(ROOT / ".venv" / "bin" / "hadolint"))
    proc = subprocess.run(
        [hadolint, "Dockerfile"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_compose_and_env_example() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    service = compose["services"]["clipbot"]
    assert service["env_file"] == ".env"
    assert any(v.endswith(":/data") for v in service["volumes"])
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    values = dict(
        line.split("=", 1) for line in example.splitlines() if line and not line.startswith("#")
    )
    assert set(values) == {"DISCORD_TOKEN", "KICK_CLIENT_ID", "KICK_CLIENT_SECRET"}
    assert not any(values.values()), "the example holds no secret"
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert ".env" in ignored and "data/" in ignored
    dockerignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert "*" in dockerignore, "the build context is a whitelist"
    assert not {"!.env", "!data", "!data/", "!.git"} & set(dockerignore)
