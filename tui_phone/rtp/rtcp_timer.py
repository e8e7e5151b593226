"""RTCP transmission timing (RFC 3550 6.2, 6.3 and appendix A.7).

Pure sans-I/O code: :class:`RtcpScheduler` is told what happened (an RTP
packet sent or received, an RTCP packet received, a BYE, a report sent) with
the time ``now`` in seconds, and answers when the transmission timer should
fire next and whether a report is due when it fires.  The RTP session owns
the real timer and performs the sending.

The interval (RFC 3550 6.3.1, the ``rtcp_interval()`` of A.7):

* the RTCP bandwidth is a fraction (5 %, RFC 3550 6.2) of the session
  bandwidth, split 25 % for senders and 75 % for receivers when senders are
  at most a quarter of the members;
* the deterministic interval ``Td = max(Tmin, n * avg_rtcp_size / bw)``
  with ``Tmin`` 5 s, halved to 2.5 s before the first report (``initial``);
* the interval actually used is ``Td`` times a uniform random factor in
  [0.5, 1.5], divided by ``e - 3/2`` to compensate for timer
  reconsideration (6.3.1 step 5), so a two-party call with the default 5 s
  minimum reports on average every 5 / 1.21828 = 4.10 s, never sooner than
  2.05 s nor later than 6.16 s.

Timer reconsideration (6.3.6), reverse reconsideration on BYE (6.3.4), the
``avg_rtcp_size`` estimator (6.3.2, 6.3.3), member and sender time-outs
(6.3.5) and ``we_sent`` (6.3.8) are all here.  Randomness comes from the
``rng`` callable given by the caller (``random.Random(seed).random`` in
tests), so every schedule is reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

RTCP_MIN_TIME = 5.0  # RFC 3550 6.2: recommended minimum interval, seconds
RTCP_INITIAL_MIN_TIME = RTCP_MIN_TIME / 2  # RFC 3550 6.2: "one-half ... before the first"
RTCP_BANDWIDTH_FRACTION = 0.05  # RFC 3550 6.2: 5 % of the session bandwidth
RTCP_SENDER_BW_FRACTION = 0.25  # RFC 3550 6.2 / A.7
RTCP_RCVR_BW_FRACTION = 1.0 - RTCP_SENDER_BW_FRACTION
COMPENSATION = math.e - 1.5  # RFC 3550 6.3.1 step 5 / A.7: e - 3/2 = 1.21828
RANDOM_LOW = 0.5  # RFC 3550 6.3.1 step 4: uniform in [0.5, 1.5] x Td
RANDOM_HIGH = 1.5
MEMBER_TIMEOUT_INTERVALS = 5  # RFC 3550 6.3.5: M, members silent M x Td are dropped
SENDER_TIMEOUT_INTERVALS = 2  # RFC 3550 6.3.5 / 6.3.8: senders silent 2 T stop being senders
UDP_IPV4_OVERHEAD = 28  # RFC 3550 6.3.1 / A.7: 20 octets IPv4 + 8 octets UDP
DEFAULT_AVG_RTCP_SIZE = 100.0  # an RR + SDES CNAME compound, headers included


class RtcpTimerError(ValueError):
    """The scheduler was given an impossible parameter (our bug)."""


@dataclass(frozen=True, slots=True)
class SendReport:
    """The timer fired and a compound RTCP report is due now.

    Build and send it, then call :meth:`RtcpScheduler.report_sent` with its
    size; that gives the next expiry time.
    """


@dataclass(frozen=True, slots=True)
class Reschedule:
    """The timer fired too early after reconsideration: set it to ``at``."""

    at: float


TimerOutcome = SendReport | Reschedule


def reduced_minimum_interval(session_bandwidth_bps: float) -> float:
    """The reduced minimum interval of RFC 3550 6.2: 360 / session kbit/s.

    For unicast sessions an implementation may use it instead of 5 s (RFC
    3550 6.2 allows it; the initial interval still waits 2.5 s then).
    """
    if session_bandwidth_bps <= 0:
        raise RtcpTimerError(f"session bandwidth must be positive, got {session_bandwidth_bps}")
    return 360.0 / (session_bandwidth_bps / 1000.0)


def deterministic_interval(
    members: int,
    senders: int,
    rtcp_bandwidth: float,
    we_sent: bool,
    avg_rtcp_size: float,
    minimum: float,
) -> float:
    """Td of RFC 3550 6.3.1 steps 1-3 (before randomization), in seconds.

    ``rtcp_bandwidth`` is in octets per second (all members together),
    ``avg_rtcp_size`` in octets with the UDP/IP headers, ``minimum`` is Tmin
    (already halved for the initial report when the caller wants that).
    """
    if members < 1:
        raise RtcpTimerError(f"members must be at least 1, got {members}")
    if not 0 <= senders <= members:
        raise RtcpTimerError(f"senders must be within 0-{members}, got {senders}")
    if rtcp_bandwidth <= 0:
        raise RtcpTimerError(f"RTCP bandwidth must be positive, got {rtcp_bandwidth}")
    n = members
    bandwidth = rtcp_bandwidth
    # RFC 3550 6.3.1 step 1: when senders are at most a quarter of the
    # members, senders share 25 % of the RTCP bandwidth and receivers 75 %.
    if senders <= members * RTCP_SENDER_BW_FRACTION:
        if we_sent:
            bandwidth *= RTCP_SENDER_BW_FRACTION
            n = senders
        else:
            bandwidth *= RTCP_RCVR_BW_FRACTION
            n = members - senders
    return max(minimum, avg_rtcp_size * n / bandwidth)


def rtcp_interval(
    members: int,
    senders: int,
    rtcp_bandwidth: float,
    we_sent: bool,
    avg_rtcp_size: float,
    initial: bool,
    rng: Callable[[], float],
    *,
    minimum: float = RTCP_MIN_TIME,
) -> float:
    """The randomized RTCP transmission interval T in seconds (RFC 3550 A.7).

    ``rng()`` returns a float uniform in [0, 1) (``random.Random.random``).
    ``minimum`` is Tmin after the first report; before it (``initial``) the
    minimum is half of it, 2.5 s by default (RFC 3550 6.2).
    """
    tmin = minimum / 2 if initial else minimum
    td = deterministic_interval(members, senders, rtcp_bandwidth, we_sent, avg_rtcp_size, tmin)
    # RFC 3550 6.3.1 steps 4 and 5.
    return td * (rng() + RANDOM_LOW) / COMPENSATION


class RtcpScheduler:
    """When to send RTCP, for one local source (RFC 3550 6.3).

    Create it when the session starts (:meth:`start` gives the first
    expiry), then report every event.  When the timer fires, call
    :meth:`on_expire`: a :class:`SendReport` means build and send a report
    now and call :meth:`report_sent`; a :class:`Reschedule` carries the new
    expiry.  After a BYE, :meth:`on_bye` may bring the timer forward.

    ``session_bandwidth_bps`` is the session bandwidth in bits per second
    (RFC 3550 6.2: payload plus headers of all senders, e.g. from SDP
    ``b=AS``); ``bandwidth_fraction`` of it goes to RTCP.
    """

    def __init__(
        self,
        own_ssrc: int,
        session_bandwidth_bps: float,
        rng: Callable[[], float],
        *,
        bandwidth_fraction: float = RTCP_BANDWIDTH_FRACTION,
        minimum: float = RTCP_MIN_TIME,
        avg_rtcp_size: float = DEFAULT_AVG_RTCP_SIZE,
    ) -> None:
        if session_bandwidth_bps <= 0:
            raise RtcpTimerError(f"session bandwidth must be positive, got {session_bandwidth_bps}")
        if not 0 < bandwidth_fraction <= 1:
            raise RtcpTimerError(f"bandwidth fraction must be within (0, 1], got {bandwidth_fraction}")
        if minimum <= 0:
            raise RtcpTimerError(f"minimum interval must be positive, got {minimum}")
        if avg_rtcp_size <= 0:
            raise RtcpTimerError(f"average RTCP size must be positive, got {avg_rtcp_size}")
        self.own_ssrc = own_ssrc
        self.rng = rng
        self.minimum = minimum
        self.bandwidth_fraction = bandwidth_fraction
        self.rtcp_bandwidth = session_bandwidth_bps * bandwidth_fraction / 8.0  # octets/s
        # RFC 3550 6.3.2: the initial state.
        self.tp = 0.0
        self.tn = 0.0
        self.pmembers = 1
        self.initial = True
        self.avg_rtcp_size = avg_rtcp_size
        self.we_sent = False
        self.last_interval = 0.0
        self.reports_sent = 0
        self._last_rtp_sent: float | None = None
        # SSRC -> last time heard from (members) / last RTP time (senders).
        self._members: dict[int, float] = {}
        self._senders: dict[int, float] = {}

    # -- the tables (RFC 3550 6.3.3, 6.3.5, 6.3.8) ----------------------------

    @property
    def members(self) -> int:
        """Estimated session members, ourselves included."""
        return 1 + len(self._members)

    @property
    def senders(self) -> int:
        """Members that sent RTP recently, ourselves included when we did."""
        return len(self._senders) + (1 if self.we_sent else 0)

    def set_session_bandwidth(self, session_bandwidth_bps: float) -> None:
        """Change the session bandwidth (a re-INVITE changed the codec)."""
        if session_bandwidth_bps <= 0:
            raise RtcpTimerError(f"session bandwidth must be positive, got {session_bandwidth_bps}")
        self.rtcp_bandwidth = session_bandwidth_bps * self.bandwidth_fraction / 8.0

    def interval(self) -> float:
        """Draw a new randomized interval T from the current state."""
        return rtcp_interval(
            self.members,
            self.senders,
            self.rtcp_bandwidth,
            self.we_sent,
            self.avg_rtcp_size,
            self.initial,
            self.rng,
            minimum=self.minimum,
        )

    def deterministic(self, *, initial: bool | None = None) -> float:
        """Td for the current state (no randomization, no compensation)."""
        first = self.initial if initial is None else initial
        return deterministic_interval(
            self.members,
            self.senders,
            self.rtcp_bandwidth,
            self.we_sent,
            self.avg_rtcp_size,
            self.minimum / 2 if first else self.minimum,
        )

    def start(self, now: float) -> float:
        """Start the schedule at ``now``; return the first expiry time.

        RFC 3550 6.3.2: the first report is not sent at once but after an
        interval computed with ``initial`` set (Tmin 2.5 s).
        """
        self.tp = now
        self.last_interval = self.interval()
        self.tn = now + self.last_interval
        return self.tn

    def on_rtp_sent(self, now: float) -> None:
        """We sent an RTP packet (RFC 3550 6.3.8: we are a sender)."""
        self._last_rtp_sent = now
        self.we_sent = True

    def on_rtp_received(self, ssrc: int, now: float) -> None:
        """An RTP packet from ``ssrc`` arrived (RFC 3550 6.3.3)."""
        if ssrc == self.own_ssrc:
            return
        self._members[ssrc] = now
        self._senders[ssrc] = now

    def on_rtcp_received(self, ssrc: int, packet_size: int, now: float) -> None:
        """A non-BYE compound RTCP packet from ``ssrc`` arrived (RFC 3550 6.3.3).

        ``packet_size`` includes the UDP/IP headers (add
        :data:`UDP_IPV4_OVERHEAD` to the datagram length).
        """
        if ssrc != self.own_ssrc:
            self._members[ssrc] = now
        self.avg_rtcp_size = packet_size / 16.0 + self.avg_rtcp_size * 15.0 / 16.0

    def on_bye(self, ssrc: int, now: float) -> float | None:
        """A BYE from ``ssrc`` arrived; return the new expiry if it moved.

        RFC 3550 6.3.4 reverse reconsideration: when the membership drops,
        ``tn`` and ``tp`` are pulled towards ``now`` in proportion, so the
        remaining members do not wait out an interval sized for more.
        """
        self._members.pop(ssrc, None)
        self._senders.pop(ssrc, None)
        return self._reverse_reconsider(now)

    def _reverse_reconsider(self, now: float) -> float | None:
        members = self.members
        if members >= self.pmembers:
            return None
        ratio = members / self.pmembers
        self.tn = now + ratio * (self.tn - now)
        self.tp = now - ratio * (now - self.tp)
        self.pmembers = members
        return self.tn

    def _time_out(self, now: float) -> None:
        """RFC 3550 6.3.5: forget silent senders (2 T) and members (M x Td)."""
        sender_limit = now - SENDER_TIMEOUT_INTERVALS * self.last_interval
        for ssrc in [s for s, heard in self._senders.items() if heard < sender_limit]:
            del self._senders[ssrc]
        if self._last_rtp_sent is not None and self._last_rtp_sent < sender_limit:
            self.we_sent = False  # RFC 3550 6.3.8
        # Td here uses the regular 5 s minimum, so members are not dropped
        # after a mere 12.5 s at the start of a session.
        member_limit = now - MEMBER_TIMEOUT_INTERVALS * self.deterministic(initial=False)
        for ssrc in [s for s, heard in self._members.items() if heard < member_limit]:
            del self._members[ssrc]
            self._senders.pop(ssrc, None)

    # -- the timer (RFC 3550 6.3.6) ------------------------------------------

    def on_expire(self, now: float) -> TimerOutcome:
        """The transmission timer fired at ``now``: send, or wait longer.

        Forward reconsideration: a new interval T is drawn with the current
        membership; a report goes out only when ``tp + T <= now``, otherwise
        the timer is set to ``tp + T``.
        """
        self._time_out(now)
        interval = self.interval()
        if self.tp + interval <= now:
            return SendReport()
        self.tn = self.tp + interval
        self.pmembers = self.members
        return Reschedule(self.tn)

    def report_sent(self, packet_size: int, now: float) -> float:
        """A compound report of ``packet_size`` octets (UDP/IP included) left.

        RFC 3550 6.3.6: ``tp`` becomes ``now``, ``avg_rtcp_size`` is updated,
        a fresh interval is drawn and the next expiry returned.  As in A.7 the
        interval after the first report is still drawn with ``initial`` set;
        ``initial`` is cleared afterwards.
        """
        if packet_size <= 0:
            raise RtcpTimerError(f"RTCP packet size must be positive, got {packet_size}")
        self.avg_rtcp_size = packet_size / 16.0 + self.avg_rtcp_size * 15.0 / 16.0
        self.tp = now
        self.last_interval = self.interval()
        self.tn = now + self.last_interval
        self.initial = False
        self.pmembers = self.members
        self.reports_sent += 1
        return self.tn
