"""Persistence (aiosqlite, WAL, numbered migrations)."""
