"""The triggers of the pure detection core: velocity, keyword, emote flood, viewer spike,
excitement, their baselines and windows, the combo rules and the rate limiter.

Same rules as ``engine.detection``: no I/O, no asyncio, clock passed in. May import
``engine.detection`` (text helpers) and the foundations only.
"""
