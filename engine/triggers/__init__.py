"""The pure trigger engine: triggers, baselines, combos and the rate limiter. No I/O, no asyncio."""
