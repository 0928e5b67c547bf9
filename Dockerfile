# Kick clip bot: one container per Discord bot. Build: `docker build -t kick-clip-bot .`
# (behind an HTTPS-intercepting proxy: `--secret id=ca,src=/path/to/ca-bundle.crt`).
# Run: see docker-compose.yml; everything the bot writes goes to the /data volume.
FROM debian:bookworm-slim

# ffmpeg cuts the clips; chromium lets streamlink's Kick plugin solve Kick's JS challenge;
# tini reaps what streamlink's Chromium leaves behind and passes SIGTERM on.
# Unpinned on purpose: bookworm only ships security fixes, which we want at each rebuild.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        ca-certificates chromium ffmpeg python3 python3-venv tini \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 clipbot \
    && useradd --system --uid 10001 --gid clipbot --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin clipbot \
    && mkdir -p /data \
    && chown clipbot:clipbot /data

ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so a code change does not reinstall them.
# A custom CA (corporate proxy) comes in as a build secret and never lands in a layer.
# The image uses Debian's ffmpeg (it gets security updates), so the imageio-ffmpeg wheel's own
# static copy, the fallback for bare machines, is 165 MB of dead weight here.
COPY pyproject.toml README.md ./
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi \
    && python3 -m venv "$VIRTUAL_ENV" \
    && python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm -r /tmp/requirements.txt "$VIRTUAL_ENV"/lib/python3*/site-packages/imageio_ffmpeg/binaries

COPY bot.py config.yaml ./
COPY engine ./engine
COPY storage ./storage
COPY cogs ./cogs
COPY publishing ./publishing
COPY web ./web
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi \
    && pip install --no-deps . \
    && rm -rf build ./*.egg-info

# Config: mount your own over /app/config.yaml (or point CLIPBOT_CONFIG elsewhere), and/or set
# CLIPBOT__SECTION__KEY variables. Secrets only ever come from the environment.
# Chromium cannot use its own sandbox inside an unprivileged container; the container is the
# sandbox (Debian's chromium wrapper reads CHROMIUM_FLAGS).
ENV CLIPBOT_CONFIG=/app/config.yaml \
    CLIPBOT__STORAGE__DATA_DIR=/data \
    CLIPBOT__WEB__BIND=0.0.0.0 \
    CHROMIUM_FLAGS="--no-sandbox --disable-dev-shm-usage"

USER 10001:10001
VOLUME ["/data"]
# The web dashboard (web.port); compose publishes it on the host's loopback only.
EXPOSE 8080

# Healthy only while the Discord gateway is connected, no feed has died (heartbeat file) and
# the dashboard answers on /healthz (when web.enabled).
# The same check as `bot.py --health`, without loading discord.py: it runs every 30 s all day.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-m", "engine.core.health"]

# bot.py stops feeds, recorders, scheduler and storage on SIGTERM well within Docker's 10 s.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "python", "/app/bot.py"]
CMD []
