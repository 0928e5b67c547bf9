"""Detection, recording, clipping and the Kick clients.

Never imports discord, aiosqlite or apscheduler: the engine runs (and is tested) without them.
"""
