"""The application core: feeds (one per streamer), watches (one per guild and streamer), the clip
pipeline, stats history and chart, maintenance, the daily summary, health, start-up checks,
logging, and the store Protocols that ``storage`` implements.

The fronts (``cogs``, and later the web dashboard and publishing) call this package; it wires the
Kick, media and detection packages together. Never imports discord, aiosqlite, storage or cogs.
"""
