"""Local fakes of Kick (HTTP API, Pusher chat) the tests point the real clients at."""
