"""The web dashboard and REST API: a second front beside cogs/, on the same application core."""
