"""Detection, recording, clipping and the Kick clients. Never imports Discord, aiosqlite or apscheduler."""
