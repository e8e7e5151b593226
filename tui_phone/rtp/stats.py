"""RTP reception and transmission statistics (RFC 3550 6.4 and appendix A).

Pure, sans-I/O: every method takes plain numbers (sequence number, RTP
timestamp, arrival time in seconds, payload size) and never reads a clock.

What is computed, and where it comes from:

* Source validation and the extended highest sequence number: RFC 3550 A.1
  (``MIN_SEQUENTIAL`` probation, ``MAX_DROPOUT``, ``MAX_MISORDER``, the
  ``bad_seq`` re-synchronisation after a restart of the sender).
* Expected / cumulative lost / fraction lost: RFC 3550 A.3.
* Interarrival jitter: RFC 3550 A.8, ``J += (|D| - J) / 16`` with
  ``D = (Rj - Ri) - (Sj - Si)`` in timestamp units. Kept as a float (the
  floating-point variant of A.8); reported truncated to an integer.
* LSR / DLSR for report blocks and the round-trip time: RFC 3550 6.4.1.
* Sender packet and octet counts (payload octets only): RFC 3550 6.4.1.

Beyond the RFC, for the UI: duplicates (a bounded bitmap of recent sequence
numbers), reordered and late packets, payload bitrate over a sliding window,
and the maximum and mean of the per-packet jitter values.

Comparison with Wireshark/tshark ("RTP Streams", "RTP Stream Analysis"):
tshark's jitter is the same A.8 recursion on floats in milliseconds,
``J = (15 J + |D|) / 16``, each packet compared with the one captured just
before it. Its "Max Jitter" is the largest per-packet J and its "Mean
Jitter" the mean of the per-packet J over the packets after the first:
``max_jitter_ms``/``mean_jitter_ms`` here are the same quantities. Its
"Lost" is ``expected - received`` as in A.3; it counts the first packet,
which A.1 probation does not, so the packet counts differ by one while the
loss agrees. tests/unit/rtp/test_stats.py checks this against tshark 4.0
on a capture with jitter, a loss, a reordered packet and a sequence wrap.
Known tshark differences: its cycle count is a heuristic that adds 65536 to
"Lost" when the packets around a 65535 -> 0 wrap arrive out of order, and
its "Lost" uses the sequence number of the last packet captured rather than
the highest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from .stats_core import (
    MAX_DROPOUT,
    MAX_MISORDER,
    MIN_SEQUENTIAL,
    RTP_SEQ_MOD,
    SEEN_MASK,
    U32,
    PyStatsCore,
)

if TYPE_CHECKING:
    _Core = PyStatsCore
else:
    try:  # the C speed-up of the per-packet path, when it was built
        from ._cstats import StatsCore as _Core
    except ImportError:
        _Core = PyStatsCore

# RFC 3550 6.4.1: cumulative number of packets lost is a signed 24-bit field.
CUMULATIVE_LOST_MAX = 0x7FFFFF
CUMULATIVE_LOST_MIN = -0x800000

# Seconds between the NTP epoch (1900-01-01) and the Unix epoch (1970-01-01).
NTP_EPOCH_OFFSET = 2208988800

# A round-trip time this many 1/65536 s below zero is taken as rounding noise
# (LSR, DLSR and A are each truncated) and reported as 0; anything more
# negative is a broken report and gives no RTT.
RTT_ROUNDING_SLACK = 64


class RtpStatsError(ValueError):
    """A statistics function was called with an impossible value (our bug)."""


# -- NTP time (RFC 3550 4) -------------------------------------------------


def unix_to_ntp(unix_seconds: float) -> int:
    """Convert Unix time in seconds to a 64-bit NTP timestamp (RFC 3550 4).

    The high 32 bits are seconds since 1900 (modulo 2**32, so 2036 wraps to
    era 1 as NTP does), the low 32 bits the binary fraction of a second.
    """
    # Split before adding the epoch offset: a float near 2**32 s has only
    # microsecond resolution left.
    whole = int(unix_seconds // 1)
    fraction = int((unix_seconds - whole) * U32)
    if fraction >= U32:  # float rounding right below a whole second
        whole, fraction = whole + 1, 0
    return (((whole + NTP_EPOCH_OFFSET) % U32) << 32) | fraction


def ntp_to_unix(ntp: int) -> float:
    """Convert a 64-bit NTP timestamp back to Unix seconds.

    Seconds values with the top bit clear are taken to be in NTP era 1
    (2036-02-07 onwards), as RFC 4330 3 suggests, so the range covered is
    1968-2104.
    """
    seconds = (ntp >> 32) & 0xFFFFFFFF
    fraction = ntp & 0xFFFFFFFF
    if not seconds & 0x80000000:
        seconds += U32
    return seconds - NTP_EPOCH_OFFSET + fraction / U32


def ntp_middle32(ntp: int) -> int:
    """Middle 32 bits of an NTP timestamp, in 1/65536 s (RFC 3550 6.4.1)."""
    return (ntp >> 16) & 0xFFFFFFFF


def unix_to_ntp_middle32(unix_seconds: float) -> int:
    """Unix seconds straight to the middle 32 bits of the NTP timestamp."""
    return ntp_middle32(unix_to_ntp(unix_seconds))


def compute_rtt(lsr: int, dlsr: int, arrival_middle32: int) -> int | None:
    """Round-trip time in 1/65536 s from a received report block.

    RFC 3550 6.4.1: ``RTT = A - LSR - DLSR`` where A is the arrival time of
    the report as the middle 32 bits of the NTP time. The arithmetic is
    modulo 2**32, so a wrap of the 16-bit seconds between the SR and the RR
    is harmless. An LSR of 0 means the peer has not received our SR yet:
    there is no RTT (None). A result slightly below zero (rounding) is 0;
    one far below zero is a bogus report and also gives None.
    """
    for name, value in (("LSR", lsr), ("DLSR", dlsr), ("A", arrival_middle32)):
        if not 0 <= value < U32:
            raise RtpStatsError(f"{name} out of 32-bit range: {value}")
    if lsr == 0:
        return None
    rtt = (arrival_middle32 - lsr - dlsr) % U32
    if rtt >= 1 << 31:  # negative as a signed 32-bit number
        return 0 if rtt >= U32 - RTT_ROUNDING_SLACK else None
    return rtt


def compute_rtt_seconds(lsr: int, dlsr: int, arrival_middle32: int) -> float | None:
    """:func:`compute_rtt` in seconds (None when there is no RTT)."""
    rtt = compute_rtt(lsr, dlsr, arrival_middle32)
    return None if rtt is None else rtt / 65536.0


# -- receiver side ---------------------------------------------------------


def clamp_cumulative_lost(lost: int) -> int:
    """Clamp a loss count to the signed 24-bit report field (RFC 3550 A.3)."""
    return min(max(lost, CUMULATIVE_LOST_MIN), CUMULATIVE_LOST_MAX)


class ReportBlockValues(NamedTuple):
    """The per-source fields of an RTCP report block (RFC 3550 6.4.1)."""

    fraction_lost: int
    """Loss since the previous report, 8-bit fixed point (lost/expected*256)."""
    cumulative_lost: int
    """Signed, clamped to the 24-bit range [-0x800000, 0x7FFFFF]."""
    extended_highest: int
    """Cycles count (high 16 bits) and highest sequence number (low 16)."""
    jitter: int
    """Interarrival jitter in timestamp units, truncated."""
    lsr: int
    """Middle 32 bits of the NTP time of the last SR received, or 0."""
    dlsr: int
    """Delay since that SR in 1/65536 s, or 0 when there was none."""


@dataclass(frozen=True, slots=True)
class ReceiverSnapshot:
    """Receive statistics of one source at a moment, for display."""

    valid: bool
    """The source passed A.1 probation; all counts are 0 until then."""
    packets_received: int
    packets_expected: int
    packets_lost: int
    """expected - received: negative when duplicates outnumber losses."""
    loss_percent: float
    """100 * lost / expected, never below 0."""
    jitter: int
    """A.8 jitter in timestamp units, as it goes into a report block."""
    jitter_ms: float
    max_jitter_ms: float
    mean_jitter_ms: float
    duplicates: int
    reordered: int
    late: int
    discarded: int
    """Packets A.1 did not accept: during probation or after a big jump."""
    resyncs: int
    """How many times A.1 re-synchronised on a sender restart."""
    extended_highest_seq: int
    cycles: int
    """How many times the 16-bit sequence number wrapped."""
    bitrate_bps: float | None
    """Payload bit rate over the recent window; None without payload sizes."""


if TYPE_CHECKING:
    _LogicBase = PyStatsCore  # the attributes the logic uses come from the core
else:
    _LogicBase = object


class _ReceiverLogic(_LogicBase):
    """Everything of :class:`ReceiverStatistics` above its per-packet core.

    A mixin, so that the same logic sits on the C core (``ReceiverStatistics``)
    and on the pure-Python one (``PyReceiverStatistics``).
    """

    #: The in-order shortcut of ``on_packet`` (tests turn it off to compare).
    _fast_paths = True

    def __init__(
        self,
        clock_rate: int,
        *,
        late_window: int | None = None,
        bitrate_window_s: float = 2.0,
        jitter_excluded_payload_types: frozenset[int] = frozenset(),
    ) -> None:
        if clock_rate <= 0:
            raise RtpStatsError(f"clock rate must be positive, got {clock_rate}")
        if late_window is not None and late_window < 0:
            raise RtpStatsError(f"late window must not be negative, got {late_window}")
        if bitrate_window_s <= 0:
            raise RtpStatsError(f"bitrate window must be positive, got {bitrate_window_s}")
        self.clock_rate = clock_rate
        self.late_window = late_window
        self.bitrate_window_s = bitrate_window_s
        self.jitter_excluded_payload_types = jitter_excluded_payload_types
        self.ssrc: int | None = None
        self.reset()

    def reset(self) -> None:
        """Forget everything: a new source (SSRC) starts from scratch."""
        self._reset_source()
        # These outlive an A.1 re-sync (a restart of the same sender).
        self.jitter = 0.0
        self.max_jitter = 0.0
        self._jitter_sum = 0.0
        self._jitter_samples = 0
        self.duplicates = 0
        self.reordered = 0
        self.late = 0
        self.discarded = 0
        self.resyncs = 0
        self._last_sr_middle32 = 0
        self._last_sr_arrival: float | None = None
        self._clear_payload_log()

    # -- RFC 3550 A.1 ------------------------------------------------------

    def _reset_source(self) -> None:
        """Forget the source: the next packet starts probation again."""
        self.started = False
        self.probation = MIN_SEQUENTIAL
        self.max_seq = 0
        self.base_seq = 0
        self.bad_seq = RTP_SEQ_MOD + 1
        self.cycles = 0  # shifted: a multiple of RTP_SEQ_MOD, as in A.1
        self.received = 0
        self.expected_prior = 0
        self.received_prior = 0
        self._seen = 0
        self._baseline = None
        self._candidate: tuple[float, int] | None = None

    def _init_seq(self, seq: int) -> None:
        """RFC 3550 A.1 init_seq()."""
        self.base_seq = seq
        self.max_seq = seq
        self.bad_seq = RTP_SEQ_MOD + 1  # so seq == bad_seq is false
        self.cycles = 0
        self.received = 0
        self.received_prior = 0
        self.expected_prior = 0
        self._seen = 1

    @property
    def valid(self) -> bool:
        """True once the source passed probation (A.1 MIN_SEQUENTIAL)."""
        return self.started and self.probation == 0

    @property
    def extended_max(self) -> int:
        """Extended highest sequence number received (cycles + max_seq)."""
        return self.cycles + self.max_seq

    def _on_packet_general(
        self,
        seq: int,
        timestamp: int,
        arrival_time_s: float,
        payload_type: int | None,
        payload_size: int | None,
        ssrc: int | None,
    ) -> bool:
        """``on_packet`` (the core's) for every packet its in-order shortcut
        does not take: RFC 3550 A.1 in full, then A.8."""
        if not 0 <= seq < RTP_SEQ_MOD:
            raise RtpStatsError(f"sequence number out of 16-bit range: {seq}")
        if not 0 <= timestamp < U32:
            raise RtpStatsError(f"RTP timestamp out of 32-bit range: {timestamp}")
        if ssrc is not None and ssrc != self.ssrc:
            if self.ssrc is not None:
                self.reset()
            self.ssrc = ssrc
        if payload_size is not None:
            self._log_payload(arrival_time_s, payload_size)

        point = (arrival_time_s * self.clock_rate, timestamp)
        use_for_jitter = payload_type not in self.jitter_excluded_payload_types
        if not self.started:
            # A.1: a new source starts with max_seq = seq - 1 and probation.
            self.started = True
            self.max_seq = (seq - 1) % RTP_SEQ_MOD
            self.probation = MIN_SEQUENTIAL

        if self.probation:
            # A.1 compares seq == max_seq + 1 in C int arithmetic, so
            # 65535 -> 0 fails probation there; the intent is clearly
            # "the next sequence number", so this compares modulo 2**16.
            if seq == (self.max_seq + 1) % RTP_SEQ_MOD:
                self.probation -= 1
                self.max_seq = seq
                if self.probation == 0:
                    self._init_seq(seq)
                    self.received += 1
                    if use_for_jitter:
                        self._jitter_step(point)
                    return True
                if use_for_jitter:
                    self._jitter_step(point)
            else:
                self.probation = MIN_SEQUENTIAL - 1
                self.max_seq = seq
                if use_for_jitter:
                    self._baseline = point
            self.discarded += 1
            return False

        udelta = (seq - self.max_seq) % RTP_SEQ_MOD
        if udelta < MAX_DROPOUT:
            # In order, with a permissible gap (udelta 0 is a duplicate of
            # the highest packet).
            if udelta:
                if seq < self.max_seq:
                    self.cycles += RTP_SEQ_MOD  # wrapped: another 64K cycle
                self._seen = ((self._seen << udelta) | 1) & SEEN_MASK
            else:
                self._mark_highest_again()
            self.max_seq = seq
        elif udelta <= RTP_SEQ_MOD - MAX_MISORDER:
            # The sequence number made a very large jump.
            if seq == self.bad_seq:
                # Two sequential packets: assume the sender restarted
                # without telling us, so re-sync (pretend this is the first
                # packet). The jitter baseline is the previous packet of the
                # new run, not the last packet of the old one.
                self._init_seq(seq)
                self.resyncs += 1
                self._baseline = self._candidate
            else:
                self.bad_seq = (seq + 1) & (RTP_SEQ_MOD - 1)
                self._candidate = point if use_for_jitter else None
                self.discarded += 1
                return False
        else:
            # Duplicate or reordered packet, at most MAX_MISORDER behind.
            self._mark_behind(RTP_SEQ_MOD - udelta)
        self.received += 1
        if use_for_jitter:
            self._jitter_step(point)
        return True

    def _mark_highest_again(self) -> None:
        """Record a packet with the highest sequence number received so far.

        (A packet ahead of it shifts the bitmap of :attr:`_seen`, in
        :meth:`on_packet`.)
        """
        if self._seen & 1:
            self.duplicates += 1
        self._seen |= 1

    def _mark_behind(self, behind: int) -> None:
        """Record a packet ``behind`` sequence numbers below the highest."""
        bit = 1 << behind
        if self._seen & bit:
            self.duplicates += 1
            return
        self._seen |= bit
        self.reordered += 1
        if self.late_window is not None and behind > self.late_window:
            self.late += 1

    # -- RFC 3550 A.8 ------------------------------------------------------

    def _jitter_step(self, point: tuple[float, int]) -> None:
        """One step of the A.8 estimator against the previous packet."""
        previous, self._baseline = self._baseline, point
        if previous is None:
            return
        arrival_delta = point[0] - previous[0]
        ts_delta = (point[1] - previous[1]) % U32
        if ts_delta >= 1 << 31:  # timestamps wrap: take the signed delta
            ts_delta -= U32
        d = abs(arrival_delta - ts_delta)
        self.jitter += (d - self.jitter) / 16.0
        self.max_jitter = max(self.max_jitter, self.jitter)
        self._jitter_sum += self.jitter
        self._jitter_samples += 1

    def on_late_packet(self, count: int = 1) -> None:
        """The jitter buffer got ``count`` packets after their playout time."""
        if count < 0:
            raise RtpStatsError(f"late packet count must not be negative, got {count}")
        self.late += count

    # -- RFC 3550 A.3 and 6.4.1 ----------------------------------------------

    @property
    def expected(self) -> int:
        """A.3: packets expected since the base sequence number."""
        if not self.valid:
            return 0
        return self.extended_max - self.base_seq + 1

    @property
    def lost(self) -> int:
        """A.3: expected - received, unclamped (negative with duplicates)."""
        return self.expected - self.received

    def on_sender_report(self, ntp_middle32: int, arrival_time: float) -> None:
        """Remember an SR from this source for the LSR/DLSR of our reports.

        ``ntp_middle32`` is the middle 32 bits of the SR's NTP timestamp
        (:func:`ntp_middle32`); ``arrival_time`` is the local receive time on
        the same clock as the ``now`` later given to
        :meth:`make_report_block_values`.
        """
        if not 0 <= ntp_middle32 < U32:
            raise RtpStatsError(f"LSR out of 32-bit range: {ntp_middle32}")
        self._last_sr_middle32 = ntp_middle32
        self._last_sr_arrival = arrival_time

    def make_report_block_values(self, now: float) -> ReportBlockValues | None:
        """Values for a report block about this source, sent at ``now``.

        Closes the fraction-lost interval (A.3), so call it once per report
        actually sent. None while the source has not passed probation: RFC
        3550 6.4 reports only on sources heard from.
        """
        if not self.valid:
            return None
        expected = self.expected
        expected_interval = expected - self.expected_prior
        self.expected_prior = expected
        received_interval = self.received - self.received_prior
        self.received_prior = self.received
        lost_interval = expected_interval - received_interval
        if expected_interval == 0 or lost_interval <= 0:
            fraction = 0
        else:
            fraction = (lost_interval << 8) // expected_interval
        cumulative = clamp_cumulative_lost(self.lost)
        if self._last_sr_arrival is None:
            lsr = dlsr = 0
        else:
            lsr = self._last_sr_middle32
            # RFC 3550 6.4.1: DLSR in units of 1/65536 s.
            delay = int((now - self._last_sr_arrival) * 65536)
            dlsr = min(max(delay, 0), U32 - 1)
        return ReportBlockValues(
            fraction_lost=fraction,
            cumulative_lost=cumulative,
            extended_highest=self.extended_max % U32,
            jitter=min(int(self.jitter), U32 - 1),
            lsr=lsr,
            dlsr=dlsr,
        )

    # -- for the UI --------------------------------------------------------

    def bitrate(self, now: float) -> float | None:
        """Payload bits per second over the last ``bitrate_window_s``.

        Averaged over the window, or over the time since the first payload
        logged when that is shorter. None when no sizes were ever given.
        """
        if not self._payload_sizes_given:
            return None
        self._prune_payload_log(now)
        log = self._payload_log  # (the C core's is a copy: take it after pruning)
        if not log:
            return 0.0
        span = min(self.bitrate_window_s, now - log[0][0])
        if span <= 0:
            return 0.0
        return sum(size for _, size in log) * 8 / span

    def snapshot(self, now: float) -> ReceiverSnapshot:
        """The statistics at ``now``, without touching the report interval."""
        expected = self.expected
        lost = self.lost
        ms_per_unit = 1000.0 / self.clock_rate
        mean = self._jitter_sum / self._jitter_samples if self._jitter_samples else 0.0
        return ReceiverSnapshot(
            valid=self.valid,
            packets_received=self.received,
            packets_expected=expected,
            packets_lost=lost,
            loss_percent=max(lost, 0) * 100.0 / expected if expected > 0 else 0.0,
            jitter=int(self.jitter),
            jitter_ms=self.jitter * ms_per_unit,
            max_jitter_ms=self.max_jitter * ms_per_unit,
            mean_jitter_ms=mean * ms_per_unit,
            duplicates=self.duplicates,
            reordered=self.reordered,
            late=self.late,
            discarded=self.discarded,
            resyncs=self.resyncs,
            extended_highest_seq=self.extended_max if self.valid else 0,
            cycles=self.cycles // RTP_SEQ_MOD,
            bitrate_bps=self.bitrate(now),
        )


class ReceiverStatistics(_ReceiverLogic, _Core):
    """Statistics of the RTP packets received from one source (SSRC).

    Feed every packet to :meth:`on_packet` and every Sender Report from the
    same source to :meth:`on_sender_report`; call
    :meth:`make_report_block_values` once per RTCP report sent (it closes the
    fraction-lost interval) and :meth:`snapshot` as often as the UI likes.

    ``late_window``: when set, an accepted packet that is more than this many
    sequence numbers behind the highest one is counted as late. A jitter
    buffer that knows better calls :meth:`on_late_packet` instead (use one
    or the other, not both).

    ``jitter_excluded_payload_types``: payload types left out of the jitter
    estimate, typically telephone-event (RFC 4733 2.5.1.2: its timestamp
    stays at the event start, so its transit time means nothing). They
    still count for sequence and loss statistics.

    The per-packet work runs in C when ``_cstats`` was built (its in-order
    case runs no Python code at all), else in Python: see ``stats_core.py``.
    """


class PyReceiverStatistics(_ReceiverLogic, PyStatsCore):
    """:class:`ReceiverStatistics` on the pure-Python core, even when the C one
    is built: the reference the C core is tested against."""


# -- sender side -----------------------------------------------------------


class SenderInfoValues(NamedTuple):
    """The sender-info fields of an RTCP Sender Report (RFC 3550 6.4.1)."""

    ntp_timestamp: int
    """64-bit NTP time of ``now``."""
    rtp_timestamp: int
    """The same instant on the RTP media clock."""
    packet_count: int
    """Packets sent, modulo 2**32."""
    octet_count: int
    """Payload octets sent (no header, no padding), modulo 2**32."""


class SenderStatistics:
    """What we sent on one SSRC, for the sender info of our SRs.

    ``now`` values must be wall-clock Unix seconds, since they become the
    SR's NTP timestamp; the RTP timestamp of an SR is extrapolated from the
    last packet sent at the media clock rate (RFC 3550 6.4.1: it "corresponds
    to the same time as the NTP timestamp").
    """

    def __init__(self, clock_rate: int) -> None:
        if clock_rate <= 0:
            raise RtpStatsError(f"clock rate must be positive, got {clock_rate}")
        self.clock_rate = clock_rate
        self.packet_count = 0
        self.octet_count = 0
        self.last_rtp_timestamp: int | None = None
        self.last_send_time: float | None = None

    def on_packet_sent(self, rtp_timestamp: int, payload_size: int, now: float) -> None:
        """Account for one RTP packet sent at ``now`` with this payload size."""
        if not 0 <= rtp_timestamp < U32:
            raise RtpStatsError(f"RTP timestamp out of 32-bit range: {rtp_timestamp}")
        if payload_size < 0:
            raise RtpStatsError(f"payload size must not be negative, got {payload_size}")
        self.packet_count += 1
        self.octet_count += payload_size
        self.last_rtp_timestamp = rtp_timestamp
        self.last_send_time = now

    def reset(self) -> None:
        """Start over: RFC 3550 6.4.1 resets the counts on an SSRC change."""
        self.packet_count = 0
        self.octet_count = 0
        self.last_rtp_timestamp = None
        self.last_send_time = None

    def sender_info(self, now: float) -> SenderInfoValues | None:
        """Sender info for an SR sent at ``now``; None if nothing was sent."""
        if self.last_rtp_timestamp is None or self.last_send_time is None:
            return None
        elapsed = (now - self.last_send_time) * self.clock_rate
        rtp_timestamp = (self.last_rtp_timestamp + round(elapsed)) % U32
        return SenderInfoValues(
            ntp_timestamp=unix_to_ntp(now),
            rtp_timestamp=rtp_timestamp,
            packet_count=self.packet_count % U32,
            octet_count=self.octet_count % U32,
        )
