"""Kick clients: the HTTP transport (retries, Retry-After), the official and site APIs, OAuth,
the response models, Pusher chat and the live/viewer poller.

Every Kick answer is parsed into ``engine.kick.models`` here, at the boundary. May import the
foundations and the detection core's text helpers (``engine.detection.emotes``); never the media
or core packages, storage, cogs or discord.
"""
