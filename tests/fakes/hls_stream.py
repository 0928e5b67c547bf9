"""A fake live HLS stream on 127.0.0.1 for the recorder and clipper tests.

A short loop (24 s by default) of ffmpeg's testsrc2 pattern plus a sine tone is encoded ONCE per
parameter set (cached on disk, ultrafast x264, ~3 s on 2 cores) into 2 s MPEG-TS segments with a
keyframe at the start of each. Serving then costs no encoding: segment ``k`` of a live session is
loop segment ``k % n`` with its PTS/DTS/PCR shifted by whole loops and its continuity counters
renumbered, so the bytes a client reads form one continuous transport stream, as from Kick.

The burned-in "clock" is the frame number within the loop, drawn as a row of black/white blocks
(bit 0 first) between a white and a black reference block, so a test decodes it from a frame with
numpy instead of OCR (drawtext would need a font). Because segment ``k`` carries
``EXT-X-PROGRAM-DATE-TIME = t0 + k * seg_s``, the frame number plus a rough time gives the
wall-clock instant the frame "aired": :meth:`FakeHLS.aired_at`.

Routes (per slug): ``/{slug}/master.m3u8`` (every rendition, BANDWIDTH + RESOLUTION so streamlink
names them ``720p``/``360p``), ``/{slug}/{rendition}.m3u8``, ``/{slug}/index.m3u8`` (the top
rendition's media playlist) and ``/{slug}/{rendition}/{k}.ts``. An offline slug answers 404.
A stalled slug (:meth:`FakeHLS.stall`) stays "live" but its playlists stop growing, as an origin
that hangs without ending the stream; :meth:`FakeHLS.unstall` jumps back to the live edge.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import json
import shutil
import subprocess
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.media.ffmpeg_bin import ffmpeg_exe

BITS = 11  # frame counter bits: 2048 frames, > 24 s at 60 fps
_TS = 188
_PTS_MOD = 1 << 33
_AUDIO_RATE = 48000


@dataclass(frozen=True)
class Rendition:
    name: str  # what streamlink calls it, e.g. "720p"
    width: int
    height: int
    video_kbps: int
    audio_kbps: int = 96
    cbr: bool = False  # pad to the bitrate with filler NALs (bench: realistic bytes per second)


@dataclass(frozen=True)
class MediaSpec:
    """What to pre-encode. ``loop_s`` must be a multiple of 8 s so the AAC frames (1024 samples at
    48 kHz) tile the loop exactly and the looped audio has no overlap or hole."""

    loop_s: int = 24
    fps: int = 30
    seg_s: int = 2
    renditions: tuple[Rendition, ...] = (
        Rendition("720p", 1280, 720, 1500),
        Rendition("360p", 640, 360, 400, 64),
    )

    def key(self) -> str:
        raw = json.dumps(asdict(self), sort_keys=True) + "v2"
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _grid_filter(width: int, fps: int) -> str:
    """drawbox chain burning the frame number as blocks; unit = width/32 (40 px at 1280)."""
    u = width / 32
    box = round(u * 0.8)
    parts = [f"drawbox=x=0:y=0:w={round(u * (BITS + 2.4))}:h={round(u * 1.2)}:color=black:t=fill"]
    parts.append(
        f"drawbox=x={round(u * 0.2)}:y={round(u * 0.2)}:w={box}:h={box}:color=white:t=fill"
    )
    for bit in range(BITS):
        x = round(u * (1.2 + bit))
        parts.append(
            f"drawbox=x={x}:y={round(u * 0.2)}:w={box}:h={box}:color=white:t=fill"
            f":enable='eq(mod(floor(n/{1 << bit}),2),1)'"
        )
    return ",".join(parts)


def decode_counter(gray: Any) -> int:
    """Frame number burned by the fake, from a 2-D uint8 luma array (any rendition's size).

    Raises ValueError when the reference blocks are not where they should be (not our frame).
    """
    w = gray.shape[1]
    u = w / 32

    def level(cx: float) -> float:
        cy, r = u * 0.6, max(1, round(u * 0.2))
        x, y = round(cx), round(cy)
        return float(gray[y - r : y + r, x - r : x + r].mean())

    white = level(u * 0.6)
    black = level(u * (1.2 + BITS) + u * 0.6)
    if white < 150 or black > 100:
        raise ValueError(f"no frame counter found (white {white:.0f}, black {black:.0f})")
    mid = (white + black) / 2
    return sum(1 << b for b in range(BITS) if level(u * (1.6 + b)) > mid)


@dataclass
class FakeMedia:
    """Pre-encoded loop: ``segments[rendition][i]`` are the bytes of loop segment i."""

    spec: MediaSpec
    root: Path
    segments: dict[str, list[bytes]] = field(default_factory=dict)
    # continuity-counter renumbering: payload packets per PID before loop segment i, and per loop
    cc_before: dict[str, list[dict[int, int]]] = field(default_factory=dict)
    cc_loop: dict[str, dict[int, int]] = field(default_factory=dict)

    @property
    def n_segments(self) -> int:
        return self.spec.loop_s // self.spec.seg_s


def encode_media(spec: MediaSpec, cache_root: Path) -> FakeMedia:
    """Encode (once; the result is cached under ``cache_root/<key>``) and load the loop."""
    if spec.loop_s % 8 or spec.loop_s % spec.seg_s:
        raise ValueError("loop_s must be a multiple of 8 and of seg_s")
    root = Path(cache_root) / spec.key()
    if not (root / "done").exists():
        tmp = root.with_name(f"{root.name}.tmp{threading.get_ident()}_{time.monotonic_ns()}")
        tmp.mkdir(parents=True)
        try:
            _encode(spec, tmp)
            (tmp / "done").write_text("ok")
            with contextlib.suppress(OSError):  # another session finished first: use theirs
                tmp.rename(root)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    media = FakeMedia(spec, root)
    for r in spec.renditions:
        files = sorted((root / r.name).glob("*.ts"))
        if len(files) != media.n_segments:
            raise RuntimeError(f"fake media {root} has {len(files)} segments for {r.name}")
        media.segments[r.name] = [f.read_bytes() for f in files]
        running: dict[int, int] = {}
        media.cc_before[r.name] = []
        for data in media.segments[r.name]:
            media.cc_before[r.name].append(dict(running))
            for pid, n in _payload_counts(data).items():
                running[pid] = running.get(pid, 0) + n
        media.cc_loop[r.name] = running
    return media


def _encode(spec: MediaSpec, out: Path) -> None:
    top = spec.renditions[0]
    n_audio = spec.loop_s * _AUDIO_RATE // 1024  # AAC packets in one loop, priming included
    audio_s = ((n_audio - 1) * 1024 - 64) / _AUDIO_RATE
    labels = [f"v{i}" for i in range(len(spec.renditions))]
    chains = [
        f"[0:v]{_grid_filter(top.width, spec.fps)},split={len(labels)}"
        + "".join(f"[{lb}s]" for lb in labels)
    ]
    for lb, r in zip(labels, spec.renditions, strict=True):
        chains.append(f"[{lb}s]scale={r.width}:{r.height}[{lb}]")
    chains.append(f"[1:a]asplit={len(labels)}" + "".join(f"[a{i}]" for i in range(len(labels))))
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
           "-f", "lavfi", "-i",
           f"testsrc2=size={top.width}x{top.height}:rate={spec.fps}:duration={spec.loop_s}",
           "-f", "lavfi", "-i",
           f"sine=frequency=440:sample_rate={_AUDIO_RATE}:duration={audio_s:.6f}"]  # fmt: skip
    cmd += ["-filter_complex", ";".join(chains), "-threads", "2"]
    for i, r in enumerate(spec.renditions):
        (out / r.name).mkdir()
        kbps = r.video_kbps
        cmd += ["-map", f"[v{i}]", "-map", f"[a{i}]", "-c:v", "libx264", "-preset", "ultrafast",
                "-pix_fmt", "yuv420p", "-g", str(spec.fps * spec.seg_s),
                "-keyint_min", str(spec.fps * spec.seg_s), "-sc_threshold", "0",
                "-b:v", f"{kbps}k", "-maxrate", f"{kbps}k", "-bufsize", f"{kbps}k",
                "-c:a", "aac", "-b:a", f"{r.audio_kbps}k", "-ac", "2",
                "-f", "segment", "-segment_time", str(spec.seg_s), "-segment_format", "mpegts",
                str(out / r.name / "%04d.ts")]  # fmt: skip
        if r.cbr:
            cmd[-1:-1] = ["-minrate", f"{kbps}k", "-x264-params", "nal-hrd=cbr"]
    subprocess.run(cmd, check=True, capture_output=True, timeout=600)


def _payload_counts(data: bytes) -> dict[int, int]:
    counts: dict[int, int] = {}
    for i in range(0, len(data), _TS):
        if data[i + 3] & 0x10:
            pid = ((data[i + 1] & 0x1F) << 8) | data[i + 2]
            counts[pid] = counts.get(pid, 0) + 1
    return counts


def _put_ts(buf: bytearray, at: int, value: int) -> None:
    """Write a 33-bit PES timestamp at buf[at:at+5], keeping the 4-bit prefix and markers."""
    buf[at] = (buf[at] & 0xF0) | ((value >> 29) & 0x0E) | 1
    buf[at + 1] = (value >> 22) & 0xFF
    buf[at + 2] = ((value >> 14) & 0xFE) | 1
    buf[at + 3] = (value >> 7) & 0xFF
    buf[at + 4] = ((value << 1) & 0xFE) | 1


def _get_ts(buf: bytearray, at: int) -> int:
    return (
        ((buf[at] >> 1) & 0x07) << 30
        | buf[at + 1] << 22
        | (buf[at + 2] >> 1) << 15
        | buf[at + 3] << 7
        | buf[at + 4] >> 1
    )


def rewrite_ts(data: bytes, pts_offset: int, cc_base: dict[int, int]) -> bytes:
    """Shift every PTS/DTS/PCR by ``pts_offset`` (90 kHz) and renumber continuity counters from
    ``cc_base`` (per PID), so consecutive loop segments read as one continuous stream."""
    buf = bytearray(data)
    cc = dict(cc_base)
    for i in range(0, len(buf), _TS):
        b1, b3 = buf[i + 1], buf[i + 3]
        pid = ((b1 & 0x1F) << 8) | buf[i + 2]
        afc = (b3 >> 4) & 3
        if afc & 1:
            n = cc.get(pid, 0)
            buf[i + 3] = (b3 & 0xF0) | (n & 0x0F)
            cc[pid] = n + 1
        p = i + 4
        if afc & 2:
            af_len = buf[p]
            if af_len and buf[p + 1] & 0x10:  # PCR: 33-bit base, 6 reserved, 9-bit extension
                q = p + 2
                base = int.from_bytes(buf[q : q + 5], "big") >> 7
                base = (base + pts_offset) % _PTS_MOD
                low = buf[q + 4] & 0x7F
                buf[q : q + 5] = ((base << 7) | low).to_bytes(5, "big")
            p += 1 + af_len
        if b1 & 0x40 and afc & 1 and buf[p : p + 3] == b"\x00\x00\x01":
            flags = buf[p + 7] >> 6
            if flags & 2:
                _put_ts(buf, p + 9, (_get_ts(buf, p + 9) + pts_offset) % _PTS_MOD)
            if flags == 3:
                _put_ts(buf, p + 14, (_get_ts(buf, p + 14) + pts_offset) % _PTS_MOD)
    return bytes(buf)


class FakeHLS:
    """A live HLS server with per-slug sessions, run in a daemon thread (usable from sync tests,
    async tests and benchmarks alike). Times come from ``clock`` (unix seconds)."""

    def __init__(
        self,
        media: FakeMedia,
        *,
        window: int = 5,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.media = media
        self.window = window
        self.clock = clock
        self._lock = threading.Lock()
        self._t0: dict[str, float] = {}
        self._offline_mode: dict[str, str] = {}
        self._stalled: dict[str, int] = {}  # slug -> the last media sequence it keeps serving
        self.single: set[str] = set()  # slugs whose master lists the first rendition only
        self._last_t0: dict[str, float] = {}  # survives go_offline, for aired_at
        self._cache: OrderedDict[tuple[str, int, int], bytes] = OrderedDict()
        self.requests: dict[str, int] = {}
        self._server = http.server.ThreadingHTTPServer((host, port), _handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeHLS:
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> FakeHLS:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url_template(self, playlist: str = "master") -> str:
        """Stream URL template for the Recorder, e.g. ``hls://http://127.0.0.1:P/{slug}/master.m3u8``."""
        return f"hls://{self.base_url}/{{slug}}/{playlist}.m3u8"

    # -- sessions --------------------------------------------------------------------------
    def go_live(self, slug: str, *, preroll: bool = True) -> float:
        """Start a session; with ``preroll`` the playlist is already a full window long (as when
        joining a running stream). Returns t0, the airing time of media sequence 0."""
        t0 = self.clock() - (self.window * self.media.spec.seg_s if preroll else 0)
        with self._lock:
            self._t0[slug] = self._last_t0[slug] = t0
        return t0

    def go_offline(self, slug: str, mode: str = "404") -> None:
        """End the session. ``mode="404"``: every URL of the slug answers 404 (a channel with no
        stream); ``"empty"``: playlists answer 200 but list nothing (``#EXT-X-ENDLIST``)."""
        if mode not in ("404", "empty"):
            raise ValueError(mode)
        with self._lock:
            self._t0.pop(slug, None)
            self._stalled.pop(slug, None)
            self._offline_mode[slug] = mode

    def stall(self, slug: str) -> None:
        """Keep serving the current playlist, with no new segments (the stream hangs)."""
        last = self.live_range(slug)
        with self._lock:
            self._stalled[slug] = last.stop - 1

    def unstall(self, slug: str) -> None:
        """Serve the live edge again; the segments aired meanwhile are never listed."""
        with self._lock:
            self._stalled.pop(slug, None)

    def is_live(self, slug: str) -> bool:
        return slug in self._t0

    def aired_at(self, slug: str, frame: int, near: float) -> float:
        """Wall-clock time loop frame ``frame`` aired in the latest session, nearest ``near``."""
        spec = self.media.spec
        base = self._last_t0[slug] + frame / spec.fps
        return base + round((near - base) / spec.loop_s) * spec.loop_s

    def live_range(self, slug: str) -> range:
        """Media sequence numbers in the current playlist (empty when offline)."""
        t0 = self._t0.get(slug)
        if t0 is None:
            return range(0)
        last = self._stalled.get(slug, int((self.clock() - t0) // self.media.spec.seg_s) - 1)
        return range(max(0, last - self.window + 1), last + 1)

    # -- content ---------------------------------------------------------------------------
    def single_rendition(self, slug: str, single: bool = True) -> None:
        """Serve ``slug`` with a one-variant master playlist (a channel without transcodes):
        every quality streamlink is asked for resolves to that one stream."""
        (self.single.add if single else self.single.discard)(slug)

    def master_playlist(self, slug: str) -> str:
        lines = ["#EXTM3U", "#EXT-X-VERSION:3"]
        renditions = self.media.spec.renditions
        for r in renditions[:1] if slug in self.single else renditions:
            bw = (r.video_kbps + r.audio_kbps) * 1000
            lines.append(
                f"#EXT-X-STREAM-INF:BANDWIDTH={bw},RESOLUTION={r.width}x{r.height},"
                f'CODECS="avc1.64001f,mp4a.40.2"'
            )
            lines.append(f"{r.name}.m3u8")
        return "\n".join(lines) + "\n"

    def media_playlist(self, slug: str, rendition: str) -> str:
        seg_s = self.media.spec.seg_s
        seqs = self.live_range(slug)
        t0 = self._t0[slug]
        lines = [
            "#EXTM3U",
            "#EXT-X-VERSION:3",
            f"#EXT-X-TARGETDURATION:{seg_s}",
            f"#EXT-X-MEDIA-SEQUENCE:{seqs.start}",
        ]
        for k in seqs:
            pdt = datetime.fromtimestamp(t0 + k * seg_s, UTC).isoformat(timespec="milliseconds")
            lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{pdt.replace('+00:00', 'Z')}")
            lines.append(f"#EXTINF:{seg_s:.3f},")
            lines.append(f"{rendition}/{k}.ts")
        return "\n".join(lines) + "\n"

    def segment(self, rendition: str, k: int) -> bytes:
        n = self.media.n_segments
        key = (rendition, k % n, k // n)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        loop_i, it = k % n, k // n
        before = self.media.cc_before[rendition][loop_i]
        base = {
            pid: it * t + before.get(pid, 0) for pid, t in self.media.cc_loop[rendition].items()
        }
        offset = it * self.media.spec.loop_s * 90000
        data = rewrite_ts(self.media.segments[rendition][loop_i], offset, base)
        with self._lock:
            self._cache[key] = data
            while len(self._cache) > 64:
                self._cache.popitem(last=False)
        return data

    def handle(self, path: str) -> tuple[int, str, bytes]:
        """Route one GET; returns (status, content type, body)."""
        parts = path.split("?")[0].strip("/").split("/")
        if not parts or not parts[0]:
            return 404, "text/plain", b"not found"
        slug = parts[0]
        with self._lock:
            self.requests[slug] = self.requests.get(slug, 0) + 1
        names = [r.name for r in self.media.spec.renditions]
        m3u8 = "application/vnd.apple.mpegurl"
        if not self.is_live(slug):
            if self._offline_mode.get(slug) == "empty" and parts[-1].endswith(".m3u8"):
                return 200, m3u8, b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-ENDLIST\n"
            return 404, "text/plain", b"offline"
        if len(parts) == 2 and parts[1] == "master.m3u8":
            return 200, m3u8, self.master_playlist(slug).encode()
        if len(parts) == 2 and parts[1].endswith(".m3u8"):
            name = parts[1][: -len(".m3u8")]
            name = names[0] if name == "index" else name
            if name in names:
                return 200, m3u8, self.media_playlist(slug, name).encode()
        if len(parts) == 3 and parts[1] in names and parts[2].endswith(".ts"):
            try:
                k = int(parts[2][:-3])
            except ValueError:
                return 404, "text/plain", b"bad segment"
            if k in self.live_range(slug):
                return 200, "video/mp2t", self.segment(parts[1], k)
        return 404, "text/plain", b"not found"


def _handler(fake: FakeHLS) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            status, ctype, body = fake.handle(self.path)
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler
