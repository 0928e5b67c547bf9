"""Gateway v10 over a websocket: HELLO, heartbeats, IDENTIFY/READY/GUILD_CREATE, RESUME and
INVALID_SESSION, dispatches, and test-driven disconnects.

Frames are plain JSON text (discord.py only decompresses binary frames, so zlib is skipped).
Dispatch is synchronous: an event gets its sequence number and goes into the session's log at
once, then a per-connection writer task sends it. A session keeps its log while disconnected, so
a RESUME replays what was missed, as Discord does.
"""

# ruff: noqa: ASYNC109  -- test helpers take a timeout= argument on purpose (wait_for API).

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from .server import FakeDiscord

# Gateway intents the fake looks at.
GUILD_MEMBERS = 1 << 1
GUILD_PRESENCES = 1 << 8
GUILD_MESSAGES = 1 << 9
DIRECT_MESSAGES = 1 << 12
MESSAGE_CONTENT = 1 << 15
#: Close codes after which Discord forgets the session (a client closing cleanly).
_SESSION_ENDING_CLOSES = (1000, 1001)


@dataclass
class _Close:
    code: int
    reason: str


@dataclass(eq=False)
class Connection:
    """One websocket; frames go out in order through ``outbox``."""

    ws: web.WebSocketResponse
    path: str
    query: dict[str, str]
    outbox: asyncio.Queue[str | _Close] = field(default_factory=asyncio.Queue)
    session: Session | None = None
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    received: list[dict[str, Any]] = field(default_factory=list)
    server_closed: bool = False

    def send(self, payload: dict[str, Any]) -> None:
        self.outbox.put_nowait(json.dumps(payload))

    def close(self, code: int, reason: str = "") -> None:
        self.outbox.put_nowait(_Close(code, reason))


@dataclass(eq=False)
class Session:
    """A gateway session: survives disconnects until invalidated, and numbers every event."""

    id: str
    intents: int
    shard: tuple[int, int] | None
    seq: int = 0
    log: list[tuple[int, str]] = field(default_factory=list)
    conn: Connection | None = None
    valid: bool = True

    def dispatch(self, event: str, data: dict[str, Any]) -> None:
        self.seq += 1
        frame = json.dumps({"op": 0, "t": event, "s": self.seq, "d": data})
        self.log.append((self.seq, frame))
        if self.conn is not None:
            self.conn.outbox.put_nowait(frame)

    def wants_guild(self, guild_id: int) -> bool:
        if self.shard is None:
            return True
        shard_id, count = self.shard
        return (guild_id >> 22) % count == shard_id


