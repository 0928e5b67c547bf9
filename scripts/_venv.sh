# Sourced by scripts/run and scripts/test: makes .venv and installs the project into it.
# Defines `ensure_venv [EXTRA]` and nothing else: a sourced file sees its caller's arguments as
# its own, so reading "$1" here turned `scripts/run --check` into the pip extra `.[--check]`.
# One .venv, one install marker per (pyproject.toml, extra) pair: installing one extra set never
# deletes another's marker, so scripts/run after scripts/test (or the reverse) installs nothing and
# needs no network. The `dev` install is a superset of the plain one, so it satisfies
# scripts/run too. Only markers of an older pyproject.toml are removed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

ensure_venv() {
    local extra="${1:-}" py="${PYTHON:-python3}" hash stamp
    if [[ ! "$extra" =~ ^[a-z0-9_-]*$ ]]; then
        echo "_venv.sh: not an extra name: '$extra'" >&2
        return 2
    fi
    if [ ! -x .venv/bin/python ]; then
        "$py" -m venv .venv
    fi
    hash="$(sha256sum pyproject.toml | cut -c1-16)"
    stamp=".venv/.installed-$hash-${extra:-base}"
    if [ -f "$stamp" ]; then
        return 0
    fi
    if [ -z "$extra" ] && compgen -G ".venv/.installed-$hash-*" >/dev/null; then
        return 0  # any extra set of this pyproject.toml includes the base install
    fi
    echo "installing the project into .venv (first run or pyproject.toml changed; 1-3 minutes)..." >&2
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".${extra:+[$extra]}"
    find .venv -maxdepth 1 -name '.installed-*' ! -name ".installed-$hash-*" -delete
    touch "$stamp"
}
