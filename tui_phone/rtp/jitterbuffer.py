"""Adaptive playout (jitter) buffer for one incoming RTP audio stream.

Pure sans-I/O code: the RTP session calls :meth:`JitterBuffer.put` for every
packet with its arrival time, and the audio clock calls :meth:`JitterBuffer.pop`
once per frame (ptime) with the current time.  ``pop`` answers with a
:class:`Frame` to decode, a :class:`Gap` telling the decoder how to conceal the
missing frame, or ``None`` while the buffer is still filling.  Nothing here
reads a clock or touches a socket.

How the playout delay is measured and chosen
--------------------------------------------
Every packet has a *transit* ``arrival - timestamp / clock_rate`` (RFC 3550
6.4.1, the offset between the two clocks is unknown and irrelevant).  The
buffer keeps

* ``mean transit``: an exponential mean of the transits (gain 1/16), the
  arrival time an average packet is expected at;
* ``jitter``: the RFC 3550 A.8 estimator ``J += (|D| - J) / 16`` over the
  transit differences of consecutive arrivals.

The *current delay* is measured at each ``pop``: how long after its expected
(mean) arrival the frame due now is played.  The *target delay* is
``clamp(k * jitter + frame, min_delay, max_delay)`` (``k`` defaults to 3: for
Gaussian jitter the RFC estimator is about 1.13 sigma, so 3 J covers more than
99.9% of arrivals), raised at once to the lateness of any late packet plus one
frame; that raise decays with a half-life of ``late_half_life_s``.

Adaptation is asymmetric, as listeners prefer a short stretch to lost words:

* grow fast: whenever the current delay is below target, ``pop`` holds the
  playout point for one frame (a concealment frame is inserted);
* shrink slowly: during silence before a talkspurt (a packet with the marker
  bit, RFC 3551 4.1, or a timestamp jump with consecutive sequence numbers,
  i.e. discontinuous transmission) the playout point may jump over any number
  of silent frames; inside a talkspurt one frame is dropped at most every
  ``shrink_interval_s``, and only a frame the ``is_silent`` callback calls
  silent (no callback: no mid-talkspurt shrinking);
* catch up: if the caller's clock stalled and the delay went past
  ``max_delay``, the overdue frames are skipped at once.

Packets are ordered by extended sequence number (16-bit wrap, RFC 3550 A.1),
scheduled by extended timestamp (32-bit wrap).  The buffer holds at most
``max_packets``; past that the newest packet is dropped (the oldest, when it
is already overdue).  A new SSRC, or two consecutive packets far outside the
stream (a sequence jump beyond RFC 3550 A.1 ``MAX_DROPOUT``/``MAX_MISORDER``,
or a transit jump beyond ``resync_threshold_s``, i.e. a timestamp jump), make
the buffer flush and restart (a *resync*); a lone such packet is discarded.

Accounting
----------
Every packet given to ``put`` ends in exactly one counter, so at any time::

    received == played + duplicates + late + overflow + flushed
                + skipped + discarded + buffered

and every ``pop`` after the start returns a frame or a gap::

    pops returning non-None == played + concealed

``lost`` counts sequence numbers the playout passed without having the packet
(it never arrived in time; a late packet between two played frames is among
them); ``non_audio`` counts those that went to packets announced with
:meth:`JitterBuffer.note_non_audio` (RFC 4733 events share the stream's
sequence numbers, RFC 3550 5.1).  Within one stream, ``played + skipped +
lost + non_audio`` equals the span of sequence numbers from the first packet
played or skipped to the last (one skipped comes first only if the caller's
clock stalled before playout began: *catch up* above).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from .jitter_core import (
    CORE,
    DUPLICATE_HISTORY,
    EPSILON,
    JITTER_GAIN,
    SEQ_MODULUS,
    TRANSIT_GAIN,
    TS_MODULUS,
    Frame,
    Packet,
    PyJitterCore,
)

MAX_DROPOUT = 3000  # RFC 3550 A.1: largest forward sequence jump within a stream
MAX_MISORDER = 100  # RFC 3550 A.1: largest backward sequence jump within a stream

Concealment = Literal["repeat", "fade", "silence"]
PutOutcome = Literal["buffered", "duplicate", "late", "overflow", "pending", "discarded"]


@dataclass(frozen=True, slots=True)
class Gap:
    """No frame to play now: the decoder conceals one frame.

    ``concealment`` says how: ``"repeat"`` the last frame (first frame of a
    gap), ``"fade"`` it out (the next ``fade_frames``, ``step`` tells how far
    into the fade), then comfort ``"silence"``.  Known silence (the sender
    paused between talkspurts) and gaps before any frame are ``"silence"``
    from the first step.  ``step`` counts the consecutive concealed frames
    (1 for the first); ``timestamp`` is the RTP timestamp of the slot.
    """

    concealment: Concealment
    step: int
    timestamp: int


@dataclass(frozen=True, slots=True)
class JitterBufferStats:
    """A snapshot of the counters of a :class:`JitterBuffer`."""

    received: int
    played: int
    late: int
    duplicates: int
    lost: int
    concealed: int
    resyncs: int
    overflow: int
    flushed: int
    skipped: int
    discarded: int
    non_audio: int
    buffered: int


@dataclass(frozen=True, slots=True)
class _Arrival:
    """One packet as it arrived (raw 16- and 32-bit numbers)."""

    seq: int
    timestamp: int
    payload: bytes
    arrival: float
    marker: bool


def _extend(value: int, reference: int, modulus: int) -> int:
    """Unwrap ``value`` to the extended number closest to ``reference``."""
    delta = (value - reference) % modulus
    if delta >= modulus // 2:
        delta -= modulus
    return reference + delta


class _JitterBufferBody:
    """Everything of :class:`JitterBuffer` but its core: the configuration,
    the public view, and the general put and pop paths.

    The core (the other base class, see ``jitter_core``) has ``put`` and
    ``pop``: they take the in-order shortcuts and call :meth:`_put_general`
    and :meth:`_pop` for every other case.
    """

    # Per-stream state, set by _reset_stream() (a resync starts it afresh).
    _buffer: dict[int, Packet]  # by extended sequence number
    _seen: set[int]  # extended sequence numbers recently accepted
    _seen_order: deque[int]
    _started: bool
    _has_played: bool
    _next_ts: int  # extended timestamp of the slot the next pop plays
    _last_seq: int | None  # extended sequence number last played or skipped
    _non_audio: set[int]  # extended sequence numbers ahead of the playout used by non-audio packets
    _max_seq: int | None  # highest extended sequence number accepted
    _ts_ref: int  # extended timestamp of that packet
    _transit: float  # mean transit, seconds
    _prev_transit: float | None
    _gap_run: int  # consecutive gaps so far
    _last_shrink: float | None  # when a frame was last dropped to shrink
    _counts: dict[str, int]  # the counters, set up by the core

    def __init__(
        self,
        clock_rate: int = 8000,
        frame_samples: int = 160,
        min_delay_ms: float = 20,
        max_delay_ms: float = 500,
        initial_delay_ms: float = 60,
        *,
        jitter_factor: float = 3.0,
        max_packets: int | None = None,
        fade_frames: int = 4,
        shrink_interval_s: float = 1.0,
        late_half_life_s: float = 2.0,
        resync_threshold_s: float | None = None,
        is_silent: Callable[[bytes], bool] | None = None,
    ) -> None:
        if clock_rate <= 0 or frame_samples <= 0:
            raise ValueError("clock_rate and frame_samples must be positive")
        if not 0 <= min_delay_ms <= initial_delay_ms <= max_delay_ms:
            raise ValueError("delays must satisfy 0 <= min_delay_ms <= initial_delay_ms <= max_delay_ms")
        self._clock_rate = clock_rate
        self._frame = frame_samples
        self._ptime = frame_samples / clock_rate
        self._min_delay = min_delay_ms / 1000
        self._max_delay = max_delay_ms / 1000
        self._k = jitter_factor
        frames_at_max = math.ceil(self._max_delay / self._ptime)
        self._max_packets = max_packets if max_packets is not None else max(2 * frames_at_max, 8)
        if self._max_packets < 1:
            raise ValueError("max_packets must be at least 1")
        if fade_frames < 0:
            raise ValueError("fade_frames must not be negative")
        self._fade_frames = fade_frames
        self._shrink_interval = shrink_interval_s
        self._late_half_life = late_half_life_s
        self._resync_threshold = (
            resync_threshold_s if resync_threshold_s is not None else max(2.0, 4 * self._max_delay)
        )
        super().__init__()
        self._is_silent = is_silent
        # Start with the jitter that makes the target equal the initial delay;
        # the estimator converges to the real value within a few dozen packets.
        self._jitter = max(initial_delay_ms / 1000 - self._ptime, 0.0) / jitter_factor if jitter_factor > 0 else 0.0
        self._late_floor = 0.0
        self._late_floor_time: float | None = None
        self._ssrc: int | None = None
        self._previous_ssrc: int | None = None
        self._candidate: _Arrival | None = None
        self._delay = 0.0
        # The first frame waits the initial delay; after a resync, the target.
        self._start_delay = initial_delay_ms / 1000
        self._reset_stream()

    # -- public view -------------------------------------------------------

    @property
    def started(self) -> bool:
        """True once playout has begun (``pop`` no longer returns ``None``)."""
        return self._started

    @property
    def current_delay_ms(self) -> float:
        """Playout delay measured at the last ``pop`` (0 before playout starts)."""
        return self._delay * 1000 if self._started else 0.0

    @property
    def target_delay_ms(self) -> float:
        """The delay the buffer is steering to."""
        return self._target() * 1000

    @property
    def jitter_ms(self) -> float:
        """The RFC 3550 A.8 interarrival jitter estimate, in milliseconds.

        It starts at the value that makes the target equal the initial delay.
        """
        return self._jitter * 1000

    @property
    def buffered(self) -> int:
        """Packets held: in the buffer, plus a pending resync candidate."""
        return len(self._buffer) + (self._candidate is not None)

    @property
    def stats(self) -> JitterBufferStats:
        """A snapshot of every counter."""
        return JitterBufferStats(**self._counts, buffered=self.buffered)

    # -- input -------------------------------------------------------------

    def _put_general(
        self,
        seq: int,
        timestamp: int,
        payload: bytes,
        arrival_time: float,
        marker: bool,
        ssrc: int | None,
    ) -> PutOutcome:
        """:meth:`put`, every case (``seq`` and ``timestamp`` already masked)."""
        self._counts["received"] += 1
        if ssrc is not None and ssrc != self._ssrc:
            if self._ssrc is not None:
                if ssrc == self._previous_ssrc:  # a straggler of the stream we left
                    self._counts["discarded"] += 1
                    return "discarded"
                self._previous_ssrc = self._ssrc
                self._resync()
            self._ssrc = ssrc
        return self._put(_Arrival(seq, timestamp, payload, arrival_time, marker))

    def note_non_audio(self, seq: int, ssrc: int | None = None) -> bool:
        """Tell the buffer that sequence number ``seq`` went to a non-audio packet.

        Call it for each packet of the stream not given to :meth:`put` (an
        RFC 4733 telephone event shares the audio's SSRC and sequence numbers).
        Its number is then not lost, and a pause in the audio around it is
        known silence.  Returns False if the number was ignored: another SSRC,
        far outside the stream (RFC 3550 A.1), already passed by the playout
        (it stays lost, like a late audio packet), or no audio yet.
        """
        if ssrc is not None and self._ssrc is not None and ssrc != self._ssrc:
            return False
        if self._max_seq is None:
            return False
        ext_seq = _extend(seq & (SEQ_MODULUS - 1), self._max_seq, SEQ_MODULUS)
        jump = ext_seq - self._max_seq
        if jump > MAX_DROPOUT or jump < -MAX_MISORDER:
            return False
        if self._last_seq is not None and ext_seq <= self._last_seq:
            return False
        if len(self._non_audio) >= DUPLICATE_HISTORY:  # never passed: keep the newest
            self._non_audio.discard(min(self._non_audio))
        self._non_audio.add(ext_seq)
        # Audio after the event is extended and checked against it, not against
        # the audio before it (a long event must not look like a sequence jump).
        self._max_seq = max(self._max_seq, ext_seq)
        return True

    def _put(self, packet: _Arrival) -> PutOutcome:
        if self._max_seq is None:  # first packet of a stream
            self._max_seq = packet.seq
            self._ts_ref = packet.timestamp
            self._transit = packet.arrival - packet.timestamp / self._clock_rate
        ext_seq = _extend(packet.seq, self._max_seq, SEQ_MODULUS)
        ext_ts = _extend(packet.timestamp, self._ts_ref, TS_MODULUS)
        transit = packet.arrival - ext_ts / self._clock_rate
        if self._is_wild(ext_seq, transit):
            return self._probation(packet)
        if self._candidate is not None:  # a lone wild packet: not a new stream
            self._candidate = None
            self._counts["discarded"] += 1
        if ext_seq in self._seen:
            self._counts["duplicates"] += 1
            return "duplicate"
        self._remember(ext_seq)
        lateness = transit - self._transit
        self._update_jitter(transit)
        if ext_seq > self._max_seq:
            self._max_seq = ext_seq
            self._ts_ref = ext_ts
        if self._started and (
            (self._last_seq is not None and ext_seq <= self._last_seq) or ext_ts < self._next_ts
        ):
            self._counts["late"] += 1
            # Grow fast: this packet needed `lateness` more than an average one.
            self._late_floor = max(self._late_floor, lateness + self._ptime)
            return "late"
        self._buffer[ext_seq] = Packet(ext_seq, ext_ts, packet.payload, packet.marker)
        if len(self._buffer) > self._max_packets:
            # Keep the frames that play soonest, unless the playout clock has
            # stalled so long that the oldest are overdue: they will be
            # skipped anyway.
            oldest = min(self._buffer)
            overdue = self._delay_of(self._buffer[oldest].timestamp, packet.arrival) > self._max_delay
            victim = oldest if self._started and overdue else max(self._buffer)
            del self._buffer[victim]
            self._counts["overflow"] += 1
            if victim == ext_seq:
                return "overflow"
        return "buffered"

    def _is_wild(self, ext_seq: int, transit: float) -> bool:
        assert self._max_seq is not None
        jump = ext_seq - self._max_seq
        if jump > MAX_DROPOUT or jump < -MAX_MISORDER:  # RFC 3550 A.1
            return True
        return abs(transit - self._transit) > self._resync_threshold

    def _probation(self, packet: _Arrival) -> PutOutcome:
        """RFC 3550 A.1 spirit: a new sequence is believed after two packets."""
        candidate = self._candidate
        if candidate is not None and packet.seq == (candidate.seq + 1) % SEQ_MODULUS:
            ts_step = _extend(packet.timestamp, candidate.timestamp, TS_MODULUS) - candidate.timestamp
            drift = (packet.arrival - candidate.arrival) - ts_step / self._clock_rate
            if abs(drift) <= self._resync_threshold:
                self._candidate = None
                self._resync()
                self._put(candidate)
                return self._put(packet)
        if candidate is not None:
            self._counts["discarded"] += 1
        self._candidate = packet
        return "pending"

    # -- output ------------------------------------------------------------

    def _pop(self, now: float) -> Frame | Gap | None:
        """:meth:`pop`, every case."""
        if not self._started:
            if not self._buffer:
                return None
            first = self._buffer[min(self._buffer)]
            if self._delay_of(first.timestamp, now) < self._start_delay - EPSILON:
                return None
            self._started = True
            self._next_ts = first.timestamp
        self._decay_late_floor(now)
        target = self._target()
        delay = self._delay_of(self._next_ts, now)
        if delay > self._max_delay + self._ptime:
            delay = self._catch_up(delay, target, now)
        self._delay = delay
        head = self._buffer[min(self._buffer)] if self._buffer else None
        if delay < target - EPSILON:  # grow: hold the playout point one frame
            return self._conceal(head, advance=False)
        if head is not None and head.timestamp >= self._next_ts + self._frame and self._starts_talkspurt(head):
            # Shrink during silence: skip silent slots down to the target.
            spare = int((delay - target) / self._ptime + EPSILON)
            room = (head.timestamp - self._next_ts) // self._frame
            self._next_ts += min(spare, room) * self._frame
        if head is None or head.timestamp >= self._next_ts + self._frame:
            return self._conceal(head, advance=True)
        head = self._maybe_drop_silent(head, delay, target, now)
        return self._play(head)

    def _play(self, packet: Packet) -> Frame:
        self._consume(packet)
        self._counts["played"] += 1
        self._gap_run = 0
        self._has_played = True
        return Frame(packet.payload, packet.seq % SEQ_MODULUS, packet.timestamp % TS_MODULUS, packet.marker)

    def _consume(self, packet: Packet) -> None:
        """Take ``packet`` out of the buffer and move the playout point past it."""
        del self._buffer[packet.seq]
        passed = 0 if self._last_seq is None else packet.seq - self._last_seq - 1
        if self._non_audio:
            non_audio = self._pass_non_audio(packet.seq)
            self._counts["non_audio"] += non_audio
            passed -= non_audio
        if passed > 0:
            self._counts["lost"] += passed
        self._last_seq = packet.seq
        # Re-align the slot grid on the packet, whatever its timestamp phase.
        self._next_ts = max(self._next_ts, packet.timestamp) + self._frame

    def _conceal(self, head: Packet | None, *, advance: bool) -> Gap:
        slot = self._next_ts
        if advance:
            self._next_ts += self._frame
        self._gap_run += 1
        self._counts["concealed"] += 1
        kind: Concealment
        if not self._has_played or self._paused(head, slot) or self._gap_run > 1 + self._fade_frames:
            kind = "silence"
        elif self._gap_run == 1:
            kind = "repeat"
        else:
            kind = "fade"
        return Gap(kind, self._gap_run, slot % TS_MODULUS)

    def _paused(self, head: Packet | None, slot: int) -> bool:
        """Known silence at ``slot``: the sender paused, nothing went missing.

        The next packet follows the last one played but is due later (DTX),
        or every packet after the last one played is non-audio.
        """
        if head is not None:
            return head.timestamp >= slot + self._frame and self._follows(head.seq)
        newest, last = self._max_seq, self._last_seq
        return newest is not None and last is not None and newest > last and self._follows(newest + 1)

    def _maybe_drop_silent(self, head: Packet, delay: float, target: float, now: float) -> Packet:
        """Shrink inside a talkspurt by dropping one silent frame, rarely."""
        # Not before the first frame plays: there is no talkspurt to shrink
        # yet, and a frame skipped then would fall outside the stream's span.
        if self._is_silent is None or not self._has_played or delay - self._ptime < target + self._ptime / 4:
            return head
        if self._last_shrink is not None and now - self._last_shrink < self._shrink_interval:
            return head
        following = self._buffer.get(head.seq + 1)
        if following is None or following.timestamp >= head.timestamp + 2 * self._frame:
            return head
        if not self._is_silent(head.payload):
            return head
        self._consume(head)
        self._counts["skipped"] += 1
        self._last_shrink = now
        return following

    def _catch_up(self, delay: float, target: float, now: float) -> float:
        """The playout clock stalled (delay past the maximum): jump back to target.

        Holds never push the delay past ``max_delay``, so only a stall of the
        caller's clock gets here; the frames jumped over count as skipped.
        """
        new_next = self._next_ts + int((delay - target) / self._ptime) * self._frame
        for seq in sorted(self._buffer):
            packet = self._buffer[seq]
            if packet.timestamp >= new_next:
                break
            self._consume(packet)
            self._counts["skipped"] += 1
        self._next_ts = max(self._next_ts, new_next)
        return self._delay_of(self._next_ts, now)

    # -- estimators --------------------------------------------------------

    def _delay_of(self, ext_ts: int, now: float) -> float:
        """How long after its mean arrival a frame played ``now`` waited."""
        return now - ext_ts / self._clock_rate - self._transit

    def _target(self) -> float:
        wanted = max(self._k * self._jitter + self._ptime, self._late_floor)
        return min(max(wanted, self._min_delay), self._max_delay)

    def _update_jitter(self, transit: float) -> None:
        if self._prev_transit is not None:
            # RFC 3550 A.8: D(i-1, i) is the difference of the two transits.
            self._jitter += (abs(transit - self._prev_transit) - self._jitter) * JITTER_GAIN
        self._prev_transit = transit
        self._transit += (transit - self._transit) * TRANSIT_GAIN

    def _decay_late_floor(self, now: float) -> None:
        if self._late_floor_time is not None and self._late_floor > 0:
            elapsed = max(now - self._late_floor_time, 0.0)
            self._late_floor *= 0.5 ** (elapsed / self._late_half_life)
        self._late_floor_time = now

    def _starts_talkspurt(self, packet: Packet) -> bool:
        # RFC 3551 4.1: the marker bit flags the first packet after silence;
        # a consecutive sequence number after a timestamp gap means the same.
        return packet.marker or self._follows(packet.seq)

    def _follows(self, ext_seq: int) -> bool:
        """True if ``ext_seq`` comes right after the last packet played or skipped.

        Sequence numbers in between that went to non-audio packets do not
        count as missing.
        """
        last = self._last_seq
        if last is None:
            return False
        missing = ext_seq - last - 1
        if missing <= 0:
            return missing == 0
        return missing <= len(self._non_audio) and all(
            seq in self._non_audio for seq in range(last + 1, ext_seq)
        )

    def _pass_non_audio(self, ext_seq: int) -> int:
        """Forget the non-audio numbers below ``ext_seq``; count those after the last one played."""
        below = [seq for seq in self._non_audio if seq < ext_seq]
        self._non_audio.difference_update(below)
        last = self._last_seq
        return 0 if last is None else sum(seq > last for seq in below)

    # -- stream state ------------------------------------------------------

    def _remember(self, ext_seq: int) -> None:
        self._seen.add(ext_seq)
        self._seen_order.append(ext_seq)
        if len(self._seen_order) > DUPLICATE_HISTORY:
            self._seen.discard(self._seen_order.popleft())

    def _resync(self) -> None:
        """Flush and restart: the stream's numbering changed under us."""
        self._counts["flushed"] += len(self._buffer)
        self._counts["resyncs"] += 1
        self._start_delay = self._target()
        if self._candidate is not None:
            self._candidate = None
            self._counts["discarded"] += 1
        self._reset_stream()

    def _reset_stream(self) -> None:
        """Forget everything tied to one sequence/timestamp numbering.

        The jitter estimate and the late-packet floor describe the network,
        not the stream, so they survive a resync.
        """
        self._buffer = {}
        self._seen = set()
        self._seen_order = deque()
        self._started = False
        self._has_played = False
        self._next_ts = 0
        self._last_seq = None
        self._non_audio = set()
        self._max_seq = None
        self._ts_ref = 0
        self._transit = 0.0
        self._prev_transit = None
        self._gap_run = 0
        self._last_shrink = None


if TYPE_CHECKING:
    _Core = PyJitterCore
else:
    _Core = CORE


class JitterBuffer(_JitterBufferBody, _Core):
    """Adaptive jitter buffer: reorders, times and conceals one audio stream.

    ``frame_samples`` must match the packetisation of the stream (160 for
    20 ms at 8 kHz).  ``is_silent(payload)`` optionally tells whether a frame
    may be dropped inside a talkspurt to shrink the delay.  ``max_packets``
    bounds the memory (default: twice ``max_delay_ms`` worth of frames).

    ``put`` and ``pop`` come from the core: the C one when built, else
    :class:`~tui_phone.rtp.jitter_core.PyJitterCore`.  Its class flag
    ``_fast_paths`` turns their in-order shortcuts off (tests compare).
    """


class PyJitterBuffer(_JitterBufferBody, PyJitterCore):
    """:class:`JitterBuffer` on the pure-Python core, whether or not the C one is built.

    What runs without a C compiler, and the reference the C core is tested against.
    """
