"""The pure detection core: the Detector, its thresholds and the chat-text vocabulary (emotes).

Pure and synchronous with an injected clock, so a replay runs faster than real time and tests
never sleep. It may import ``engine.triggers`` and the foundations (``engine.config``,
``engine.events``) only: never asyncio, the network, files, Discord, storage, or the Kick, media
and core packages. State that must outlive a process is handed out and taken back as plain data;
the application core persists it.
"""