class Gateway:
    """Serves ``/gateway`` (identify) and ``/gateway-resume`` (READY's resume_gateway_url)."""

    def __init__(self, fake: FakeDiscord, heartbeat_interval: float) -> None:
        self.fake = fake
        self.heartbeat_interval_ms = int(heartbeat_interval * 1000)
        self.sessions: dict[str, Session] = {}
        self.connections: set[Connection] = set()
        #: Every IDENTIFY and RESUME payload received, in order (token included).
        self.identifies: list[dict[str, Any]] = []
        self.resumes: list[dict[str, Any]] = []
        #: The path of every websocket connection ("/gateway" or "/gateway-resume").
        self.connects: list[str] = []

    # -- server side ----------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        conn = Connection(ws, request.path, dict(request.query))
        self.connections.add(conn)
        self.connects.append(request.path)
        writer = asyncio.create_task(self._writer(conn), name="fake-discord-gateway-writer")
        conn.send({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    self._on_frame(conn, json.loads(msg.data))
                else:
                    conn.close(4002, "Decode error")
        finally:
            session = conn.session
            if session is not None and session.conn is conn:
                session.conn = None
                if not conn.server_closed and ws.close_code in _SESSION_ENDING_CLOSES:
                    session.valid = False
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            self.connections.discard(conn)
            conn.closed.set()
            self.fake.notify()
        return ws

    async def _writer(self, conn: Connection) -> None:
        while True:
            item = await conn.outbox.get()
            if isinstance(item, _Close):
                conn.server_closed = True
                await conn.ws.close(code=item.code, message=item.reason.encode())
                return
            if conn.ws.closed:
                return
            await conn.ws.send_str(item)

    def _on_frame(self, conn: Connection, frame: dict[str, Any]) -> None:
        conn.received.append(frame)
        op, data = frame.get("op"), frame.get("d")
        if op == 1:
            conn.send({"op": 11})
        elif op == 2:
            self._identify(conn, data or {})
        elif op == 6:
            self._resume(conn, data or {})
        elif op == 8:
            self._request_members(conn, data or {})
        elif op in (3, 4):
            pass  # presence / voice state: accepted and ignored
        else:
            conn.close(4001, "Unknown opcode")
        self.fake.notify()

    def _identify(self, conn: Connection, data: dict[str, Any]) -> None:
        self.identifies.append(data)
        if data.get("token") != self.fake.token:
            conn.close(4004, "Authentication failed.")
            return
        if conn.session is not None:
            conn.close(4005, "Already authenticated.")
            return
        shard = data.get("shard")
        session = Session(
            secrets.token_hex(16), int(data.get("intents") or 0), tuple(shard) if shard else None
        )
        self.sessions[session.id] = session
        conn.session, session.conn = session, conn
        world = self.fake.world
        guilds = [g for g in world.bot_guilds() if session.wants_guild(g.id)]
        ready: dict[str, Any] = {
            "v": 10,
            "user": world.bot_user.payload() | {"verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": f"{self.fake.ws_base}/gateway-resume",
            "application": {"id": str(self.fake.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "auth": {},
        }
        if shard:
            ready["shard"] = list(shard)
        session.dispatch("READY", ready)
        for guild in guilds:
            self.send_guild_create(session, guild.id, unavailable=False)

    def send_guild_create(
        self, session: Session, guild_id: int, *, unavailable: bool | None
    ) -> None:
        """Without the presences intent Discord sends only the bot's own member."""
        world = self.fake.world
        guild = world.guild(guild_id)
        members = None
        if not session.intents & GUILD_PRESENCES:
            members = [m for m in guild.members.values() if m.id == world.bot_user.id]
        payload = world.guild_payload(guild, members=members)
        if unavailable is not None:
            payload["unavailable"] = unavailable
        session.dispatch("GUILD_CREATE", payload)

    def _resume(self, conn: Connection, data: dict[str, Any]) -> None:
        self.resumes.append(data)
        session = self.sessions.get(str(data.get("session_id")))
        if data.get("token") != self.fake.token or session is None or not session.valid:
            conn.send({"op": 9, "d": False})
            return
        if session.conn is not None and session.conn is not conn:
            session.conn.close(4000, "Session resumed elsewhere")
        conn.session, session.conn = session, conn
        last = int(data.get("seq") or 0)
        for seq, frame in session.log:
            if seq > last:
                conn.outbox.put_nowait(frame)
        session.dispatch("RESUMED", {})

    def _request_members(self, conn: Connection, data: dict[str, Any]) -> None:
        session = conn.session
        if session is None:
            conn.close(4003, "Not authenticated.")
            return
        guild = self.fake.world.guilds.get(int(data.get("guild_id") or 0))
        members = list(guild.members.values()) if guild else []
        query = str(data.get("query") or "")
        user_ids = {int(u) for u in data.get("user_ids") or []}
        if user_ids:
            members = [m for m in members if m.id in user_ids]
        elif query:
            members = [m for m in members if m.user.username.lower().startswith(query.lower())]
        elif not session.intents & GUILD_MEMBERS:
            members = []  # the whole list needs the privileged members intent
        limit = int(data.get("limit") or 0)
        if limit:
            members = members[:limit]
        chunk: dict[str, Any] = {
            "guild_id": str(data.get("guild_id")),
            "members": [m.payload() for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
        }
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        session.dispatch("GUILD_MEMBERS_CHUNK", chunk)

    # -- test controls --------------------------------------------------------------------
    def live_sessions(self) -> list[Session]:
        return [s for s in self.sessions.values() if s.valid]

    def dispatch(self, event: str, data: dict[str, Any], *, intent: int = 0) -> int:
        """Send an event to every valid session (buffered while one is disconnected)."""
        targets = [s for s in self.live_sessions() if not intent or s.intents & intent]
        for session in targets:
            session.dispatch(event, data)
        return len(targets)

    async def drop(
        self, code: int = 4000, *, invalidate: bool = False, timeout: float = 5.0
    ) -> None:
        """Close every connection like a network blip or a Discord-side reset.

        With ``invalidate`` the sessions are forgotten first, so the client's RESUME gets
        INVALID_SESSION and it has to IDENTIFY again."""
        conns = list(self.connections)
        for conn in conns:
            if invalidate and conn.session is not None:
                conn.session.valid = False
            if conn.session is not None:
                conn.session.conn = None
            conn.close(code, "dropped by test")
        if conns:
            await asyncio.wait_for(asyncio.gather(*(c.closed.wait() for c in conns)), timeout)

    def request_reconnect(self) -> None:
        """Op 7 RECONNECT: the client closes and resumes on its own."""
        for conn in self.connections:
            conn.send({"op": 7, "d": None})

    async def close_all(self, timeout: float = 5.0) -> None:
        await self.drop(1001, invalidate=True, timeout=timeout)
