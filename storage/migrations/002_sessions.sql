-- Sessions are written from now on (engine.watch_hub.SessionTracker): the clips of one
-- session, and a streamer's open session, are looked up by these.
CREATE INDEX clips_session ON clips (session_id);
CREATE INDEX sessions_open ON sessions (streamer) WHERE ended_at IS NULL;
