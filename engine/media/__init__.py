"""The media pipeline: streamlink | ffmpeg recorder and its argv, the segment index and journal,
the open (still growing) segment, the clipper and its cut plan, ffmpeg jobs and binaries, PyAV
probing, and child-process control.

May import the foundations only (config, events, backoff); never the Kick or core packages,
storage, cogs or discord. It knows files and processes, not streamers or guilds.
"""
