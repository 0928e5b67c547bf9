"""Local fakes the tests point the real code at, all on 127.0.0.1: Kick's HTTP API and Pusher
chat (kick_api, pusher_server), a live HLS stream (hls_stream) and Discord's REST + gateway
(discord_server)."""
