"""DTMF: RFC 4733 telephone-events over RTP, and SIP INFO DTMF bodies.

Pure sans-I/O code.  :class:`TelephoneEvent` is the 4-byte payload (RFC 4733
2.3).  :class:`DtmfSender` turns queued digits into the payloads to send on
each ptime tick; the RTP session wraps them in packets (payload type from the
SDP ``telephone-event`` rtpmap, its own SSRC and sequence numbers).
:class:`DtmfReceiver` turns received payloads into exactly one
:class:`DtmfDigit` per key press.  :class:`DtmfRelay` and
:func:`parse_info_body` handle the ``application/dtmf-relay`` and
``application/dtmf`` bodies of SIP INFO requests.
"""

from __future__ import annotations

import struct
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Literal

from .errors import RtpBuildError, RtpParseError

# RFC 4733 3.2, Table 7: DTMF named events; the index is the event code.
DTMF_DIGITS = "0123456789*#ABCD"
EVENT_FLASH = 16  # RFC 4733 3.2: "Flash" (hook flash)
FLASH_DIGIT = "!"  # how the flash is written in digit strings and dtmf-relay
MAX_EVENT = 255  # RFC 4733 2.3.1: 8-bit event field
MAX_VOLUME = 63  # RFC 4733 2.3.4: 6-bit volume, in -dBm0
MAX_DURATION = 0xFFFF  # RFC 4733 2.3.5: 16-bit duration, in timestamp units
END_PACKET_COPIES = 3  # RFC 4733 2.5.1.4: the final packet is sent three times

DTMF_RELAY_CONTENT_TYPE = "application/dtmf-relay"
DTMF_CONTENT_TYPE = "application/dtmf"

_PAYLOAD = struct.Struct("!BBH")  # event, E/R/volume, duration
_END_BIT = 0x80
_RESERVED_BIT = 0x40
_VOLUME_MASK = 0x3F
_TS_MODULUS = 1 << 32


class DtmfParseError(RtpParseError):
    """A telephone-event payload or SIP INFO DTMF body the peer got wrong.

    ``status`` is the SIP response a UAS should send for a bad INFO body
    (400, or 415 for a content type we do not understand).
    """

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.status = status


class DtmfValueError(RtpBuildError):
    """Our own code asked for a digit or field value DTMF cannot carry."""


def digit_to_event(digit: str) -> int:
    """Map ``'0'``-``'9'``, ``'*'``, ``'#'``, ``'A'``-``'D'``, ``'!'`` to an event code."""
    if len(digit) == 1:
        if digit == FLASH_DIGIT:
            return EVENT_FLASH
        index = DTMF_DIGITS.find(digit.upper())
        if index >= 0:
            return index
    raise DtmfValueError(f"{digit!r} is not a DTMF digit")


def event_to_digit(event: int) -> str | None:
    """The digit of a DTMF event code (0-16), or ``None`` for other events."""
    if 0 <= event < len(DTMF_DIGITS):
        return DTMF_DIGITS[event]
    return FLASH_DIGIT if event == EVENT_FLASH else None


@dataclass(frozen=True, slots=True)
class TelephoneEvent:
    """One RFC 4733 2.3 event payload: event, E bit, R bit, volume, duration.

    ``duration`` is in RTP timestamp units since the event (segment) began;
    ``volume`` is the power level in -dBm0 (0 loudest, 63 quietest).
    """

    event: int
    end: bool = False
    volume: int = 10
    duration: int = 0
    reserved: bool = False  # RFC 4733 2.3.3: sent as 0, ignored on receipt

    def __post_init__(self) -> None:
        if not 0 <= self.event <= MAX_EVENT:
            raise DtmfValueError(f"event {self.event} is outside 0-{MAX_EVENT}")
        if not 0 <= self.volume <= MAX_VOLUME:
            raise DtmfValueError(f"volume {self.volume} is outside 0-{MAX_VOLUME}")
        if not 0 <= self.duration <= MAX_DURATION:
            raise DtmfValueError(f"duration {self.duration} is outside 0-{MAX_DURATION}")

    @classmethod
    def parse(cls, data: bytes) -> TelephoneEvent:
        """Parse exactly one 4-byte event payload."""
        if len(data) < _PAYLOAD.size:
            raise DtmfParseError(f"telephone-event payload too short: {len(data)} bytes, need 4")
        if len(data) > _PAYLOAD.size:
            raise DtmfParseError(
                f"telephone-event payload has {len(data) - _PAYLOAD.size} bytes after the event"
            )
        event, flags, duration = _PAYLOAD.unpack(data)
        return cls(event, bool(flags & _END_BIT), flags & _VOLUME_MASK, duration, bool(flags & _RESERVED_BIT))

    def __bytes__(self) -> bytes:
        flags = (_END_BIT if self.end else 0) | (_RESERVED_BIT if self.reserved else 0) | self.volume
        return _PAYLOAD.pack(self.event, flags, self.duration)


