#!/usr/bin/env bash
# Builds the Docker image with podman and runs tests/docker/test_image.py against it.
#
# No container registry is reachable from CI, so the FROM image (debian:bookworm-slim) is made
# here: `debootstrap --variant=minbase bookworm` into a folder, then `podman import`. Needs root
# and Debian's apt (podman, runc and debootstrap are installed when missing). Cold: 2-5 minutes.
#
# Environment:
#   CLIPBOT_IMAGE   tag to build (default kick-clip-bot:ci)
#   DEBIAN_MIRROR   for debootstrap (default http://deb.debian.org/debian)
#   CA_BUNDLE       CA bundle handed to pip inside the build as a secret, for HTTPS-intercepting
#                   proxies (default: the host's /etc/ssl/certs/ca-certificates.crt when present;
#                   "none" to pass nothing)
#   CLIPBOT_DOCKER_WORK  scratch folder (default /var/tmp/clipbot-docker)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
image="${CLIPBOT_IMAGE:-kick-clip-bot:ci}"
base="docker.io/library/debian:bookworm-slim"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
work="${CLIPBOT_DOCKER_WORK:-/var/tmp/clipbot-docker}"
step() { printf '\n== %s (at %d s)\n' "$*" "$SECONDS"; }
mkdir -p "$work"

step "tools: podman, runc, debootstrap"
if ! command -v podman >/dev/null || ! command -v runc >/dev/null || ! command -v debootstrap >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap >/dev/null
fi
# Measured on these machines: crun fails here, runc works; podman's default ulimits are too
# high for this kernel's limits. A private containers.conf leaves the host's untouched.
cat > "$work/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
CONF
export CONTAINERS_CONF="$work/containers.conf"
podman --version

step "lint: hadolint"
source scripts/_venv.sh
ensure_venv dev
.venv/bin/hadolint Dockerfile

if podman image exists "$base"; then
    step "base image: $base already here"
else
    step "base image: debootstrap bookworm minbase from $mirror"
    rm -rf "$work/rootfs"
    if ! debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1; then
        tail -30 "$work/debootstrap.log"
        exit 1
    fi
    # As in the official image: updates and security fixes, no package caches.
    cat > "$work/rootfs/etc/apt/sources.list" <<SOURCES
deb ${mirror} bookworm main
deb ${mirror} bookworm-updates main
deb ${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security} bookworm-security main
SOURCES
    rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/lib/apt/lists/*
    tar -C "$work/rootfs" -c . | podman import - "$base" >/dev/null
    rm -rf "$work/rootfs"
fi

step "build: $image"
ca="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
secret=()
if [ "$ca" != none ] && [ -s "$ca" ]; then
    secret=(--secret "id=ca,src=$ca")
fi
podman build --format docker --network=host --pull=never "${secret[@]}" -t "$image" .
podman image inspect "$image" --format 'size: {{.Size}} bytes'

step "test the image"
CLIPBOT_IMAGE="$image" .venv/bin/python -m pytest tests/docker -p no:cacheprovider -q -rs
step "done"
