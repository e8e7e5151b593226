"""The core of the jitter buffer: its hot state and its in-order put and pop.

:class:`~tui_phone.rtp.jitterbuffer.JitterBuffer` is a core plus the general
paths.  The core owns the per-frame work of a clean stream: ``put`` of the
packet following the highest one accepted, and ``pop`` of the packet following
the last one played, when it is due now.  Any other case goes to the buffer's
general paths, ``_put_general`` and ``_pop``, which read and write the same
attributes.

Two cores exist with the same attribute names and the same behaviour, floats
included: :class:`PyJitterCore` here, and ``JitterCore`` from the optional C
module ``_cjitter.c`` (chosen when built; see :data:`CORE`).  This module is the
reference the C one is tested against (tests/unit/rtp/test_jitter_core.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

SEQ_MODULUS = 1 << 16  # RFC 3550 5.1: 16-bit sequence number
TS_MODULUS = 1 << 32  # RFC 3550 5.1: 32-bit timestamp
JITTER_GAIN = 1 / 16  # RFC 3550 A.8: gain of the interarrival jitter estimator
TRANSIT_GAIN = 1 / 16  # same gain for the mean transit
DUPLICATE_HISTORY = 512  # sequence numbers remembered to spot duplicates
EPSILON = 1e-9  # float slack when comparing times built from sums

#: The counters of a jitter buffer, in the order of ``JitterBufferStats``.
COUNTERS = ("received", "played", "late", "duplicates", "lost", "concealed", "resyncs",
            "overflow", "flushed", "skipped", "discarded", "non_audio")


@dataclass(frozen=True, slots=True)
class Frame:
    """A received frame to decode and play now."""

    payload: bytes
    seq: int
    timestamp: int
    marker: bool = False


@dataclass(slots=True)
class Packet:
    """A buffered packet."""

    seq: int  # extended
    timestamp: int  # extended
    payload: bytes
    marker: bool


class PyJitterCore:
    """The pure-Python core: what runs when ``_cjitter`` is not built.

    The buffer's ``__init__`` sets the configuration (``_clock_rate``,
    ``_frame``, ``_ptime``, ``_min_delay``, ``_max_delay``, ``_k``,
    ``_max_packets``, ``_resync_threshold``, ``_late_half_life``,
    ``_is_silent``), the network estimates (``_jitter``, ``_late_floor``,
    ``_late_floor_time``, ``_delay``) and the stream state (``_reset_stream``).
    """

    #: The in-order put and pop shortcuts (tests turn them off to compare).
    _fast_paths = True

    if TYPE_CHECKING:  # set by the buffer (see the class docstring)
        _clock_rate: int
        _frame: int
        _ptime: float
        _min_delay: float
        _max_delay: float
        _k: float
        _max_packets: int
        _resync_threshold: float
        _late_half_life: float
        _is_silent: Any
        _jitter: float
        _late_floor: float
        _late_floor_time: float | None
        _delay: float
        _ssrc: int | None
        _candidate: object | None
        _buffer: dict[int, Packet]
        _seen: set[int]
        _seen_order: Any  # deque[int]
        _started: bool
        _has_played: bool
        _next_ts: int
        _last_seq: int | None
        _max_seq: int | None
        _ts_ref: int
        _transit: float
        _prev_transit: float | None
        _gap_run: int

        def _put_general(self, seq: int, timestamp: int, payload: bytes, arrival_time: float, marker: bool,
                         ssrc: int | None) -> str: ...

        def _pop(self, now: float) -> object: ...

    def __init__(self) -> None:
        self._counts = dict.fromkeys(COUNTERS, 0)

    def put(
        self,
        seq: int,
        timestamp: int,
        payload: bytes,
        arrival_time: float,
        marker: bool = False,
        ssrc: int | None = None,
    ) -> str:
        """Offer one received packet; return what became of it.

        ``seq`` and ``timestamp`` are the raw 16- and 32-bit RTP fields;
        ``arrival_time`` is in seconds on the same clock as ``pop(now)``.
        """
        seq &= SEQ_MODULUS - 1
        timestamp &= TS_MODULUS - 1
        if self._fast_paths and ssrc == self._ssrc and self._put_in_order(seq, timestamp, payload, arrival_time,
                                                                          marker):
            return "buffered"
        return self._put_general(seq, timestamp, payload, arrival_time, marker, ssrc)

    def pop(self, now: float) -> object:
        """Return what to play for the frame starting at ``now``.

        ``None`` while filling (before the first packet is due); afterwards a
        :class:`Frame` or a ``Gap`` on every call.
        """
        if self._fast_paths and self._started:
            frame = self._pop_in_order(now)
            if frame is not None:
                return frame
        return self._pop(now)

    def _put_in_order(self, seq: int, timestamp: int, payload: bytes, arrival: float, marker: bool) -> bool:
        """The next packet of the stream, on time: buffer it as ``_put`` would.

        The common case (every ptime), without the checks it cannot need: the
        packet follows the highest one accepted (so it is no duplicate, and not
        past the playout point), comes a little after it in time, and the
        buffer has room.  Returns False, having changed nothing, for any other
        packet: then the general path takes it.
        """
        max_seq = self._max_seq
        if max_seq is None or self._candidate is not None or seq != (max_seq + 1) & (SEQ_MODULUS - 1):
            return False
        ts_ref = self._ts_ref
        delta = (timestamp - ts_ref) & (TS_MODULUS - 1)
        if delta >= TS_MODULUS // 2:
            return False  # the timestamp went back: _extend's other half
        ext_ts = ts_ref + delta
        transit = arrival - ext_ts / self._clock_rate
        mean = self._transit
        buffer = self._buffer
        if (abs(transit - mean) > self._resync_threshold or len(buffer) >= self._max_packets
                or (self._started and ext_ts < self._next_ts)):
            return False
        ext_seq = max_seq + 1
        self._counts["received"] += 1
        # _remember, _update_jitter, the new highest packet, written out.
        self._seen.add(ext_seq)
        seen_order = self._seen_order
        seen_order.append(ext_seq)
        if len(seen_order) > DUPLICATE_HISTORY:
            self._seen.discard(seen_order.popleft())
        previous = self._prev_transit
        if previous is not None:
            self._jitter += (abs(transit - previous) - self._jitter) * JITTER_GAIN
        self._prev_transit = transit
        self._transit = mean + (transit - mean) * TRANSIT_GAIN
        self._max_seq = ext_seq
        self._ts_ref = ext_ts
        buffer[ext_seq] = Packet(ext_seq, ext_ts, payload, marker)
        return True

    def _pop_in_order(self, now: float) -> Frame | None:
        """Play the packet right after the last one played, when it is due now.

        The common case (every ptime), as ``_pop`` would play it: playout has
        begun, the delay is neither below the target (no hold) nor past the
        maximum (no catch-up), the next sequence number is buffered and its
        slot is now, and no silent frame may be dropped.  (Non-audio numbers
        are all above the last one played, so none is passed.)  Returns None
        otherwise, having changed nothing that ``_pop`` would not change the
        same way (the late floor's decay at ``now``, done twice, is the same
        as once).
        """
        last = self._last_seq
        if last is None or self._is_silent is not None:
            return None
        head = self._buffer.get(last + 1)  # every buffered packet is above the last played
        next_ts = self._next_ts
        if head is None or head.timestamp >= next_ts + self._frame:
            return None
        # _decay_late_floor, written out.
        if self._late_floor > 0 and self._late_floor_time is not None:
            elapsed = max(now - self._late_floor_time, 0.0)
            self._late_floor *= 0.5 ** (elapsed / self._late_half_life)
        self._late_floor_time = now
        # _target, written out
        target = self._k * self._jitter + self._ptime
        if self._late_floor > target:
            target = self._late_floor
        if target < self._min_delay:
            target = self._min_delay
        if target > self._max_delay:
            target = self._max_delay
        delay = now - next_ts / self._clock_rate - self._transit
        if delay < target - EPSILON or delay > self._max_delay + self._ptime:
            return None
        # _play and _consume, written out for the packet following the last one.
        del self._buffer[head.seq]
        self._last_seq = head.seq
        ts = head.timestamp
        self._next_ts = (next_ts if next_ts > ts else ts) + self._frame
        self._delay = delay
        self._counts["played"] += 1
        self._gap_run = 0
        self._has_played = True
        return Frame(head.payload, head.seq & (SEQ_MODULUS - 1), ts & (TS_MODULUS - 1), head.marker)


def _c_core() -> type | None:
    """The C core, bound to this module's Frame and Packet, or None if it is not built."""
    try:
        from . import _cjitter
    except ImportError:
        return None
    _cjitter.bind(Frame, Packet)
    core: type = _cjitter.JitterCore
    return core


#: The core JitterBuffer runs on: the C one when built, else PyJitterCore.
CORE: type = _c_core() or PyJitterCore
