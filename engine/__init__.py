"""Detection, recording, clipping and the Kick clients: everything the bot does without Discord.

The packages, and which way imports may point (checked by import-linter in ``scripts/test``)::

    engine.core          the application core: feeds, watches, clip pipeline, stats, health
       |        \\
    engine.kick  engine.media   Kick HTTP/OAuth/Pusher/poller | recorder, segments, clipper
       |        /
    engine.detection + engine.triggers   the pure detection core (no I/O, clock injected)
       |
    engine.config, engine.events, engine.backoff   foundations every package may use

``engine.replay`` is the ``python -m engine.replay`` CLI (detection core + Kick frame parsing).
Never imports discord, aiosqlite, apscheduler, ``storage`` or ``cogs``: the engine runs, and is
tested, without them; storage implements the Protocols in ``engine.core.stores``.
"""
