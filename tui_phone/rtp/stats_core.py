"""The per-packet core of :class:`~tui_phone.rtp.stats.ReceiverStatistics`, in pure Python.

``ReceiverStatistics.on_packet`` runs for every RTP packet received, and on a
clean network nearly every packet is the one after the highest so far.  The
core holds the state that case touches and handles it (:meth:`PyStatsCore.on_packet`);
anything else goes to ``_on_packet_general`` in ``stats.py``, which reads and
writes the same attributes.

``tui_phone/rtp/_cstats.c`` is the same core in C (``_cstats.StatsCore``);
this one is the fallback without a compiler and the reference the C one is
tested against (tests/unit/rtp/test_stats_core.py).  Both have the same
attribute names; the C one stores them as C fields.

What a core provides (the contract the C core also keeps):

* attributes ``clock_rate``, ``bitrate_window_s``,
  ``jitter_excluded_payload_types``, ``ssrc``, ``started``, ``probation``,
  ``max_seq``, ``cycles``, ``received``, ``jitter``, ``max_jitter``,
  ``_jitter_sum``, ``_jitter_samples``, ``_seen``, ``_baseline``,
  ``_payload_sizes_given``, and ``_payload_log`` (read-only: a sequence of
  (arrival, payload size), oldest first);
* ``on_packet``, which calls ``self._on_packet_general(seq, timestamp,
  arrival_time_s, payload_type, payload_size, ssrc)`` (all positional) unless
  the in-order shortcut applies and ``self._fast_paths`` is true;
* ``_log_payload(arrival, size)``, ``_prune_payload_log(now)`` and
  ``_clear_payload_log()`` for the payload-size log of the bitrate.

Pure, sans-I/O like the rest of ``rtp/``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

# RFC 3550 A.1
RTP_SEQ_MOD = 1 << 16
MAX_DROPOUT = 3000
MAX_MISORDER = 100
MIN_SEQUENTIAL = 2

# How many recent extended sequence numbers the duplicate detector remembers.
# A.1 accepts a packet at most MAX_MISORDER - 1 behind the highest one, so a
# window above MAX_MISORDER sees every duplicate A.1 lets through.  (The C
# core keeps it in two 64-bit words: _cstats.DUPLICATE_WINDOW.)
DUPLICATE_WINDOW = 128

U32 = 1 << 32
SEEN_MASK = (1 << DUPLICATE_WINDOW) - 1


class PyStatsCore:
    """The hot state of one source's receive statistics and its in-order path.

    Not used on its own: ``ReceiverStatistics`` builds on it (or on the C
    ``StatsCore``) and initialises every attribute.
    """

    _fast_paths: bool
    clock_rate: int
    bitrate_window_s: float
    jitter_excluded_payload_types: frozenset[int]
    ssrc: int | None
    started: bool
    probation: int
    max_seq: int
    cycles: int
    received: int
    jitter: float
    max_jitter: float
    _jitter_sum: float
    _jitter_samples: int
    _seen: int  # bit i set: extended_max - i was received
    # Jitter baseline: (arrival in timestamp units, RTP timestamp).
    _baseline: tuple[float, int] | None
    _payload_log: deque[tuple[float, int]]
    _payload_sizes_given: bool
    # ReceiverStatistics' (stats.py): (seq, timestamp, arrival_time_s,
    # payload_type, payload_size, ssrc) -> whether A.1 accepted the packet.
    _on_packet_general: Callable[[int, int, float, int | None, int | None, int | None], bool]

    def on_packet(
        self,
        seq: int,
        timestamp: int,
        arrival_time_s: float,
        *,
        payload_type: int | None = None,
        payload_size: int | None = None,
        ssrc: int | None = None,
    ) -> bool:
        """Account for one received RTP packet; return whether A.1 accepted it.

        ``arrival_time_s`` is the local receive time in seconds on any clock
        that does not jump (only differences matter). A new ``ssrc`` (when
        given) starts the statistics over for the new source. Packets A.1
        rejects (probation, an unconfirmed big jump) return False; the
        caller should not play them.
        """
        if (
            seq == (self.max_seq + 1) & (RTP_SEQ_MOD - 1)
            and ssrc == self.ssrc
            and self._fast_paths
            and not self.probation
            and self.started
            and payload_size is not None
            and 0 <= timestamp < U32
            and self._baseline is not None
            and payload_type not in self.jitter_excluded_payload_types
        ):
            self._next_in_order(seq, timestamp, arrival_time_s, payload_size)
            return True
        return self._on_packet_general(seq, timestamp, arrival_time_s, payload_type, payload_size, ssrc)

    def _next_in_order(self, seq: int, timestamp: int, arrival_time_s: float, payload_size: int) -> None:
        """:meth:`on_packet` for the packet after the highest one, of a valid
        source, with a payload size and a jitter baseline (every ptime); the
        general path's steps written out, in its order."""
        self._log_payload(arrival_time_s, payload_size)
        if seq < self.max_seq:
            self.cycles += RTP_SEQ_MOD  # wrapped: another 64K cycle
        self._seen = ((self._seen << 1) | 1) & SEEN_MASK
        self.max_seq = seq
        self.received += 1
        # _jitter_step (RFC 3550 A.8)
        point = (arrival_time_s * self.clock_rate, timestamp)
        previous = self._baseline
        assert previous is not None
        self._baseline = point
        ts_delta = (timestamp - previous[1]) % U32
        if ts_delta >= 1 << 31:
            ts_delta -= U32
        jitter = self.jitter
        jitter += (abs(point[0] - previous[0] - ts_delta) - jitter) / 16.0
        self.jitter = jitter
        if jitter > self.max_jitter:  # noqa: PLR1730 (cheaper than a call to max on every packet)
            self.max_jitter = jitter
        self._jitter_sum += jitter
        self._jitter_samples += 1

    # -- the payload sizes behind the bitrate ---------------------------------

    def _log_payload(self, arrival_time_s: float, payload_size: int) -> None:
        """Log one payload size and drop those older than the window."""
        self._payload_sizes_given = True
        payload_log = self._payload_log
        payload_log.append((arrival_time_s, payload_size))
        # It stops at the entry just appended at the latest.
        cutoff = arrival_time_s - self.bitrate_window_s
        while payload_log[0][0] < cutoff:
            payload_log.popleft()

    def _prune_payload_log(self, now: float) -> None:
        """Drop payload sizes older than the window (keeps the log bounded)."""
        log = self._payload_log
        while log and log[0][0] < now - self.bitrate_window_s:
            log.popleft()

    def _clear_payload_log(self) -> None:
        """Forget every payload size, and that any was ever given."""
        self._payload_log = deque()
        self._payload_sizes_given = False
