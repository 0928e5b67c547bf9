-- Initial schema. Times are ISO-8601 UTC text ("2026-01-01T12:00:00+00:00"); clip windows are
-- unix seconds (REAL) because they are computed with, not displayed.

CREATE TABLE guild_settings (
    guild_id          INTEGER PRIMARY KEY,
    review_channel_id INTEGER,
    reviewer_role_id  INTEGER,
    upload_limit      INTEGER,
    updated_at        TEXT NOT NULL
);

CREATE TABLE alert_subscribers (
    guild_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);

-- What Kick lookups learnt and what is stable: a 403 later costs only freshness.
CREATE TABLE channels (
    slug            TEXT PRIMARY KEY,
    channel_id      INTEGER,
    user_id         INTEGER,
    chatroom_id     INTEGER,
    chatroom_manual INTEGER NOT NULL DEFAULT 0,
    updated_at      TEXT NOT NULL
);

CREATE TABLE watches (
    guild_id       INTEGER NOT NULL,
    streamer       TEXT NOT NULL,
    added_by       INTEGER,
    added_at       TEXT NOT NULL,
    detector_state TEXT,
    PRIMARY KEY (guild_id, streamer)
);

CREATE TABLE thresholds (
    guild_id INTEGER NOT NULL,
    streamer TEXT NOT NULL,
    name     TEXT NOT NULL,
    value    REAL NOT NULL,
    set_by   INTEGER,
    set_at   TEXT NOT NULL,
    PRIMARY KEY (guild_id, streamer, name),
    FOREIGN KEY (guild_id, streamer) REFERENCES watches (guild_id, streamer) ON DELETE CASCADE
);

CREATE TABLE sessions (
    id            INTEGER PRIMARY KEY,
    streamer      TEXT NOT NULL,
    livestream_id INTEGER,
    title         TEXT,
    started_at    TEXT NOT NULL,
    ended_at      TEXT
);
CREATE INDEX sessions_streamer ON sessions (streamer, started_at);

-- Every decision (and upgrade) the detectors made, for /stats and for tuning.
CREATE TABLE moments (
    id         INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL,
    streamer   TEXT NOT NULL,
    moment_key TEXT NOT NULL,
    revision   INTEGER NOT NULL,
    t          REAL NOT NULL,
    trigger    TEXT NOT NULL,
    triggers   TEXT NOT NULL,
    confidence REAL NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (guild_id, moment_key, revision)
);
CREATE INDEX moments_recent ON moments (guild_id, streamer, t);

CREATE TABLE clips (
    id             INTEGER PRIMARY KEY,
    guild_id       INTEGER NOT NULL,
    streamer       TEXT NOT NULL,
    moment_key     TEXT NOT NULL,
    session_id     INTEGER REFERENCES sessions (id),
    t              REAL NOT NULL,
    trigger        TEXT NOT NULL,
    triggers       TEXT NOT NULL,
    confidence     REAL NOT NULL,
    clip_start     REAL NOT NULL,
    clip_end       REAL NOT NULL,
    details        TEXT NOT NULL DEFAULT '{}',
    status         TEXT NOT NULL DEFAULT 'detected'
                   CHECK (status IN ('detected', 'cutting', 'ready', 'posting', 'posted', 'approved',
                                     'rejected', 'deleted', 'failed')),
    original_path  TEXT,
    preview_path   TEXT,
    thumbnail_path TEXT,
    note           TEXT,
    title          TEXT,
    favorite       INTEGER NOT NULL DEFAULT 0,
    reviewed_by    INTEGER,
    reviewed_at    TEXT,
    alerted        INTEGER NOT NULL DEFAULT 0,
    error          TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    UNIQUE (guild_id, moment_key)
);
CREATE INDEX clips_status ON clips (status, guild_id);
CREATE INDEX clips_streamer ON clips (guild_id, streamer, created_at);

-- One row per posted clip message; the UNIQUE clip_id is what makes "never twice" a constraint.
CREATE TABLE posts (
    clip_id    INTEGER PRIMARY KEY REFERENCES clips (id) ON DELETE CASCADE,
    guild_id   INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL UNIQUE,
    posted_at  TEXT NOT NULL
);

CREATE TABLE daily_counts (
    guild_id INTEGER NOT NULL,
    streamer TEXT NOT NULL,
    day      TEXT NOT NULL,
    clips    INTEGER NOT NULL DEFAULT 0,
    moments  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (guild_id, streamer, day)
);
