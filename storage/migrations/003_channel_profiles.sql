-- What the adaptive detector learnt about each streamer's chat (engine.triggers.burst: its
-- normal and the history of its bursts), shared by every guild that watches the streamer and
-- kept across restarts and from one stream to the next. JSON, written by the application core.
CREATE TABLE channel_profiles (
    streamer   TEXT PRIMARY KEY,
    profile    TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
