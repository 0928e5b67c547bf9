"""The Detector: one per (guild, streamer); turns chat and viewer events into Moments.

Pure and synchronous: time is the event's own `t`, so a replay decides exactly what the live bot
decided, as fast as the CPU allows.

The clock is the latest time seen, and each event's t is judged against it:
- not a time (NaN, infinite, negative, >= events.MAX_T, the year 2286) or a viewer count outside
  0 <= viewers < events.MAX_VIEWERS: the event is ignored and counted in `bad_events`. Nothing
  else changes, so one corrupt line cannot crash the limiter's calendar or wedge a window;
- ahead of the clock: the clock moves there (a gap longer than velocity.MAX_IDLE_S leaves the
  chat baseline as it was rather than teaching it silence);
- behind by at most REWIND_S (5 min): counted at the clock. Chat and viewer polls come from
  different sockets and a replay merges two files, so small skew is normal and must not rewind
  windows;
- further behind: the clock was reset (an NTP step, a new capture, or the clock had jumped to a
  bogus future time). The clock moves back to t and everything that measures time windows is
  forgotten: every trigger's window and edge state, the open clip (its window is on the other
  timeline) and the sample lines, counted in `clock_resets`. What is learnt or promised stays:
  the chat baseline, the limiter's count for the day (the day is t's, as always) and its
  cooldowns, whose stamps are clamped to t so they restart at the reset instead of blocking
  until the old clock comes round again (engine.triggers.limiter.RateLimiter.rewind).
So one far-future time costs one window reset (at the next true event), never a frozen clock.

How a decision is made:
1. each trigger reports a rising edge (`Fire`) when its condition turns true;
2. every trigger whose condition held within `combo_window_s` is active; two or more active
   triggers make a combo (engine.triggers.combos);
3. if a clip is still open, the fire upgrades it instead of starting an overlapping one
   (engine.detection.clip_window has the window rules, re-timing to a burst's peak included);
4. otherwise the rate limiter (engine.triggers.limiter) decides whether a new clip starts.
Confidence is the trigger's or combo's with fixed bars; with adaptive bars (the default) it is how
rare the burst is for this channel (engine.detection.score). Either way plus up to
`excitement.boost` from chat's excitement.

Abuse resistance does not depend on which triggers are on: chat_velocity's per-user and copypasta
caps decide whether a line counts (for the sample lines and excitement) even when chat_velocity
itself is disabled; keyword and emote_flood count each user once per window on their own.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Mapping
from typing import Any

from engine.config import Config
from engine.detection import report
from engine.detection import state as state_io
from engine.detection.clip_window import ClipWindow
from engine.detection.emotes import EmoteParser
from engine.detection.learning import ReviewLearning
from engine.detection.score import AGREEMENT, rarity_confidence
from engine.detection.thresholds import apply_overrides, validate
from engine.events import (
    MAX_T,
    ChatMessage,
    Event,
    LiveChange,
    Moment,
    Snapshot,
    ViewerSample,
    plausible_time,
    plausible_viewers,
)
from engine.triggers.combos import classify
from engine.triggers.emote_flood import EmoteFlood
from engine.triggers.excitement import Excitement
from engine.triggers.fire import NEVER, Fire
from engine.triggers.keyword import KeywordTrigger
from engine.triggers.limiter import RateLimiter
from engine.triggers.velocity import ChatVelocity
from engine.triggers.viewer_spike import ViewerSpike

_SAMPLES = 5
REWIND_S = 300.0
"""An event further behind the clock than this means the clock was reset (module docstring)."""
_MAX_CONFIDENCE = 0.99


class Detector:
    """Per-watch trigger engine. `feed(event)` returns the moments it decides (usually none)."""

    def __init__(
        self,
        streamer: str,
        config: Config,
        overrides: Mapping[str, float] | None = None,
        state: Mapping[str, Any] | None = None,
    ) -> None:
        self.streamer = streamer
        self.base_config = config
        self.overrides: dict[str, float | int] = {}
        cfg = config
        tc = cfg.triggers
        self.emotes = EmoteParser.from_config(tc.emote_flood)
        self.velocity = ChatVelocity(tc.chat_velocity)
        self.keyword = KeywordTrigger(
            tc.keyword, tc.chat_velocity.copypasta_min_len, tc.chat_velocity.copypasta_cap
        )
        self.emote_flood = EmoteFlood(tc.emote_flood)
        self.viewer_spike = ViewerSpike(tc.viewer_spike)
        self.excitement = Excitement(tc.excitement)
        self.limiter = RateLimiter(cfg.limits)
        self.samples: deque[tuple[float, str, str]] = deque(maxlen=_SAMPLES)
        self.fire_details: dict[str, dict[str, Any]] = {}
        self.clip = ClipWindow(streamer)
        self.learning = ReviewLearning()
        # 0.0, not -inf: every accepted t is >= 0, so on the hot path one chained comparison
        # (last <= t < MAX_T) both orders the event and rejects negative, NaN and huge times.
        self._last_t = 0.0
        self.bad_events = 0
        self.clock_resets = 0
        self._next_second = 0.0
        self._configure(cfg)
        if overrides:
            self.set_overrides(overrides)
        if state:
            self.load_state(state)

    # -- configuration -------------------------------------------------------------------------

    def _configure(self, cfg: Config) -> None:
        self.config = cfg
        tc = cfg.triggers
        self.velocity.configure(tc.chat_velocity)
        target = tc.target_clips_per_hour * self.learning.target_factor()
        self.velocity.adapt(tc.adaptive, target)
        self.keyword.configure(tc.keyword)
        self.keyword.adapt(tc.adaptive, target)
        self.emote_flood.configure(tc.emote_flood)
        self.emote_flood.adapt(tc.adaptive, target)
        self.viewer_spike.configure(tc.viewer_spike)
        self.excitement.configure(tc.excitement)
        self.limiter.configure(cfg.limits)
        self._ignore = frozenset(u.lower() for u in tc.ignore_users)
        self._ignore_commands = tc.ignore_commands
        self._combo_window = tc.combo_window_s
        self._on = {
            "chat_velocity": tc.chat_velocity.enabled,
            "keyword": tc.keyword.enabled,
            "emote_flood": tc.emote_flood.enabled,
            "viewer_spike": tc.viewer_spike.enabled,
            "excitement": tc.excitement.enabled,
        }
        # Plain attributes for the per-message path: a dict lookup per trigger per message adds
        # up at 100k+ msg/s.
        self._velocity_on = tc.chat_velocity.enabled
        self._excitement_on = tc.excitement.enabled
        self._keyword_on = tc.keyword.enabled
        self._emote_on = tc.emote_flood.enabled
        self._next_second = 0.0  # re-checked at the next event (adaptive bars may be on now)

    def set_overrides(self, overrides: Mapping[str, float]) -> None:
        """Replace this watch's threshold overrides; takes effect on the next event.

        Raises ThresholdError (with an operator-facing message) and changes nothing if any
        value is out of range.
        """
        checked = {name: validate(name, value) for name, value in overrides.items()}
        self._configure(apply_overrides(self.base_config, checked))
        self.overrides = checked

    # -- events --------------------------------------------------------------------------------

    def feed(self, event: Event) -> list[Moment]:
        kind = type(event)
        if kind is ChatMessage:
            return self.on_chat(event)  # type: ignore[arg-type]
        if kind is ViewerSample:
            return self.on_viewers(event)  # type: ignore[arg-type]
        if kind is LiveChange:
            if self._clock(event.t) is not None:
                self.viewer_spike.reset()
            return []
        raise TypeError(f"not an engine event: {event!r}")

    def message(self, t: float, user: str, text: str) -> ChatMessage:
        """Build a ChatMessage with this detector's emote list (for callers without a parser)."""
        return ChatMessage(t, user, text, self.emotes.parse(text))

    def _clock(self, t: float) -> float | None:
        """The time to count an event at, or None to ignore it (rules in the module docstring)."""
        if self._last_t <= t < MAX_T:
            self._last_t = t
            return t
        return self._late(t)

    def _late(self, t: float) -> float | None:
        """The slow path of _clock: an event behind the clock, or not a time at all."""
        if not plausible_time(t):
            self.bad_events += 1
            return None
        if t >= self._last_t - REWIND_S:
            return self._last_t
        self._rewind(t)
        return t

    def _rewind(self, t: float) -> None:
        """The clock was reset to `t`: forget what measures windows, keep what was learnt."""
        self.clock_resets += 1
        self._last_t = t
        for trig in (self.velocity, self.keyword, self.emote_flood, self.excitement):
            trig.reset()
        self.viewer_spike.reset()
        self.viewer_spike.last_true = NEVER
        self.samples.clear()
        self.fire_details.clear()
        self.clip.clear()
        self._next_second = 0.0
        self.limiter.rewind(t)

    def on_chat(self, msg: ChatMessage) -> list[Moment]:
        t = msg.t
        if self._last_t <= t < MAX_T:
            self._last_t = t
        else:
            late = self._late(t)
            if late is None:
                return []
            t = late
        user = msg.user
        text = msg.text
        if (self._ignore_commands and text[:1] == "!") or (
            self._ignore and user.lower() in self._ignore
        ):
            return []
        fires: list[Fire] | None = None
        if t >= self._next_second:  # adaptive bars: floods and requests judged once a second
            fires = self._second(t)
        # Always run: its per-user and copypasta caps decide whether the line counts at all
        # (samples, excitement), whichever triggers are on; only its fire needs it enabled.
        velocity = self.velocity
        counted, fire = velocity.on_message(t, user, text)
        if fire is not None and self._velocity_on:
            fires = [fire]
        if velocity.pending is not None:  # adaptive bars: the last second's edge or peak
            if self._velocity_on:
                fires = [*fires, velocity.pending] if fires else [velocity.pending]
            velocity.pending = None
        if counted:
            self.samples.append((t, user, text))
            if self._excitement_on:
                fire = self.excitement.on_message(t, text, len(msg.emotes))
                if fire is not None:
                    fires = [*fires, fire] if fires else [fire]
        if self._keyword_on:
            fire = self.keyword.on_message(t, user, text)
            if fire is not None:
                fires = [*fires, fire] if fires else [fire]
        if self._emote_on:
            fire = self.emote_flood.on_message(t, user, msg.emotes)
            if fire is not None:
                fires = [*fires, fire] if fires else [fire]
        if fires is None:
            return []
        return self._decide(fires, t)

    def _second(self, t: float) -> list[Fire] | None:
        """A new second began at `t`: the adaptive floods and clip requests judge the last one."""
        if self.emote_flood.burst is None and self.keyword.burst is None:
            self._next_second = MAX_T  # fixed bars: nothing to do once a second
            return None
        self._next_second = float(int(t) + 1)
        fires = []
        if self._keyword_on and self.keyword.burst is not None:
            fires.append(self.keyword.roll(t))
        if self._emote_on and self.emote_flood.burst is not None:
            fires.append(self.emote_flood.roll(t))
        found = [f for f in fires if f is not None]
        return found or None

    def on_viewers(self, sample: ViewerSample) -> list[Moment]:
        if not plausible_viewers(sample.viewers):
            self.bad_events += 1
            return []
        t = self._clock(sample.t)
        if t is None:
            return []
        if not self._on["viewer_spike"]:
            self.viewer_spike.latest = sample.viewers
            return []
        fire = self.viewer_spike.on_sample(t, sample.viewers)
        return self._decide([fire], t) if fire is not None else []

    # -- decisions -----------------------------------------------------------------------------

    def _active(self, now: float) -> set[str]:
        horizon = now - self._combo_window
        on = self._on
        return {
            name
            for name, trig in (
                ("chat_velocity", self.velocity),
                ("keyword", self.keyword),
                ("emote_flood", self.emote_flood),
                ("viewer_spike", self.viewer_spike),
                ("excitement", self.excitement),
            )
            if on[name] and trig.last_true >= horizon
        }

    def _decide(self, fires: list[Fire], now: float) -> list[Moment]:
        out: list[Moment] = []
        for fire in fires:
            if fire.peak:
                moment = self._retime(fire)
                if moment is not None:
                    out.append(moment)
                continue
            self.fire_details[fire.trigger] = fire.details
            self.limiter.note_fire(fire.trigger, now)
            active = self._active(now)
            active.add(fire.trigger)
            moment = self._merge(active, fire, now) or self._start(active, fire, now)
            if moment is not None:
                out.append(moment)
        return out

    def _confidence(self, base: float, now: float, triggers: Collection[str]) -> float:
        """Fixed bars: the trigger's or combo's confidence. Adaptive bars: how rare the
        burst is for this channel (the clip's strongest burst, engine.detection.score), plus
        agreement of triggers. Either way plus up to `excitement.boost` from excitement."""
        score = self.excitement.score(now) if self._on["excitement"] else None
        boost = self.config.triggers.excitement.boost * score if score is not None else 0.0
        per_hour = self.clip.rarest
        if per_hour is not None:
            target = self.config.triggers.target_clips_per_hour
            base = rarity_confidence(per_hour, target) + AGREEMENT * (len(triggers) - 1)
        base += self.learning.weight(triggers)
        return round(max(0.0, min(base + boost, _MAX_CONFIDENCE)), 3)

    def _retime(self, fire: Fire) -> Moment | None:
        """A stronger second of the burst behind the open clip (clip_window rules)."""
        clip = self.clip.current(fire.t)
        if clip is None or fire.per_hour is None:
            return None
        self.clip.note_rarity(fire.per_hour)
        self.fire_details[fire.trigger] = fire.details
        base = clip.details["base_confidence"]
        details = report.moment_details(self, set(clip.triggers), base, fire.t, updated_at=fire.t)
        details["peak_t"] = fire.t
        conf = self._confidence(base, fire.t, clip.triggers)
        return self.clip.upgrade(
            clip, fire.t, clip.trigger, clip.triggers, conf, details, self.config.clips, True
        )

    def _merge(self, active: set[str], fire: Fire, now: float) -> Moment | None:
        """Upgrade the open clip instead of starting an overlapping one."""
        clip = self.clip.current(now)
        if clip is None:
            return None
        merged = set(clip.triggers) | active
        prev_base = clip.details["base_confidence"]
        combo = classify(merged, self.config.triggers.combos)
        kind, base = combo if combo and combo[1] >= prev_base else (clip.trigger, prev_base)
        self.limiter.stamp([fire.trigger, kind], now)
        self.clip.note_rarity(fire.per_hour)
        conf = self._confidence(base, now, merged)
        details = report.moment_details(self, merged, base, now, updated_at=now)
        return self.clip.upgrade(clip, now, kind, merged, conf, details, self.config.clips)

    def _start(self, active: set[str], fire: Fire, now: float) -> Moment | None:
        combo = classify(active, self.config.triggers.combos)
        kind, base = combo if combo else (fire.trigger, fire.confidence)
        reason = self.limiter.refuse(kind, now)
        if reason is not None:
            self.limiter.suppress(reason, now)
            return None
        self.limiter.record_clip([kind, *active], now)
        self.clip.rarest = fire.per_hour
        if self.velocity.burst is not None:
            self.velocity.burst.peaks.note_clip()
        conf = self._confidence(base, now, active)
        details = report.moment_details(self, active, base, now)
        return self.clip.start(now, kind, active, conf, details, self.config.clips)

    # -- inspection and persistence ------------------------------------------------------------

    def snapshot(self, now: float) -> Snapshot:
        return report.snapshot(self, now)

    def learn(self, approved: bool, triggers: Collection[str]) -> None:
        """A reviewer approved or rejected one of this watch's clips (engine.detection.learning)."""
        self.learning.note(approved, triggers)
        self._configure(self.config)

    def reset_learning(self) -> None:
        self.learning = ReviewLearning()
        self._configure(self.config)

    def to_state(self) -> dict[str, Any]:
        """Plain data that survives a restart (engine.detection.state)."""
        return state_io.to_state(self)

    def load_state(self, state: Mapping[str, Any]) -> None:
        state_io.load_state(self, state)
