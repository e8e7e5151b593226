"""The sending half of an RTP stream: pacing, numbering and DTMF (RFC 3550 5.1).

Pure sans-I/O code.  :class:`RtpSender` decides, each time the session's
ptime timer fires at ``now``, how many frames are due and turns them into
:class:`~tui_phone.rtp.packet.RtpPacket` objects; the session sends them.

Timestamps come from the sample count, never from a clock: frame ``k``
after the start carries ``first_timestamp + k * samples_per_frame`` (RFC
3550 5.1: "the sampling instant of the first octet").  The clock only says
how many frames are due: ``floor((now - start) / ptime) + 1``.

When the timer ran late (the reactor was busy, the machine suspended), the
frames missed are sent at once, oldest first (*catch-up*), up to
``max_catch_up`` extra frames per tick.  Beyond that the oldest due frames
are *skipped*: the source is still asked for them (so a file or a capture
queue stays in step with the media clock) and they are thrown away; the
timestamp advances over them but the sequence number does not, so the
receiver sees a timestamp jump without a sequence gap, i.e. a silence, not
a loss, and the first packet after the skip has the marker bit (RFC 3551
4.1, the start of a talkspurt).  A source that returns ``None`` (nothing to
send: silence suppression, paused) is treated the same way.

DTMF (RFC 4733): :meth:`RtpSender.send_dtmf` queues digits on a
:class:`~tui_phone.rtp.dtmf.DtmfSender` that shares this stream's SSRC,
sequence numbers and media clock (RFC 4733 2.1).  While it has event packets
to send, they go out instead of the audio frame of that tick (the audio is
paused; its frames are still taken from the source and dropped).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from .dtmf import DtmfSender
from .errors import RtpBuildError
from .packet import RTP_FIXED_HEADER, RTP_MAX_PAYLOAD_TYPE, RTP_PLAIN_FIRST_OCTET, RtpPacket

DEFAULT_MAX_CATCH_UP = 5  # frames sent late on one tick before skipping
SEQ_MODULUS = 1 << 16  # RFC 3550 5.1
TS_MODULUS = 1 << 32  # RFC 3550 5.1

# Frames due are counted with this slack (a fraction of ptime), so a timer
# firing a hair early because of float rounding still gets its frame.
_DUE_SLACK = 1e-3

FrameSource = Callable[[], "bytes | None"]

_PLAIN_HEADER = RTP_FIXED_HEADER
_MARKER_BIT = 0x80  # RFC 3550 5.1: M, the top bit of the second octet


class RtpSenderError(RtpBuildError):
    """Our own code configured or drove the sender wrongly."""


@dataclass(frozen=True, slots=True)
class SenderCounters:
    """What the sender did so far (for the statistics view)."""

    packets_sent: int
    payload_octets_sent: int
    frames_sent: int
    dtmf_packets_sent: int
    late_ticks: int
    frames_caught_up: int
    frames_skipped: int
    frames_empty: int


class _PySenderCore:
    """The every-ptime path of :class:`RtpSender`, in Python.

    The reference for the C core (``_csender.c``, its fields and this same
    method) and the fallback when that is not built.  Everything else is in
    :class:`_SenderMethods`, which works on either core.
    """

    _dtmf: DtmfSender | None
    start_time: float
    ptime: float
    _frames_done: int
    payload_type: int
    ssrc: int
    _audio_frame: Callable[[bytes | None], tuple[int, int, bool] | None]  # (_SenderMethods)
    _datagrams_general: Callable[[float, FrameSource], list[tuple[bytes, int, int]]]

    def datagrams(self, now: float, source: FrameSource) -> list[tuple[bytes, int, int]]:
        """:meth:`tick` as the bytes to send: (datagram, RTP timestamp, payload size) each.

        The common case (one audio frame due, no DTMF) builds the header
        straight from the numbers, with no :class:`RtpPacket` in between.
        """
        if self._dtmf is None and (
            math.floor((now - self.start_time) / self.ptime + _DUE_SLACK) + 1 - self._frames_done == 1
        ):
            payload = source()
            numbers = self._audio_frame(payload)
            if numbers is None:
                return []
            assert payload is not None
            sequence, timestamp, marker = numbers
            second = self.payload_type | _MARKER_BIT if marker else self.payload_type
            return [(_PLAIN_HEADER.pack(RTP_PLAIN_FIRST_OCTET, second, sequence, timestamp, self.ssrc) + payload,
                     timestamp, len(payload))]
        return self._datagrams_general(now, source)


try:  # the C core (setup.py; optional)
    from ._csender import SenderCore as _SenderCore
except ImportError:  # no compiler at install: the Python core
    _SenderCore = _PySenderCore


class _SenderMethods:
    """All of :class:`RtpSender` but its every-ptime path, which is on the core:
    the same methods over the C fields or the Python ones."""

    def __init__(
        self,
        *,
        ssrc: int,
        payload_type: int,
        clock_rate: int,
        samples_per_frame: int,
        start_time: float,
        first_sequence: int = 0,
        first_timestamp: int = 0,
        max_catch_up: int = DEFAULT_MAX_CATCH_UP,
        telephone_event_pt: int | None = None,
    ) -> None:
        if not 0 <= payload_type <= RTP_MAX_PAYLOAD_TYPE:
            raise RtpSenderError(f"payload type {payload_type} is out of range 0-127")
        if clock_rate <= 0 or samples_per_frame <= 0:
            raise RtpSenderError("clock rate and samples per frame must be positive")
        if max_catch_up < 0:
            raise RtpSenderError(f"max_catch_up must not be negative, got {max_catch_up}")
        if telephone_event_pt is not None and not 0 <= telephone_event_pt <= RTP_MAX_PAYLOAD_TYPE:
            raise RtpSenderError(f"telephone-event payload type {telephone_event_pt} is out of range 0-127")
        self.ssrc = ssrc
        self.payload_type = payload_type
        self.clock_rate = clock_rate
        self.samples_per_frame = samples_per_frame
        self.ptime = samples_per_frame / clock_rate
        self.start_time = start_time
        self.max_catch_up = max_catch_up
        self.telephone_event_pt = telephone_event_pt
        self._sequence = first_sequence % SEQ_MODULUS
        self._timestamp = first_timestamp % TS_MODULUS  # of the next frame
        self._frames_done = 0  # frames sent, skipped or empty so far
        #: When the next frame is due, on the clock of ``start_time``: computed
        #: from the start and the frame count, never by adding up intervals,
        #: so a timer set for it does not drift.
        self.next_due = start_time
        self._marker_next = True  # RFC 3551 4.1: the first packet starts a talkspurt
        self._dtmf: DtmfSender | None = None
        self._packets = 0
        self._octets = 0
        self._frames_sent = 0
        self._dtmf_packets = 0
        self._late_ticks = 0
        self._caught_up = 0
        self._skipped = 0
        self._empty = 0

    # -- read-only view ------------------------------------------------------

    @property
    def next_sequence(self) -> int:
        """The sequence number the next packet will carry."""
        return self._sequence

    @property
    def next_timestamp(self) -> int:
        """The RTP timestamp of the next frame."""
        return self._timestamp

    @property
    def frames_done(self) -> int:
        """Frames accounted for since the start (sent, skipped or empty)."""
        return self._frames_done

    @property
    def dtmf_busy(self) -> bool:
        """True while DTMF digits are queued or being sent."""
        return self._dtmf is not None and self._dtmf.busy

    @property
    def counters(self) -> SenderCounters:
        """A snapshot of the counters."""
        return SenderCounters(
            self._packets,
            self._octets,
            self._frames_sent,
            self._dtmf_packets,
            self._late_ticks,
            self._caught_up,
            self._skipped,
            self._empty,
        )

    def frames_due(self, now: float) -> int:
        """Frames whose time has come by ``now`` and are not done yet."""
        elapsed = (now - self.start_time) / self.ptime
        due_total = math.floor(elapsed + _DUE_SLACK) + 1
        return max(due_total - self._frames_done, 0)

    # -- DTMF (RFC 4733) -------------------------------------------------------

    def send_dtmf(self, digits: str, *, duration_ms: int = 100, volume: int = 10) -> None:
        """Queue DTMF ``digits``; they start on the next frame's timestamp.

        Raises :class:`RtpSenderError` without a telephone-event payload
        type, :class:`~tui_phone.rtp.dtmf.DtmfValueError` for a bad digit.
        """
        if self.telephone_event_pt is None:
            raise RtpSenderError("no telephone-event payload type was negotiated")
        if self._dtmf is None or not self._dtmf.busy:
            ptime_ms = self.samples_per_frame * 1000 / self.clock_rate
            if ptime_ms != int(ptime_ms):
                raise RtpSenderError(f"DTMF needs a whole-millisecond ptime, got {ptime_ms} ms")
            self._dtmf = DtmfSender(self.clock_rate, int(ptime_ms), duration_ms, volume)
        self._dtmf.start(digits, self._timestamp)

    def cancel_dtmf(self) -> None:
        """Drop queued digits; an event already started still ends properly."""
        if self._dtmf is not None:
            self._dtmf.cancel()

    # -- pacing ----------------------------------------------------------------

    def tick(self, now: float, source: FrameSource) -> list[RtpPacket]:
        """The packets to send at ``now``, taking frames from ``source``.

        Usually one frame is due; after a late timer, several (catch-up,
        bounded by ``max_catch_up``; the excess is skipped, see the module
        docstring); before the next frame is due, none.
        """
        due = math.floor((now - self.start_time) / self.ptime + _DUE_SLACK) + 1 - self._frames_done
        if due == 1:  # on time: the common case, kept short (it runs every ptime)
            return self._one_frame(source)
        if due <= 0:
            return []
        if due > 1:
            self._late_ticks += 1
        send = min(due, 1 + self.max_catch_up)
        skip = due - send
        for _ in range(skip):
            source()  # keep the source in step; the frame is too old to send
            if self._dtmf is not None and self._dtmf.busy:
                self._dtmf.tick()  # the event timeline advances with media time
            self._advance_frame()
            self._marker_next = True
        self._skipped += skip
        self._caught_up += send - 1
        packets: list[RtpPacket] = []
        for _ in range(send):
            packets.extend(self._one_frame(source))
        return packets

    def _datagrams_general(self, now: float, source: FrameSource) -> list[tuple[bytes, int, int]]:
        """:meth:`datagrams` in every case (the core's every-ptime path leaves the others here)."""
        return [(bytes(packet), packet.timestamp, len(packet.payload)) for packet in self.tick(now, source)]

    def _advance_frame(self) -> None:
        self._timestamp = (self._timestamp + self.samples_per_frame) % TS_MODULUS
        self._frames_done += 1
        self.next_due = self.start_time + self._frames_done * self.ptime

    def _one_frame(self, source: FrameSource) -> list[RtpPacket]:
        payload = source()
        dtmf = self._dtmf
        if dtmf is not None:
            if not dtmf.busy:
                self._dtmf = None  # done: the next digits get a fresh DtmfSender
            elif events := dtmf.tick():
                assert self.telephone_event_pt is not None
                packets = [
                    self._packet(self.telephone_event_pt, event.timestamp, event.payload, event.marker)
                    for event in events
                ]
                self._dtmf_packets += len(packets)
                self._advance_frame()
                return packets
        numbers = self._audio_frame(payload)
        if numbers is None:
            return []
        assert payload is not None
        sequence, timestamp, marker = numbers
        return [RtpPacket(self.payload_type, sequence, timestamp, self.ssrc, payload, marker)]

    def _audio_frame(self, payload: bytes | None) -> tuple[int, int, bool] | None:
        """Account for this tick's audio frame: its sequence number, timestamp and
        marker bit, or None when the source had nothing (an empty frame)."""
        # _advance_frame and _packet's numbering written out (every ptime).
        timestamp = self._timestamp
        self._timestamp = (timestamp + self.samples_per_frame) % TS_MODULUS
        self._frames_done += 1
        self.next_due = self.start_time + self._frames_done * self.ptime
        if payload is None:
            self._empty += 1
            self._marker_next = True
            return None
        sequence = self._sequence
        self._sequence = (sequence + 1) % SEQ_MODULUS
        self._packets += 1
        self._octets += len(payload)
        self._frames_sent += 1
        marker, self._marker_next = self._marker_next, False
        return sequence, timestamp, marker

    def _packet(self, payload_type: int, timestamp: int, payload: bytes, marker: bool) -> RtpPacket:
        packet = RtpPacket(payload_type, self._sequence, timestamp, self.ssrc, payload, marker)
        self._sequence = (self._sequence + 1) % SEQ_MODULUS
        self._packets += 1
        self._octets += len(payload)
        return packet


class RtpSender(_SenderMethods, _SenderCore):  # type: ignore[misc,valid-type]
    """Paces one outgoing RTP stream and numbers its packets.

    ``payload_type``, ``clock_rate`` and ``samples_per_frame`` come from the
    negotiated codec (PCMU: 0, 8000, 160 for 20 ms).  ``first_sequence`` and
    ``first_timestamp`` should be random (RFC 3550 5.1); the session draws
    them.  ``start_time`` is when frame 0 is due, in seconds on the clock
    later passed to :meth:`tick`.
    """


class PyRtpSender(_SenderMethods, _PySenderCore):
    """:class:`RtpSender` on the Python core, whatever is built: the tests' reference."""
