-- The dashboard's clip library (web/): every page is one keyset query per guild, newest first
-- (id) or best first (confidence, id), optionally narrowed to a status or a streamer. These
-- indexes let SQLite walk them in order and stop after one page instead of sorting the table.
CREATE INDEX clips_library_time ON clips (guild_id, id);
CREATE INDEX clips_library_status ON clips (guild_id, status, id);
CREATE INDEX clips_library_streamer ON clips (guild_id, streamer, id);
CREATE INDEX clips_library_score ON clips (guild_id, confidence, id);
