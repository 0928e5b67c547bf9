# Sourced by scripts/run and scripts/test: makes .venv and installs the project into it.
# Re-installs only when pyproject.toml changed, so the second run starts at once.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
py="${PYTHON:-python3}"
extra="${1:-}"
if [ ! -x .venv/bin/python ]; then
    "$py" -m venv .venv
fi
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)${extra:+-$extra}"
if [ ! -f "$stamp" ]; then
    echo "installing the project into .venv (first run or pyproject.toml changed; 1-3 minutes)..." >&2
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".${extra:+[$extra]}"
    rm -f .venv/.installed-*
    touch "$stamp"
fi
