"""engine.kick.pusher.parse_frame on real-shaped frames: the capture from kick-protocol.md and
friends.

The parser is shared by the live chat client and replay, so these frames pin what both decide.
"""

from __future__ import annotations

import json

import pytest

from engine.detection.emotes import EmoteParser
from engine.events import ChatMessage
from engine.kick.pusher import (
    CHAT_EVENT,
    LIVE_EVENT,
    OFFLINE_EVENT,
    ControlFrame,
    FrameError,
    parse_frame,
)
from tests.fakes.pusher_server import FakePusher

# Verbatim from kick-protocol.md ("A chat message frame").
EXAMPLE_FRAME = r"""{"event":"App\\Events\\ChatMessageEvent",
 "data":"{\"id\":\"57eee8aa-7818-4194-9422-cedf3a00aca4\",\"chatroom_id\":246956,\"content\":\"no way [emote:37226:KEKW]\",\"type\":\"message\",\"created_at\":\"2026-09-04T23:28:30+00:00\",\"sender\":{\"id\":117108965,\"username\":\"viewer96\",\"slug\":\"viewer96\",\"identity\":{\"color\":\"#31D6C2\",\"badges\":[{\"type\":\"subscriber\",\"text\":\"Subscriber\",\"count\":3}]}}}",
 "channel":"chatrooms.246956.v2"}"""  # noqa: E501

ESTABLISHED = (
    '{"event":"pusher:connection_established",'
    '"data":"{\\"socket_id\\":\\"214617.19803\\",\\"activity_timeout\\":120}"}'
)
SUBSCRIBED = (
    '{"event":"pusher_internal:subscription_succeeded","data":"{}","channel":"chatrooms.668.v2"}'
)

EMOTES = EmoteParser(["KEKW", "LUL"])


def frame(event: str, data: object, channel: str | None = "chatrooms.246956.v2") -> str:
    out: dict[str, object] = {
        "event": event,
        "data": data if isinstance(data, str) else json.dumps(data),
    }
    if channel is not None:
        out["channel"] = channel
    return json.dumps(out)


def test_example_chat_frame() -> None:
    msg = parse_frame(EXAMPLE_FRAME, 1700000000.25, EMOTES)
    assert msg == ChatMessage(1700000000.25, "viewer96", "no way [emote:37226:KEKW]", ("KEKW",))


def test_example_frame_as_bytes() -> None:
    msg = parse_frame(EXAMPLE_FRAME.encode(), 1.0, EMOTES)
    assert isinstance(msg, ChatMessage) and msg.emotes == ("KEKW",)


def test_reply_message() -> None:
    data = {
        "id": "b2c1",
        "chatroom_id": 246956,
        "content": "@viewer96 KEKW [emote:37227:LULW] same",
        "type": "reply",
        "created_at": "2026-09-04T23:28:31+00:00",
        "sender": {"id": 5, "username": "Replier", "slug": "replier", "identity": {}},
        "metadata": {
            "original_sender": {"id": 117108965, "username": "viewer96"},
            "original_message": {"id": "57eee8aa", "content": "no way [emote:37226:KEKW]"},
            "message_ref": "1757028510000",
        },
    }
    msg = parse_frame(frame(CHAT_EVENT, data), 2.0, EMOTES)
    assert msg == ChatMessage(2.0, "Replier", data["content"], ("KEKW", "LULW"))  # type: ignore[arg-type]


def test_fake_pusher_chat_data_round_trips() -> None:
    """The fake's frames parse like the capture (the fake is only useful if it is faithful)."""
    data = FakePusher().chat_data(246956, "viewer96", "no way [emote:37226:KEKW]")
    assert set(data) == {"id", "chatroom_id", "content", "type", "created_at", "sender"}
    assert set(data["sender"]) == {"id", "username", "slug", "identity"}
    msg = parse_frame(frame(CHAT_EVENT, data), 3.0, EMOTES)
    assert msg == ChatMessage(3.0, "viewer96", "no way [emote:37226:KEKW]", ("KEKW",))


