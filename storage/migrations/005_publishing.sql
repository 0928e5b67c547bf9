-- Publishing approved clips (issue 13): one durable job per clip and target, the per-streamer
-- vertical layouts, and OAuth refresh tokens. A job's UNIQUE (clip_id, target) is what makes
-- "never uploaded twice" a constraint; session_uri is YouTube's resumable session, stored before
-- the first byte is sent so a restart resumes the same upload instead of starting another.

CREATE TABLE publish_jobs (
    id           INTEGER PRIMARY KEY,
    clip_id      INTEGER NOT NULL REFERENCES clips (id) ON DELETE CASCADE,
    guild_id     INTEGER NOT NULL,
    target       TEXT NOT NULL,
    variant      TEXT NOT NULL CHECK (variant IN ('vertical', 'original')),
    state        TEXT NOT NULL DEFAULT 'queued'
                 CHECK (state IN ('queued', 'rendering', 'uploading', 'published', 'failed')),
    progress     REAL NOT NULL DEFAULT 0,
    file_path    TEXT,
    session_uri  TEXT,
    remote_id    TEXT,
    url          TEXT,
    error        TEXT,
    not_before   REAL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    requested_by INTEGER,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (clip_id, target)
);
CREATE INDEX publish_jobs_state ON publish_jobs (state);

-- Rectangles are fractions of the source frame (x, y, w, h as JSON), so one layout fits every
-- resolution the streamer is recorded in.
CREATE TABLE publish_layouts (
    guild_id   INTEGER NOT NULL,
    streamer   TEXT NOT NULL,
    layout     TEXT NOT NULL CHECK (layout IN ('center', 'split', 'fit')),
    crop       TEXT,
    facecam    TEXT,
    gameplay   TEXT,
    set_by     INTEGER,
    set_at     TEXT NOT NULL,
    PRIMARY KEY (guild_id, streamer)
);

CREATE TABLE oauth_tokens (
    provider      TEXT PRIMARY KEY,
    refresh_token TEXT NOT NULL,
    scope         TEXT,
    account       TEXT,
    created_at    TEXT NOT NULL
);