def parse_events(data: bytes) -> tuple[TelephoneEvent, ...]:
    """Parse a payload carrying one or more events (RFC 4733 2.5.1.5)."""
    if len(data) < _PAYLOAD.size:
        raise DtmfParseError(f"telephone-event payload too short: {len(data)} bytes, need 4")
    if len(data) % _PAYLOAD.size:
        raise DtmfParseError(f"telephone-event payload length {len(data)} is not a multiple of 4")
    return tuple(TelephoneEvent.parse(data[i:i + 4]) for i in range(0, len(data), _PAYLOAD.size))


# -- sending ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DtmfPacket:
    """What the RTP session sends for a telephone-event on one tick."""

    marker: bool
    timestamp: int
    payload: bytes

    @property
    def event(self) -> TelephoneEvent:
        """The payload, parsed."""
        return TelephoneEvent.parse(self.payload)


class DtmfSender:
    """Schedules RFC 4733 packets for a queue of digits, one tick per ptime.

    Call :meth:`start` with digits, then :meth:`tick` once per ptime; on a tick
    that returns packets, send them instead of audio.  Tick ``n`` after the
    first digit started stands for media time ``start_timestamp + n * frame``.

    Each event keeps the RTP timestamp of its start (RFC 4733 2.5.1.2); its
    first packet has the marker bit; packet ``i`` reports the duration up to
    the end of frame ``i``; the packet reaching the full duration has the E bit
    and is sent three times, on consecutive ticks (RFC 4733 2.5.1.4), the copies
    without the marker bit even when the event fits in one packet.  The next
    digit starts ``gap_ms`` after the tone ended (at least two ticks, so the
    retransmissions are over).  Events longer than 0xFFFF timestamp units are
    split in segments (RFC 4733 2.5.1.3): a segment ends with a packet of
    duration 0xFFFF, E bit clear, itself sent three times; the next segment
    starts 0xFFFF later and its packets have no marker bit.
    """

    def __init__(
        self,
        clock_rate: int = 8000,
        ptime_ms: int = 20,
        duration_ms: int = 100,
        volume: int = 10,
        gap_ms: int = 60,
    ) -> None:
        self._frame = clock_rate * ptime_ms // 1000
        if self._frame <= 0:
            raise DtmfValueError("clock_rate * ptime_ms must be at least one sample")
        if duration_ms <= 0:
            raise DtmfValueError(f"duration_ms {duration_ms} must be positive")
        if not 0 <= volume <= MAX_VOLUME:
            raise DtmfValueError(f"volume {volume} is outside 0-{MAX_VOLUME}")
        if gap_ms < 0:
            raise DtmfValueError(f"gap_ms {gap_ms} must not be negative")
        self._samples = max(duration_ms * clock_rate // 1000, 1)
        self._volume = volume
        gap_ticks = -(-(gap_ms * clock_rate) // (1000 * self._frame))  # ceil
        self._gap_ticks = max(gap_ticks, END_PACKET_COPIES - 1)
        self._queue: deque[int] = deque()  # event codes
        self._schedule: deque[list[DtmfPacket]] = deque()
        self._timestamp = 0  # media timestamp of the next tick

    @property
    def busy(self) -> bool:
        """True while digits are queued or an event (or its trailing gap) is on."""
        return bool(self._queue or self._schedule)

    @property
    def pending(self) -> str:
        """Digits queued and not started yet."""
        return "".join(event_to_digit(event) or "" for event in self._queue)

    def start(self, digits: str, start_timestamp: int) -> None:
        """Queue ``digits`` (e.g. ``'123#'``); when idle they start at ``start_timestamp``.

        When the sender is busy the digits follow the queued ones on the
        sender's own timeline and ``start_timestamp`` is not used.
        """
        events = [digit_to_event(digit) for digit in digits]  # validate all first
        if not self.busy:
            self._timestamp = start_timestamp % _TS_MODULUS
        self._queue.extend(events)

    def cancel(self) -> None:
        """Drop the queued digits; an event already started still ends properly."""
        self._queue.clear()

    def tick(self) -> list[DtmfPacket]:
        """The packets to send for this ptime (often one, none in gaps)."""
        if not self._schedule and self._queue:
            self._schedule.extend(self._plan(self._queue.popleft(), self._timestamp))
        self._timestamp = (self._timestamp + self._frame) % _TS_MODULUS
        return self._schedule.popleft() if self._schedule else []

    def _plan(self, event: int, timestamp: int) -> list[list[DtmfPacket]]:
        """Every tick of one event, from its first packet to the end of its gap."""
        total, frame = self._samples, self._frame
        ticks: list[list[DtmfPacket]] = []
        retransmit: list[tuple[int, DtmfPacket]] = []  # (tick index, packet)
        segment_start, segment_ts, marker = 0, timestamp, True
        index = 0
        while True:
            elapsed = min((index + 1) * frame, total)
            packets: list[DtmfPacket] = []
            if elapsed - segment_start > MAX_DURATION:  # RFC 4733 2.5.1.3
                final = self._packet(marker, segment_ts, event, False, MAX_DURATION)
                packets.append(final)
                retransmit += [(index + n, replace(final, marker=False)) for n in range(1, END_PACKET_COPIES)]
                segment_start += MAX_DURATION
                segment_ts = (segment_ts + MAX_DURATION) % _TS_MODULUS
                marker = False
            packets += [p for at, p in retransmit if at == index]
            ended = elapsed == total
            update = self._packet(marker, segment_ts, event, ended, elapsed - segment_start)
            packets.append(update)
            marker = False
            ticks.append(packets)
            if ended:
                break
            index += 1
        update = replace(update, marker=False)  # a copy is not the event's first packet
        for n in range(1, END_PACKET_COPIES):  # RFC 4733 2.5.1.4
            ticks.append([p for at, p in retransmit if at == index + n] + [update])
        ticks += [[] for _ in range(self._gap_ticks - (END_PACKET_COPIES - 1))]
        return ticks

    def _packet(self, marker: bool, timestamp: int, event: int, end: bool, duration: int) -> DtmfPacket:
        payload = bytes(TelephoneEvent(event, end, self._volume, duration))
        return DtmfPacket(marker, timestamp, payload)


# -- receiving -------------------------------------------------------------

EndedBy = Literal["end", "timeout", "next-event"]


@dataclass(frozen=True, slots=True)
class DtmfDigit:
    """One key press received, reported once.

    ``ended_by`` tells how its end was known: an E-bit packet (``"end"``), no
    packet for ``timeout_s`` (``"timeout"``) or the start of another event
    (``"next-event"``); with the last two, every end packet was lost and
    ``duration_ms`` is the last duration seen.
    """

    digit: str
    event: int
    duration_ms: int
    volume: int
    timestamp: int
    ended_by: EndedBy


@dataclass(slots=True)
class _Event:
    timestamp: int  # RTP timestamp of the first segment
    event: int
    volume: int
    last_seen: float
    segment_ts: int = 0
    earlier_segments: int = 0  # timestamp units in the completed segments
    duration: int = 0  # the largest duration seen in the current segment
    segments: list[int] = field(default_factory=list)


def _is_older(a: int, b: int, window: int) -> bool:
    """True when timestamp ``a`` is before ``b`` by at most ``window`` units.

    A serial-number comparison (RFC 1982) limited to a window, so that a
    sender restarting its timestamps far away is not taken for stragglers.
    """
    return 0 < (b - a) % _TS_MODULUS <= window


class DtmfReceiver:
    """Turns received telephone-event payloads into one :class:`DtmfDigit` each.

    An event is identified by its RTP timestamp and code (RFC 4733 2.5.1.2:
    all packets of an event carry the timestamp of its start): a new pair
    starts a new event, so a lost first (marker) packet does not matter, and
    retransmitted end packets of a reported event are ignored.  Packets up to
    ``straggler_s`` older than the newest event are stragglers and ignored.
    Call :meth:`tick` regularly so that an event whose end packets were all
    lost is reported ``timeout_s`` after its last packet.  Only DTMF events
    (0-16) are reported; other events are ignored.
    """

    def __init__(
        self, clock_rate: int = 8000, timeout_s: float = 1.0, straggler_s: float = 10.0, history: int = 32
    ) -> None:
        self._clock_rate = clock_rate
        self._timeout = timeout_s
        self._window = int(straggler_s * clock_rate)
        self._history = history
        self.reset()

    def reset(self) -> None:
        """Forget every event, e.g. when the sender's SSRC changes."""
        self._current: _Event | None = None
        # (timestamp, event) pairs already reported, so late copies are ignored.
        self._finished: deque[tuple[int, int]] = deque(maxlen=self._history)
        self._newest_finished: int | None = None

    def feed(self, seq: int, timestamp: int, marker: bool, payload: bytes, now: float) -> list[DtmfDigit]:
        """Take one telephone-event packet; return the digits it completes.

        ``seq`` and ``marker`` are accepted for the session's convenience but
        not needed: the timestamp identifies events even when the marker
        packet is lost, and durations only grow, so reordering is harmless.
        Raises :class:`DtmfParseError` for a malformed payload.
        """
        # RFC 4733 2.5.1.5 lets one packet carry several events.  We read the
        # last block only, taking it to be the newest event (rare in practice;
        # the blocks before it are reports on events already seen).
        report = parse_events(payload)[-1]
        timestamp %= _TS_MODULUS
        if event_to_digit(report.event) is None or (timestamp, report.event) in self._finished:
            return []
        digits: list[DtmfDigit] = []
        current = self._current
        if current is not None and timestamp != current.segment_ts:
            if report.event == current.event and timestamp == (current.segment_ts + MAX_DURATION) % _TS_MODULUS:
                # RFC 4733 2.5.1.3: the next segment of a long event.
                current.earlier_segments += MAX_DURATION
                current.segment_ts = timestamp
                current.segments.append(timestamp)
                current.duration = 0
            elif timestamp in current.segments or _is_older(timestamp, current.segment_ts, self._window):
                return []  # a straggler from an earlier segment or event
            else:
                digits.append(self._finish("next-event"))
                current = None
        elif current is not None and report.event != current.event:
            digits.append(self._finish("next-event"))
            current = None
        if current is None:
            if self._newest_finished is not None and _is_older(timestamp, self._newest_finished, self._window):
                return digits  # older than an event already reported
            current = self._current = _Event(timestamp, report.event, report.volume, now, timestamp)
            current.segments.append(timestamp)
        current.duration = max(current.duration, report.duration)
        current.volume = report.volume
        current.last_seen = now
        if report.end:
            digits.append(self._finish("end"))
        return digits

    def tick(self, now: float) -> list[DtmfDigit]:
        """Report an event whose packets stopped ``timeout_s`` ago."""
        current = self._current
        if current is not None and now - current.last_seen >= self._timeout:
            return [self._finish("timeout")]
        return []

    def _finish(self, ended_by: EndedBy) -> DtmfDigit:
        current = self._current
        assert current is not None
        self._current = None
        self._finished.extend((ts, current.event) for ts in current.segments)
        self._newest_finished = current.segment_ts
        samples = current.earlier_segments + current.duration
        digit = event_to_digit(current.event)
        assert digit is not None
        return DtmfDigit(
            digit, current.event, samples * 1000 // self._clock_rate, current.volume, current.timestamp, ended_by
        )


# -- SIP INFO bodies -------------------------------------------------------


def _signal_to_digit(value: str, where: str) -> str:
    """Normalize a Signal value: a digit character or an event number 0-16."""
    text = value.strip()
    if text.isdigit() and len(text) <= 2 and int(text) <= EVENT_FLASH:
        digit = event_to_digit(int(text))
        assert digit is not None
        return digit
    if len(text) == 1 and (text == FLASH_DIGIT or text.upper() in DTMF_DIGITS):
        return text.upper()
    raise DtmfParseError(f"{where} {value!r} is not a DTMF digit")


@dataclass(frozen=True, slots=True)
class DtmfRelay:
    """An ``application/dtmf-relay`` SIP INFO body: ``Signal=5\\r\\nDuration=160\\r\\n``.

    ``signal`` is a digit as in :data:`DTMF_DIGITS` or ``'!'`` (flash); the
    numeric forms ``10``-``16`` are accepted on parsing.  ``duration_ms`` is
    ``None`` when the body has no Duration line.
    """

    signal: str
    duration_ms: int | None = None

    def __post_init__(self) -> None:
        digit_to_event(self.signal)
        if self.duration_ms is not None and self.duration_ms < 0:
            raise DtmfValueError(f"duration_ms {self.duration_ms} must not be negative")

    @classmethod
    def parse(cls, data: bytes) -> DtmfRelay:
        """Parse the body; unknown keys are ignored, keys are case-insensitive."""
        try:
            text = data.decode("ascii")
        except UnicodeDecodeError:
            raise DtmfParseError("dtmf-relay body is not ASCII") from None
        values: dict[str, str] = {}
        for line in text.splitlines():
            if not line.strip():
                continue
            key, sep, value = line.partition("=")
            if not sep:
                raise DtmfParseError(f"dtmf-relay line {line!r} has no '='")
            key = key.strip().lower()
            if key in values:
                raise DtmfParseError(f"dtmf-relay body repeats {key.capitalize()}")
            values[key] = value.strip()
        if "signal" not in values:
            raise DtmfParseError("dtmf-relay body has no Signal")
        signal = _signal_to_digit(values["signal"], "dtmf-relay Signal")
        duration: int | None = None
        if "duration" in values:
            if not values["duration"].isdigit():
                raise DtmfParseError(f"dtmf-relay Duration {values['duration']!r} is not a number of milliseconds")
            duration = int(values["duration"])
        return cls(signal, duration)

    def __bytes__(self) -> bytes:
        body = f"Signal={self.signal}\r\n"
        if self.duration_ms is not None:
            body += f"Duration={self.duration_ms}\r\n"
        return body.encode("ascii")


def parse_info_body(content_type: str, body: bytes) -> DtmfRelay:
    """Parse the DTMF body of a SIP INFO by its Content-Type.

    ``application/dtmf-relay`` as :meth:`DtmfRelay.parse`; ``application/dtmf``
    is a single digit (or event number), without a duration.  Any other
    type raises :class:`DtmfParseError` with status 415.
    """
    media_type = content_type.partition(";")[0].strip().lower()
    if media_type == DTMF_RELAY_CONTENT_TYPE:
        return DtmfRelay.parse(body)
    if media_type == DTMF_CONTENT_TYPE:
        try:
            text = body.decode("ascii")
        except UnicodeDecodeError:
            raise DtmfParseError("application/dtmf body is not ASCII") from None
        return DtmfRelay(_signal_to_digit(text, "application/dtmf body"))
    raise DtmfParseError(f"unsupported DTMF content type {content_type!r}", status=415)


def build_info_body(digit: str, duration_ms: int | None = None,
                    content_type: str = DTMF_RELAY_CONTENT_TYPE) -> bytes:
    """Build a SIP INFO DTMF body for ``digit`` in the given content type."""
    relay = DtmfRelay(digit.upper(), duration_ms)
    if content_type == DTMF_RELAY_CONTENT_TYPE:
        return bytes(relay)
    if content_type == DTMF_CONTENT_TYPE:
        return relay.signal.encode("ascii")
    raise DtmfValueError(f"unsupported DTMF content type {content_type!r}")