def test_sender_without_username_falls_back_to_slug() -> None:
    data = {"content": "hi", "sender": {"id": 9, "slug": "someone"}}
    msg = parse_frame(frame(CHAT_EVENT, data), 0.0, EMOTES)
    assert isinstance(msg, ChatMessage) and msg.user == "someone"


def test_control_frames() -> None:
    est = parse_frame(ESTABLISHED, 0.0, EMOTES)
    assert est == ControlFrame(
        "pusher:connection_established", {"socket_id": "214617.19803", "activity_timeout": 120}
    )
    sub = parse_frame(SUBSCRIBED, 0.0, EMOTES)
    assert sub == ControlFrame("pusher_internal:subscription_succeeded", {}, "chatrooms.668.v2")
    ping = parse_frame('{"event":"pusher:ping","data":{}}', 0.0, EMOTES)
    assert ping == ControlFrame("pusher:ping", {})
    err = parse_frame(
        '{"event":"pusher:error","data":{"code":4001,"message":"App key x not in this cluster"}}',
        0.0,
        EMOTES,
    )
    assert isinstance(err, ControlFrame) and err.data["code"] == 4001


def test_live_and_offline_events_are_control_frames() -> None:
    for event in (LIVE_EVENT, OFFLINE_EVENT):
        out = parse_frame(frame(event, {"livestream": {"id": 1}}, "channel.668"), 0.0, EMOTES)
        assert isinstance(out, ControlFrame) and out.event == event
        assert out.channel == "channel.668"


@pytest.mark.parametrize(
    "event",
    [
        "App\\Events\\MessageDeletedEvent",
        "App\\Events\\UserBannedEvent",
        "App\\Events\\ChatroomClearEvent",
        "App\\Events\\SubscriptionEvent",
        "App\\Events\\GiftedSubscriptionsEvent",
        "App\\Events\\PollUpdateEvent",
        "App\\Events\\SomethingKickAddsTomorrow",
    ],
)
def test_unknown_or_unused_events_are_ignored(event: str) -> None:
    assert parse_frame(frame(event, {"anything": [1, 2]}), 0.0, EMOTES) is None
    # Unused events are not even decoded, so garbage data there is not an error either.
    assert parse_frame(frame(event, "{not json"), 0.0, EMOTES) is None


@pytest.mark.parametrize(
    "raw",
    ["not json", "", "[1, 2]", '"a string"', "{}", '{"event": 5}', b"\xff\xfe"],
)
def test_not_a_pusher_frame(raw: str | bytes) -> None:
    with pytest.raises(FrameError):
        parse_frame(raw, 0.0, EMOTES)


def test_data_not_json() -> None:
    with pytest.raises(FrameError, match="not JSON"):
        parse_frame(frame(CHAT_EVENT, '{"content": broken'), 0.0, EMOTES)
    with pytest.raises(FrameError, match="not JSON"):
        parse_frame(frame("pusher:connection_established", "{oops", None), 0.0, EMOTES)


@pytest.mark.parametrize(
    "data",
    [
        {"sender": {"username": "a"}},
        {"content": "hi"},
        {"content": "hi", "sender": "not an object"},
        {"content": 5, "sender": {"username": "a"}},
        ["a", "list"],
    ],
)
def test_chat_message_missing_fields(data: object) -> None:
    with pytest.raises(FrameError):
        parse_frame(frame(CHAT_EVENT, data), 0.0, EMOTES)


def test_deeply_nested_frames_are_frame_errors() -> None:
    """A frame nested past Python's stack is a bad frame the chat client skips, not a crash."""
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(FrameError, match="nested"):
        parse_frame(deep, 0.0, EMOTES)
    with pytest.raises(FrameError, match="nested"):
        parse_frame(frame(CHAT_EVENT, '{"content": ' + deep + "}"), 0.0, EMOTES)
