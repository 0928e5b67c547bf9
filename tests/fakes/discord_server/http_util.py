"""HTTP plumbing shared by the REST and interaction routes: Discord-style JSON and errors, and
request bodies (JSON or multipart with ``payload_json`` + ``files[n]``) parsed once."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

#: discord.py parses a body as JSON only when Content-Type is exactly this (no charset).
JSON_TYPE = "application/json"

_UNKNOWN_CODES = {
    "Account": 10001,
    "Application": 10002,
    "Channel": 10003,
    "Guild": 10004,
    "Member": 10007,
    "Message": 10008,
    "Role": 10011,
    "User": 10013,
    "Webhook": 10015,
    "interaction": 10062,
    "application command": 10063,
    "Attachment": 10077,
}


def json_response(data: Any, status: int = 200) -> web.Response:
    """aiohttp's json_response appends ``; charset=utf-8``, which discord.py does not parse."""
    return web.Response(
        status=status, body=json.dumps(data).encode(), headers={"Content-Type": JSON_TYPE}
    )


class ApiException(Exception):
    """Raised by handlers; the middleware turns it into Discord's error body and records it."""

    def __init__(
        self, status: int, code: int, message: str, errors: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        data: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            data["errors"] = self.errors
        return data

    def response(self) -> web.Response:
        return json_response(self.body(), self.status)


class RateLimited(ApiException):
    """Discord's 429: a JSON body with `retry_after` (seconds) and the X-RateLimit headers
    discord.py reads to sleep exactly that long before it retries the same request."""

    def __init__(self, retry_after: float, bucket: str) -> None:
        super().__init__(429, 0, "You are being rate limited.")
        self.retry_after = retry_after
        self.bucket = bucket

    def body(self) -> dict[str, Any]:
        return {"message": self.message, "retry_after": self.retry_after, "global": False}

    def response(self) -> web.Response:
        resp = json_response(self.body(), 429)
        resp.headers.update(
            {
                "Retry-After": str(max(1, round(self.retry_after))),
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset-After": f"{self.retry_after:.3f}",
                "X-RateLimit-Bucket": self.bucket,
                "X-RateLimit-Scope": "user",
                # Discord's API answers through Google's front end; a 429 without Via is a
                # Cloudflare ban to discord.py, which then gives up instead of retrying.
                "Via": "1.1 google",
            }
        )
        return resp


def unknown(kind: str) -> ApiException:
    """Discord's ``404 Unknown <kind>`` errors with their documented codes."""
    return ApiException(404, _UNKNOWN_CODES[kind], f"Unknown {kind}")


def form_error(path: str, message: str, code: str = "BASE_TYPE_INVALID") -> ApiException:
    """``400 Invalid Form Body`` (50035) with Discord's nested error layout for one field."""
    errors: dict[str, Any] = {"_errors": [{"code": code, "message": message}]}
    for part in reversed(path.split(".")) if path else []:
        errors = {part: errors}
    return ApiException(400, 50035, "Invalid Form Body", errors)


def missing_permissions() -> ApiException:
    return ApiException(403, 50013, "Missing Permissions")


def missing_access() -> ApiException:
    return ApiException(403, 50001, "Missing Access")


def too_large() -> ApiException:
    return ApiException(413, 40005, "Request entity too large")


@dataclass
class UploadedFile:
    """One ``files[n]`` part of a multipart request, kept byte for byte."""

    index: int
    filename: str
    data: bytes
    content_type: str | None = None

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class ParsedBody:
    json: Any = None
    files: list[UploadedFile] = field(default_factory=list)


def request_key(name: str, kind: type) -> Any:
    """A typed request-storage key (newer aiohttp warns on plain strings), else the name."""
    factory = getattr(web, "RequestKey", None)
    return factory(name, kind) if factory is not None else name


#: Where the middleware leaves the parsed body, and where handlers note their interaction
#: (so errors get recorded on it too).
BODY_KEY = request_key("body", ParsedBody)
INTERACTION_KEY = request_key("interaction", object)

_FILE_FIELD = re.compile(r"files\[(\d+)\]|file(\d*)")


async def parse_body(request: web.Request) -> ParsedBody:
    """Read a JSON or multipart body the way Discord accepts them; bad JSON is 50109."""
    ctype = request.content_type
    if ctype.startswith("multipart/"):
        parsed = ParsedBody()
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, aiohttp.BodyPartReader):
                continue  # nested multipart: Discord does not accept it either
            name = part.name or ""
            if name == "payload_json":
                parsed.json = _loads(await part.text())
                continue
            match = _FILE_FIELD.fullmatch(name)
            if match is None:
                continue
            index = int(match.group(1) or match.group(2) or len(parsed.files))
            data = bytes(await part.read(decode=False))
            parsed.files.append(
                UploadedFile(index, part.filename or name, data, part.headers.get("Content-Type"))
            )
        return parsed
    raw = await request.read()
    if not raw:
        return ParsedBody()
    return ParsedBody(json=_loads(raw.decode()))


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ApiException(400, 50109, "The request body contains invalid JSON.") from exc
