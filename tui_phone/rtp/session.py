"""RTP endpoint: the Twisted edge of one audio stream (RFC 3550, 3551, 4961).

Thin by design (STYLE.md, the sans-I/O line): this module binds the UDP
ports, runs the ptime and RTCP timers, moves datagrams and calls callbacks.
The decisions are made by pure objects it feeds:

* :class:`~tui_phone.rtp.sender.RtpSender`: pacing at ptime, sequence numbers,
  timestamps from the sample count, catch-up after a late timer, DTMF;
* :class:`~tui_phone.rtp.latch.SymmetricLatch`: which packets are the peer's,
  where to send (symmetric RTP and RTCP, RFC 4961);
* :class:`~tui_phone.rtp.stats.ReceiverStatistics` and
  :class:`~tui_phone.rtp.reporting.RtcpReporter`: RFC 3550 statistics, SR/RR,
  SDES, BYE, RTT;
* :class:`~tui_phone.rtp.rtcp_timer.RtcpScheduler`: when to send RTCP (RFC
  3550 6.3, randomized, with reconsideration);
* :class:`~tui_phone.rtp.srtp.SrtpContext` when SRTP was negotiated.

Payloads are encoded frames: the session never looks inside them, so it
does not depend on the codecs.  Times come from the reactor
(``reactor.seconds()``, Unix time on a real reactor, which the RTCP NTP
timestamps need); unit tests pass a :class:`twisted.internet.task.Clock`
based fake reactor.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from twisted.internet.defer import Deferred, gatherResults, maybeDeferred, succeed
from twisted.internet.error import CannotListenError, MessageLengthError
from twisted.internet.protocol import DatagramProtocol

from .dtmf import DtmfDigit, DtmfParseError, DtmfReceiver
from .errors import RtpError, RtpParseError
from .jitterbuffer import JitterBuffer
from .latch import Accepted, Address, Stranger, SymmetricLatch
from .packet import RTP_FIXED_HEADER, RTP_HEADER_SIZE, RTP_PLAIN_FIRST_OCTET, RTP_VERSION, RtpPacket, is_rtcp
from .quality import QualityError, QualityEstimator
from .reporting import RtcpReporter, compound_sender_ssrc
from .rtcp import RtcpPacket, parse_compound
from .rtcp_timer import RTCP_MIN_TIME, UDP_IPV4_OVERHEAD, RtcpScheduler, SendReport
from .sender import FrameSource, RtpSender
from .session_stats import RtpSessionStats
from .srtp import SrtpContext, SrtpError, SrtpReplayError, SrtpUnprotectError
from .stats import ReceiverStatistics, SenderStatistics
from .ticker import PACING_EARLY_WAKE, AsyncioPacer, DatagramPoller, ReactorPacer, TimerfdPacer, pacer_for

try:  # the ptime tick in C (setup.py; optional): _send_tick step for step
    from ._ctick import SendTick
except ImportError:  # no compiler at install: _send_tick itself
    SendTick = None

log = logging.getLogger(__name__)

DEFAULT_PORT_RANGE = (20000, 30000)
MAX_BIND_ATTEMPTS = 64
# RFC 3550 6.2: the session bandwidth; G.711 at 20 ms with IPv4/UDP/RTP
# headers is (160 + 40) octets x 50/s = 80 kbit/s.
DEFAULT_SESSION_BANDWIDTH = 80_000
MAX_DATAGRAM = 2048
# RFC 4733 2.5.1.2 gives no figure: an event whose end packets were all lost
# is reported this long after its last packet (DtmfReceiver's timeout).
DTMF_TIMEOUT = 1.0
_DTMF_WATCH_SLACK = 0.1  # seconds the timeout is polled beyond its due time

FrameCallback = Callable[[bytes, RtpPacket], None]
DtmfCallback = Callable[[DtmfDigit], None]
ByeCallback = Callable[[bytes | None], None]


class RtpSessionError(RtpError):
    """The session was used wrongly by our own code (a local error)."""


class RtpReactor(Protocol):
    """What the session needs from the reactor: UDP and time."""

    def listenUDP(
        self, port: int, protocol: DatagramProtocol, interface: str = ..., maxPacketSize: int = ...
    ) -> Any: ...
    def callLater(self, delay: float, callable: Callable[..., Any], *args: Any, **kw: Any) -> Any: ...
    def seconds(self) -> float: ...


class _Receiver(DatagramProtocol):
    """Hands every datagram of one port to the session."""

    def __init__(self, handler: Callable[[bytes, Address], None]) -> None:
        self._handler = handler

    def datagramReceived(self, datagram: bytes, addr: Any) -> None:
        self._handler(datagram, (addr[0], addr[1]))


class RtpSession:
    """One RTP stream both ways (with its RTCP) on an even/odd UDP port pair.

    Typical use: :meth:`open`, :meth:`set_remote` and
    :meth:`configure_receive` from the SDP, :meth:`start_sending`,
    :meth:`on_frame` for what arrives, :meth:`stats` at any time,
    :meth:`close` at the end (sends an RTCP BYE).

    ``rng`` draws the SSRC, the CNAME, the ports, the first sequence number
    and timestamp and the RTCP randomization (seed it in tests; the default
    is the system's secure source).  ``rtcp_minimum`` is the RTCP Tmin (RFC
    3550 6.2: 5 s; tests use less).  ``max_catch_up`` bounds the frames sent
    late after a stalled timer (see :mod:`tui_phone.rtp.sender`).
    """

    def __init__(
        self,
        reactor: RtpReactor | None = None,
        *,
        rng: random.Random | None = None,
        cname: str | None = None,
        rtcp_mux: bool = False,
        latching: bool = True,
        session_bandwidth_bps: float = DEFAULT_SESSION_BANDWIDTH,
        max_catch_up: int = 5,
        rtcp_minimum: float = RTCP_MIN_TIME,
        srtp: SrtpContext | None = None,
        jitter_buffer: JitterBuffer | None = None,
    ) -> None:
        if reactor is None:
            from twisted.internet import reactor as default_reactor

            reactor = default_reactor
        # Any: Twisted's interfaces (zope) do not type-check as protocols.
        self._reactor: Any = reactor
        self._rng = rng if rng is not None else random.SystemRandom()
        self.ssrc = self._rng.getrandbits(32)  # RFC 3550 8.1: random SSRC
        self.cname = cname if cname is not None else f"{self._rng.getrandbits(64):016x}@tui-phone"
        self.rtcp_mux = rtcp_mux
        self.max_catch_up = max_catch_up
        self.srtp = srtp
        self.jitter_buffer = jitter_buffer
        self._rtp_port: Any = None
        self._rtcp_port: Any = None
        self._latch = SymmetricLatch(enabled=latching)
        self._rtcp_latch = SymmetricLatch(enabled=latching)
        self._clock_rate = 8000
        self._telephone_event_pt: int | None = None
        self._quality: QualityEstimator | None = None
        self._receiver = ReceiverStatistics(self._clock_rate)
        self._sender_stats = SenderStatistics(self._clock_rate)
        self._reporter = RtcpReporter(self.ssrc, self.cname.encode("utf-8"), self._receiver, self._sender_stats)
        self._scheduler = RtcpScheduler(
            self.ssrc, session_bandwidth_bps, self._rng.random, minimum=rtcp_minimum
        )
        self._dtmf_receiver = DtmfReceiver(self._clock_rate, DTMF_TIMEOUT)
        self._sender: RtpSender | None = None
        self._source: FrameSource | None = None
        self._pacer: ReactorPacer | AsyncioPacer | TimerfdPacer = pacer_for(self._reactor)
        self._poller: DatagramPoller | None = None  # reads RTP on the tick while sending
        self._dtmf_watch: float | None = None  # poll the DTMF receiver's timeout until then
        # RTP sent and heard (SSRC -> time) not told to the scheduler yet: see _feed_scheduler.
        self._rtp_sent_at: float | None = None
        self._rtp_heard: dict[int, float] = {}
        self._send_call: Any = None  # the pending ptime timer (IDelayedCall or asyncio handle)
        self._rtcp_call: Any = None  # an IDelayedCall
        self._frame_callbacks: list[FrameCallback] = []
        self._dtmf_callbacks: list[DtmfCallback] = []
        self._bye_callbacks: list[ByeCallback] = []
        self._counts = dict.fromkeys(
            ("garbage", "strangers", "srtp_auth", "srtp_replay", "rtcp_sent", "rtcp_received", "dtmf", "send_errors"),
            0,
        )
        self._closed = False
        self._sending = False
        # What the pacer calls every ptime: _send_tick, in C when built.
        self._tick: Callable[..., None] = SendTick(self) if SendTick is not None else self._send_tick

    # -- ports -----------------------------------------------------------------

    def open(
        self,
        local_host: str = "127.0.0.1",
        port_range: tuple[int, int] = DEFAULT_PORT_RANGE,
    ) -> tuple[int, int]:
        """Bind RTP on an even port and RTCP on the next one; return both.

        RFC 3550 11: RTP on an even port, RTCP on the odd port above it.
        Ports are drawn at random within ``port_range`` (both ends
        included); a port already in use is skipped, up to
        :data:`MAX_BIND_ATTEMPTS` tries.  With rtcp-mux (RFC 5761) RTCP
        shares the RTP port and the odd port is not bound.
        """
        if self._rtp_port is not None:
            raise RtpSessionError("RTP session is already open")
        low, high = port_range
        first = low + (low % 2)
        last = high - 1 if high % 2 else high  # RTP port; +1 must be in range
        if self.rtcp_mux:
            last = high - (high % 2)
        if first > last:
            raise RtpSessionError(f"port range {low}-{high} holds no even/odd port pair")
        candidates = range(first, last + 1, 2)
        tries = self._rng.sample(candidates, min(len(candidates), MAX_BIND_ATTEMPTS))
        for port in tries:
            rtp = self._listen(port, local_host, self._on_rtp_datagram)
            if rtp is None:
                continue
            if self.rtcp_mux:
                self._rtp_port = rtp
                return port, port
            rtcp = self._listen(port + 1, local_host, self._on_rtcp_datagram)
            if rtcp is None:
                rtp.stopListening()
                continue
            self._rtp_port, self._rtcp_port = rtp, rtcp
            log.debug("RTP session %08x bound %s:%d/%d", self.ssrc, local_host, port, port + 1)
            return port, port + 1
        raise RtpSessionError(
            f"no free RTP port pair on {local_host} in {low}-{high} after {len(tries)} attempts"
        )

    def _listen(self, port: int, host: str, handler: Callable[[bytes, Address], None]) -> Any:
        try:
            return self._reactor.listenUDP(port, _Receiver(handler), interface=host, maxPacketSize=MAX_DATAGRAM)
        except CannotListenError:
            return None

    @property
    def local_rtp(self) -> Address | None:
        """The bound RTP address, None before :meth:`open`."""
        return _host_address(self._rtp_port)

    @property
    def local_rtcp(self) -> Address | None:
        """The bound RTCP address (the RTP one with rtcp-mux)."""
        return _host_address(self._rtcp_port if self._rtcp_port is not None else self._rtp_port)

    # -- configuration from the SDP --------------------------------------------

    def set_remote(self, address: Address, rtcp_address: Address | None = None) -> None:
        """Where the SDP says the peer receives RTP (and RTCP: ``a=rtcp``, else port + 1)."""
        if rtcp_address is None:
            rtcp_address = address if self.rtcp_mux else (address[0], address[1] + 1)
        self._latch.set_signalled(address)
        self._rtcp_latch.set_signalled(rtcp_address)
        if self._rtcp_call is None and self._rtp_port is not None and not self._closed:
            now = self._reactor.seconds()
            self._feed_scheduler()
            self._schedule_rtcp(self._scheduler.start(now), now)

    def configure_receive(
        self,
        payload_types: Iterable[int] | None,
        clock_rate: int,
        *,
        telephone_event_pt: int | None = None,
        codec_name: str | None = None,
    ) -> None:
        """What we accept: negotiated payload types (None: any), their clock rate.

        ``telephone_event_pt`` is the negotiated RFC 4733 payload type (added
        to the accepted set); ``codec_name`` (``"PCMU"``...) enables the MOS
        estimate.
        """
        accepted = None if payload_types is None else frozenset(payload_types)
        if accepted is not None and telephone_event_pt is not None:
            accepted |= {telephone_event_pt}
        self._latch.set_payload_types(accepted)
        self._telephone_event_pt = telephone_event_pt
        excluded = frozenset() if telephone_event_pt is None else frozenset({telephone_event_pt})
        if clock_rate != self._clock_rate or excluded != self._receiver.jitter_excluded_payload_types:
            self._clock_rate = clock_rate
            self._receiver = ReceiverStatistics(clock_rate, jitter_excluded_payload_types=excluded)
            self._reporter.receiver = self._receiver
            self._dtmf_receiver = DtmfReceiver(clock_rate, DTMF_TIMEOUT)
        self._quality = None
        if codec_name is not None:
            try:
                self._quality = QualityEstimator(codec_name)
            except QualityError:
                log.info("no MOS estimate for codec %s", codec_name)

    def set_srtp(self, context: SrtpContext | None) -> None:
        """Start (or stop) protecting media with SRTP/SRTCP."""
        self.srtp = context

    def on_frame(self, callback: FrameCallback) -> None:
        """Call ``callback(payload, packet)`` for every accepted media packet."""
        self._frame_callbacks.append(callback)

    def on_dtmf(self, callback: DtmfCallback) -> None:
        """Call ``callback(digit)`` once per RFC 4733 key press received."""
        self._dtmf_callbacks.append(callback)

    def on_bye(self, callback: ByeCallback) -> None:
        """Call ``callback(reason)`` when the peer sends an RTCP BYE."""
        self._bye_callbacks.append(callback)

    # -- sending ---------------------------------------------------------------

    def start_sending(
        self,
        source: FrameSource,
        payload_type: int,
        clock_rate: int,
        samples_per_frame: int,
        ptime_ms: float | None = None,
        *,
        telephone_event_pt: int | None = None,
    ) -> None:
        """Send one frame from ``source()`` every ptime (``None``: nothing this time).

        ``samples_per_frame`` is in RTP clock units (160 for 20 ms PCMU; also
        160 for G.722, whose RTP clock is 8000, RFC 3551 4.5.2); the RTP
        timestamp advances by it for every frame.  ``ptime_ms`` must agree
        with it when given.  Sequence numbers continue across a stop/start
        and timestamps keep following the media clock (RFC 3550 5.1).
        """
        if self._rtp_port is None:
            raise RtpSessionError("RTP session is not open")
        if self._latch.destination is None:
            raise RtpSessionError("no remote address: call set_remote first")
        if clock_rate <= 0 or samples_per_frame <= 0:
            raise RtpSessionError("clock rate and samples per frame must be positive")
        if ptime_ms is not None and abs(samples_per_frame * 1000 / clock_rate - ptime_ms) > 1e-9:
            raise RtpSessionError(
                f"ptime {ptime_ms} ms does not match {samples_per_frame} samples at {clock_rate} Hz"
            )
        self.stop_sending()
        now = self._pacer.now()  # the pacing clock: the sender's times are on it
        previous = self._sender
        if previous is None:
            sequence, timestamp = self._rng.getrandbits(16), self._rng.getrandbits(32)
        else:
            # Keep numbering; let the timestamp cover the pause (RFC 3550 5.1).
            sequence = previous.next_sequence
            due = previous.start_time + previous.frames_done * previous.ptime
            timestamp = previous.next_timestamp + max(round((now - due) * clock_rate), 0)
        self._sender = RtpSender(
            ssrc=self.ssrc,
            payload_type=payload_type,
            clock_rate=clock_rate,
            samples_per_frame=samples_per_frame,
            start_time=now,
            first_sequence=sequence,
            first_timestamp=timestamp,
            max_catch_up=self.max_catch_up,
            telephone_event_pt=telephone_event_pt,
        )
        self._sender_stats.clock_rate = clock_rate
        self._source = source
        self._sending = True
        if self._poller is None and self._pacer.polls:
            self._poller = DatagramPoller.attach(self._rtp_port, self._on_rtp_datagram, MAX_DATAGRAM)
            if self._poller is not None:
                self._poller.serve(self)
        self._tick()

    def stop_sending(self) -> None:
        """Stop the ptime loop (the numbering is kept for a later restart)."""
        self._sending = False
        if self._send_call is not None:
            self._send_call.cancel()
            self._send_call = None
        if self._poller is not None:
            self._poller.detach()  # the reactor reads RTP again (hold: no tick)
            self._poller = None

    @property
    def sending(self) -> bool:
        """True while the ptime loop runs."""
        return self._sending

    def send_dtmf(self, digits: str, *, duration_ms: int = 100) -> None:
        """Send RFC 4733 events for ``digits``; the audio pauses meanwhile.

        Needs ``telephone_event_pt`` given to :meth:`start_sending`; a bad
        digit raises :class:`~tui_phone.rtp.dtmf.DtmfValueError`.
        """
        if self._sender is None or not self.sending:
            raise RtpSessionError("cannot send DTMF: the session is not sending")
        if self._sender.telephone_event_pt is None:
            raise RtpSessionError("cannot send DTMF: no telephone-event payload type was negotiated")
        self._sender.send_dtmf(digits, duration_ms=duration_ms)

    def _send_tick(self, pace_now: float | None = None) -> None:
        """Send what is due, then set the timer for the next frame's due time.

        The reference for ``_ctick.SendTick``, which the pacer calls instead
        when it is built (:attr:`_tick`).

        The next timer is set for the sender's ``next_due`` (start + frames x
        ptime), not "ptime from now", so lateness never accumulates; a late
        tick sends the missed frames at once (the sender's catch-up).
        ``pace_now`` is the time on the pacing clock, when the pacer knows it.
        """
        self._send_call = None
        if self._poller is not None:
            self._poller.drain()  # what arrived since the last tick (ticker.py says why)
        sender, source = self._sender, self._source
        if sender is None or source is None or not self._sending:
            return
        now = self._reactor.seconds()  # wall clock: SR NTP timestamps, RTCP timing
        try:
            datagrams = sender.datagrams(self._pacer.now() if pace_now is None else pace_now, source)
        except BaseException:
            self._sending = False  # as LoopingCall did: an error stops the loop
            raise
        port, destination, poller = self._rtp_port, self._latch.destination, self._poller
        for data, timestamp, size in datagrams:
            if port is None or destination is None:
                continue
            if poller is not None and self.srtp is None:  # _write's usual case, every ptime
                try:
                    poller.sendto(data, destination)
                except OSError as error:
                    self._send_failed(destination, error)
                    continue
            elif not self._write(port, data, destination, rtcp=False):
                continue
            self._sender_stats.on_packet_sent(timestamp, size, now)
            self._rtp_sent_at = now
        if self._dtmf_watch is not None:
            self._watch_dtmf(now)
        if self._sending and self._sender is sender and self._send_call is None:
            # (the source or a callback may have stopped or restarted sending)
            self._send_call = self._pacer.call_at(sender.next_due, self._tick, sender.ptime)

    def _send_failed(self, destination: Address, error: OSError) -> None:
        self._counts["send_errors"] += 1
        log.warning("RTP send to %s:%d failed: %s", *destination, error)

    def _write(self, port: Any, data: bytes, destination: Address, *, rtcp: bool) -> bool:
        try:
            if self.srtp is not None:
                data = self.srtp.protect_rtcp(data) if rtcp else self.srtp.protect(data)
            poller = self._poller
            if poller is not None and port is self._rtp_port:
                poller.sendto(data, destination)
            else:
                port.write(data, destination)
        except (OSError, MessageLengthError, SrtpError) as error:
            self._counts["send_errors"] += 1
            log.warning("RTP%s send to %s:%d failed: %s", "C" if rtcp else "", *destination, error)
            return False
        return True

    # -- receiving -------------------------------------------------------------

    def _on_rtp_datagram(self, data: bytes, source: Address, arrival: float | None = None) -> None:
        """One datagram on the RTP port, received at ``arrival`` (None: now)."""
        if self.rtcp_mux and is_rtcp(data):  # RFC 5761 4
            self._on_rtcp_datagram(data, source, arrival)
            return
        now = self._reactor.seconds() if arrival is None else arrival
        if len(data) < RTP_HEADER_SIZE or data[0] >> 6 != RTP_VERSION:
            self._counts["garbage"] += 1
            return
        if self.srtp is not None:
            data = self._unprotect(data, rtcp=False)
            if not data:
                return
        packet: RtpPacket | None = None
        if data[0] == RTP_PLAIN_FIRST_OCTET:
            # The usual packet (no padding, extension or CSRC): its fields
            # straight from the header, no RtpPacket unless someone wants one.
            _, second, sequence, timestamp, ssrc = RTP_FIXED_HEADER.unpack_from(data)
            payload_type, marker, payload = second & 0x7F, second >= 0x80, data[RTP_HEADER_SIZE:]
        else:
            try:
                packet = RtpPacket.parse(data)
            except RtpParseError as error:
                self._counts["garbage"] += 1
                log.debug("garbage from %s:%d: %s", *source, error)
                return
            payload_type, sequence, timestamp = packet.payload_type, packet.sequence_number, packet.timestamp
            ssrc, marker, payload = packet.ssrc, packet.marker, packet.payload
        verdict = self._latch.check(ssrc, payload_type, source)
        if isinstance(verdict, Stranger):
            self._counts["strangers"] += 1
            log.debug("stranger RTP from %s:%d (%s)", *source, verdict.reason)
            return
        if verdict.latched:
            log.info("symmetric RTP: sending to %s:%d (SDP said %s)", *source, self._latch.signalled)
            if self.rtcp_mux:
                self._rtcp_latch.destination = source
        valid = self._receiver.on_packet(
            sequence, timestamp, now, payload_type=payload_type, payload_size=len(payload), ssrc=ssrc
        )
        self._rtp_heard[ssrc] = now
        if not valid:
            return  # RFC 3550 A.1: on probation, or a lone packet after a big jump
        if payload_type == self._telephone_event_pt:
            if self.jitter_buffer is not None:  # the event took a sequence number: not a lost frame
                self.jitter_buffer.note_non_audio(sequence, ssrc)
            if packet is None:
                packet = RtpPacket(payload_type, sequence, timestamp, ssrc, payload, marker)
            self._on_telephone_event(packet, verdict, now)
            return
        if self.jitter_buffer is not None:
            self.jitter_buffer.put(sequence, timestamp, payload, now, marker, ssrc)
        if self._frame_callbacks:
            if packet is None:
                packet = RtpPacket(payload_type, sequence, timestamp, ssrc, payload, marker)
            for callback in list(self._frame_callbacks):
                callback(payload, packet)
        if self._dtmf_watch is not None:
            self._watch_dtmf(now)

    def _on_telephone_event(self, packet: RtpPacket, verdict: Accepted, now: float) -> None:
        if verdict.new_source:
            self._dtmf_receiver.reset()
        # Poll the receiver's timeout (an event whose end packets were lost)
        # until it must have passed; an idle receiver is not polled.
        self._dtmf_watch = now + DTMF_TIMEOUT + _DTMF_WATCH_SLACK
        try:
            digits = self._dtmf_receiver.feed(
                packet.sequence_number, packet.timestamp, packet.marker, packet.payload, now
            )
        except DtmfParseError as error:
            self._counts["garbage"] += 1
            log.debug("bad telephone-event payload: %s", error)
            return
        self._deliver_digits(digits)

    def _watch_dtmf(self, now: float) -> None:
        assert self._dtmf_watch is not None
        if now > self._dtmf_watch:
            self._dtmf_watch = None
        self._deliver_digits(self._dtmf_receiver.tick(now))

    def _deliver_digits(self, digits: list[DtmfDigit]) -> None:
        hand_over = self._pacer.hand_over  # set when ticks run on the media thread
        for digit in digits:
            self._counts["dtmf"] += 1
            for callback in list(self._dtmf_callbacks):
                if hand_over is None:
                    callback(digit)
                else:  # the listeners (the UI, user scripts) run on the loop thread
                    hand_over(callback, digit)

    def _unprotect(self, data: bytes, *, rtcp: bool) -> bytes:
        assert self.srtp is not None
        try:
            return self.srtp.unprotect_rtcp(data) if rtcp else self.srtp.unprotect(data)
        except SrtpReplayError:
            self._counts["srtp_replay"] += 1
        except SrtpUnprotectError as error:
            self._counts["srtp_auth"] += 1
            log.debug("%s", error)
        return b""

    def _on_rtcp_datagram(self, data: bytes, source: Address, arrival: float | None = None) -> None:
        now = self._reactor.seconds() if arrival is None else arrival
        if len(data) < 8 or data[0] >> 6 != RTP_VERSION:
            self._counts["garbage"] += 1
            return
        size = len(data)
        if self.srtp is not None:
            data = self._unprotect(data, rtcp=True)
            if not data:
                return
        try:
            packets = parse_compound(data)
        except RtpParseError as error:
            self._counts["garbage"] += 1
            log.debug("garbage RTCP from %s:%d: %s", *source, error)
            return
        if not self._accept_rtcp(packets, source):
            self._counts["strangers"] += 1
            return
        self._counts["rtcp_received"] += 1
        received = self._reporter.on_compound(packets, now)
        sender = received.sender_ssrc
        if sender is None:
            return
        if received.bye:
            self._peer_left(sender, received.bye_reason, now)
        else:
            self._feed_scheduler()
            self._scheduler.on_rtcp_received(sender, size + UDP_IPV4_OVERHEAD, now)

    def _accept_rtcp(self, packets: list[RtcpPacket], source: Address) -> bool:
        ssrc = compound_sender_ssrc(packets)
        if ssrc is None:
            return False
        expected = self._latch.remote_ssrc
        if expected is not None and ssrc != expected:
            return False
        verdict = self._rtcp_latch.check(ssrc, None, source)
        if self.rtcp_mux:
            self._rtcp_latch.destination = self._latch.destination
        return isinstance(verdict, Accepted)

    def _peer_left(self, ssrc: int, reason: bytes | None, now: float) -> None:
        log.info("RTCP BYE from %08x: %r", ssrc, reason)
        self._feed_scheduler()
        moved = self._scheduler.on_bye(ssrc, now)
        if moved is not None and self._rtcp_call is not None and self._rtcp_call.active():
            self._rtcp_call.cancel()
            self._schedule_rtcp(moved, now)
        for callback in list(self._bye_callbacks):
            callback(reason)

    # -- RTCP sending (RFC 3550 6.3) -------------------------------------------

    def _feed_scheduler(self) -> None:
        """Tell the RTCP scheduler what RTP was sent and heard since it last asked.

        It keeps only the latest time of each (RFC 3550 6.3.3, 6.3.8), so
        telling it before each of its decisions, rather than for every
        packet, gives it the very same tables.
        """
        heard = self._rtp_heard
        if heard:
            for ssrc, at in heard.items():
                self._scheduler.on_rtp_received(ssrc, at)
            heard.clear()
        if self._rtp_sent_at is not None:
            self._scheduler.on_rtp_sent(self._rtp_sent_at)
            self._rtp_sent_at = None

    def _schedule_rtcp(self, at: float, now: float) -> None:
        self._rtcp_call = self._reactor.callLater(max(at - now, 0.0), self._on_rtcp_timer)

    def _on_rtcp_timer(self) -> None:
        self._rtcp_call = None
        if self._closed:
            return
        now = self._reactor.seconds()
        self._feed_scheduler()
        outcome = self._scheduler.on_expire(now)
        if isinstance(outcome, SendReport):
            size = self._send_report(now)
            next_at = self._scheduler.report_sent(max(size, 1) + UDP_IPV4_OVERHEAD, now)
        else:
            next_at = outcome.at
        self._schedule_rtcp(next_at, now)

    def _send_report(self, now: float, *, bye: bool = False, reason: bytes | None = None) -> int:
        destination = self._rtcp_latch.destination
        port = self._rtp_port if self.rtcp_mux else self._rtcp_port
        if destination is None or port is None:
            return 0
        data = bytes(self._reporter.build_report(now, bye=bye, reason=reason))
        if self._write(port, data, destination, rtcp=True):
            self._counts["rtcp_sent"] += 1
        return len(data)

    # -- statistics and shutdown -----------------------------------------------

    def packets_heard(self) -> int:
        """Packets from the peer so far: RTP (counted or discarded by the
        statistics), RTCP and RFC 4733 digits, as :meth:`stats` counts them.
        Four counters, for a check that only wants to know whether the peer
        still sends (the RTP timeout), without a whole snapshot."""
        receiver, counts = self._receiver, self._counts
        return receiver.received + receiver.discarded + counts["rtcp_received"] + counts["dtmf"]

    def stats(self) -> RtpSessionStats:
        """A snapshot of everything measured so far (cheap; call at will)."""
        now = self._reactor.seconds()
        received = self._receiver.snapshot(now)
        rtt = self._reporter.rtt
        rtt_ms = None if rtt is None else rtt * 1000.0
        buffer = self.jitter_buffer
        buffer_delay = buffer.current_delay_ms if buffer is not None else 0.0
        quality = None
        if self._quality is not None and received.valid:
            quality = self._quality.estimate(received, rtt_ms, buffer_delay)
        return RtpSessionStats(
            local_rtp=self.local_rtp,
            local_rtcp=self.local_rtcp,
            signalled_remote=self._latch.signalled,
            remote=self._latch.destination,
            remote_rtcp=self._rtcp_latch.destination,
            latched=self._latch.latched,
            latch_count=self._latch.latch_count,
            remote_mismatch=self._latch.mismatch,
            local_ssrc=self.ssrc,
            remote_ssrc=self._latch.remote_ssrc,
            remote_cname=self._reporter.remote_cname,
            sending=self.sending,
            sent=self._sender.counters if self._sender is not None else None,
            received=received,
            rtt_ms=rtt_ms,
            remote_report=self._reporter.remote_report,
            jitter_buffer=buffer.stats if buffer is not None else None,
            jitter_buffer_delay_ms=buffer_delay,
            quality=quality,
            garbage=self._counts["garbage"],
            strangers=self._counts["strangers"],
            srtp_auth_failures=self._counts["srtp_auth"],
            srtp_replays=self._counts["srtp_replay"],
            rtcp_sent=self._counts["rtcp_sent"],
            rtcp_received=self._counts["rtcp_received"],
            dtmf_received=self._counts["dtmf"],
            send_errors=self._counts["send_errors"],
            srtp=self.srtp is not None,
        )

    def close(self, reason: bytes | None = None) -> Deferred[Any]:
        """Stop sending, send an RTCP BYE, unbind; the Deferred fires when done.

        RFC 3550 6.3.7: with fewer than 50 members a BYE may be sent at once.
        The BYE travels in a compound packet after an SR or RR (6.1).
        """
        if self._closed:
            return succeed(None)
        self.stop_sending()
        self._pacer.close()
        if self._rtcp_call is not None and self._rtcp_call.active():
            self._rtcp_call.cancel()
        self._rtcp_call = None
        if self._rtp_port is not None:
            self._send_report(self._reactor.seconds(), bye=True, reason=reason)
        self._closed = True
        ports = [port for port in (self._rtp_port, self._rtcp_port) if port is not None]
        self._rtp_port = self._rtcp_port = None
        return gatherResults([maybeDeferred(port.stopListening) for port in ports])


def _host_address(port: Any) -> Address | None:
    if port is None:
        return None
    host = port.getHost()
    return (host.host, host.port)

