"""Publishing approved clips: a vertical 9:16 render and uploads (YouTube resumable), as durable
jobs with per-clip, per-target state (`queued -> rendering -> uploading -> published | failed`).

A front beside cogs/ and web/: it calls the application core (the clip store, the media
helpers) and never imports cogs; storage reaches it through the PublishStore Protocol, wired
in bot.py. Both fronts use `PublishService` (enqueue, state, retry).
"""
