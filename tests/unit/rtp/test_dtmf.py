"""Tests of tui_phone.rtp.dtmf: RFC 4733 telephone-events and SIP INFO DTMF."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from tui_phone.rtp.dtmf import (
    DTMF_CONTENT_TYPE,
    DTMF_RELAY_CONTENT_TYPE,
    DtmfDigit,
    DtmfParseError,
    DtmfReceiver,
    DtmfRelay,
    DtmfSender,
    DtmfValueError,
    TelephoneEvent,
    build_info_body,
    digit_to_event,
    event_to_digit,
    parse_events,
    parse_info_body,
)
from tui_phone.rtp.errors import RtpBuildError, RtpParseError


def payload(event: int, end: bool, volume: int, duration: int, reserved: bool = False) -> bytes:
    """RFC 4733 2.3, Figure 1: event (8), E (1), R (1), volume (6), duration (16)."""
    return struct.pack("!BBH", event, (end << 7) | (reserved << 6) | volume, duration)


# -- digit mapping (RFC 4733 3.2, Table 7) -----------------------------------


@pytest.mark.parametrize(
    ("digit", "event"),
    [*((str(n), n) for n in range(10)), ("*", 10), ("#", 11), ("A", 12), ("B", 13), ("C", 14), ("D", 15), ("!", 16)],
)
def test_digit_event_mapping(digit: str, event: int) -> None:
    assert digit_to_event(digit) == event
    assert event_to_digit(event) == digit


def test_lowercase_letters_map_too() -> None:
    assert digit_to_event("d") == 15


@pytest.mark.parametrize("bad", ["E", "", "12", " ", "+"])
def test_unknown_digit_is_our_error(bad: str) -> None:
    with pytest.raises(DtmfValueError) as info:
        digit_to_event(bad)
    assert str(info.value) == f"{bad!r} is not a DTMF digit"
    assert isinstance(info.value, RtpBuildError)


def test_non_dtmf_event_has_no_digit() -> None:
    assert event_to_digit(17) is None
    assert event_to_digit(32) is None


# -- TelephoneEvent wire object ----------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (payload(1, False, 10, 0), TelephoneEvent(1, False, 10, 0)),
        (payload(5, True, 10, 800), TelephoneEvent(5, True, 10, 800)),
        (payload(11, False, 63, 0xFFFF), TelephoneEvent(11, False, 63, 0xFFFF)),
        (payload(255, True, 0, 1), TelephoneEvent(255, True, 0, 1)),
        (payload(9, False, 7, 160, reserved=True), TelephoneEvent(9, False, 7, 160, reserved=True)),
    ],
)
def test_telephone_event_parse_and_round_trip(data: bytes, expected: TelephoneEvent) -> None:
    assert TelephoneEvent.parse(data) == expected
    assert bytes(expected) == data


def test_telephone_event_bytes_match_figure_layout() -> None:
    # Digit '#', end of event, volume 20 (-20 dBm0), 1600 units (200 ms at 8 kHz).
    assert bytes(TelephoneEvent(11, True, 20, 1600)) == bytes([0x0B, 0x94, 0x06, 0x40])


@pytest.mark.parametrize("size", [0, 1, 2, 3])
def test_short_payload_is_the_peers_error(size: int) -> None:
    with pytest.raises(DtmfParseError) as info:
        TelephoneEvent.parse(payload(1, False, 10, 0)[:size])
    assert str(info.value) == f"telephone-event payload too short: {size} bytes, need 4"
    assert isinstance(info.value, RtpParseError)


def test_trailing_bytes_are_rejected_by_parse() -> None:
    with pytest.raises(DtmfParseError, match=r"^telephone-event payload has 2 bytes after the event$"):
        TelephoneEvent.parse(payload(1, False, 10, 0) + b"\0\0")


def test_parse_events_reads_several_events() -> None:
    data = payload(1, True, 10, 800) + payload(2, False, 10, 160)
    assert parse_events(data) == (TelephoneEvent(1, True, 10, 800), TelephoneEvent(2, False, 10, 160))


def test_parse_events_rejects_partial_event() -> None:
    with pytest.raises(DtmfParseError, match=r"^telephone-event payload length 6 is not a multiple of 4$"):
        parse_events(payload(1, True, 10, 800) + b"\0\0")
    with pytest.raises(DtmfParseError, match=r"^telephone-event payload too short: 0 bytes, need 4$"):
        parse_events(b"")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"event": 256}, "event 256 is outside 0-255"),
        ({"event": -1}, "event -1 is outside 0-255"),
        ({"event": 1, "volume": 64}, "volume 64 is outside 0-63"),
        ({"event": 1, "duration": 0x10000}, "duration 65536 is outside 0-65535"),
    ],
)
def test_telephone_event_values_are_checked(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(DtmfValueError) as info:
        TelephoneEvent(**kwargs)  # type: ignore[arg-type]
    assert str(info.value) == message


# -- sender ------------------------------------------------------------------


def run_sender(sender: DtmfSender, limit: int = 10_000) -> list[list[tuple[int, int, bool, bool, int]]]:
    """Tick until idle; each tick as a list of (timestamp, duration, marker, end, event)."""
    ticks: list[list[tuple[int, int, bool, bool, int]]] = []
    while sender.busy and len(ticks) < limit:
        ticks.append([
            (p.timestamp, p.event.duration, p.marker, p.event.end, p.event.event) for p in sender.tick()
        ])
    return ticks


def test_sender_schedule_for_two_digits() -> None:
    sender = DtmfSender(clock_rate=8000, ptime_ms=20, duration_ms=100, volume=10, gap_ms=60)
    sender.start("12", start_timestamp=1000)
    one = [(1000, 160, True, False, 1), (1000, 320, False, False, 1), (1000, 480, False, False, 1),
           (1000, 640, False, False, 1), (1000, 800, False, True, 1)]
    # Digit 2 starts 60 ms (3 frames) after the tone of digit 1 ended.
    two_ts = 1000 + 800 + 480
    two = [(two_ts, 160, True, False, 2), (two_ts, 320, False, False, 2), (two_ts, 480, False, False, 2),
           (two_ts, 640, False, False, 2), (two_ts, 800, False, True, 2)]
    expected = (
        [[p] for p in one] + [[one[-1]], [one[-1]]] + [[]]
        + [[p] for p in two] + [[two[-1]], [two[-1]]] + [[]]
    )
    assert run_sender(sender) == expected
    assert not sender.busy
    assert sender.tick() == []


def test_sender_payload_bytes() -> None:
    sender = DtmfSender(duration_ms=40, volume=20)
    sender.start("#", 0)
    packets = [p for _ in range(4) for p in sender.tick()]
    assert [p.payload for p in packets] == [
        payload(11, False, 20, 160), payload(11, True, 20, 320),
        payload(11, True, 20, 320), payload(11, True, 20, 320),
    ]


def test_end_packet_is_sent_three_times_with_the_same_duration() -> None:
    sender = DtmfSender(duration_ms=250)
    sender.start("5", 0)
    ends = [p for tick in run_sender(sender) for p in tick if p[3]]
    assert ends == [(0, 2000, False, True, 5)] * 3


def test_duration_not_a_multiple_of_the_frame() -> None:
    sender = DtmfSender(duration_ms=50)  # 400 samples: 160, 320, 400
    sender.start("0", 7)
    durations = [p[1] for tick in run_sender(sender) for p in tick]
    assert durations == [160, 320, 400, 400, 400]


def test_timestamps_wrap_at_32_bits() -> None:
    sender = DtmfSender(duration_ms=40, gap_ms=40)
    sender.start("12", 0xFFFFFF00)
    ticks = run_sender(sender)
    starts = [p[0] for tick in ticks for p in tick if p[2]]
    assert starts == [0xFFFFFF00, (0xFFFFFF00 + 4 * 160) % (1 << 32)]


def test_queue_while_busy_follows_the_timeline() -> None:
    sender = DtmfSender(duration_ms=40, gap_ms=40)
    sender.start("1", 500)
    first = sender.tick()
    sender.start("9", 123456)  # busy: the timestamp is not used
    assert sender.pending == "9"
    rest = run_sender(sender)
    markers = [first[0].timestamp] + [p[0] for tick in rest for p in tick if p[2]]
    assert markers == [500, 500 + 4 * 160]


def test_queue_of_digits_and_cancel() -> None:
    sender = DtmfSender()
    sender.start("123#", 0)
    sender.tick()
    assert sender.pending == "23#"
    sender.cancel()
    assert sender.pending == ""
    ticks = run_sender(sender)
    assert {p[4] for tick in ticks for p in tick} == {1}
    assert ticks[-4][0][3]  # digit 1 still ended properly


def test_invalid_digit_rejects_the_whole_string() -> None:
    sender = DtmfSender()
    with pytest.raises(DtmfValueError, match=r"^'x' is not a DTMF digit$"):
        sender.start("12x", 0)
    assert not sender.busy


def test_flash_and_letters() -> None:
    sender = DtmfSender(duration_ms=20, gap_ms=40)
    sender.start("a!", 0)
    events = [p[4] for tick in run_sender(sender) for p in tick if p[2]]
    assert events == [12, 16]


def test_long_event_is_split_in_segments() -> None:
    # 9 s at 8 kHz = 72000 units > 0xFFFF (RFC 4733 2.5.1.3).
    sender = DtmfSender(duration_ms=9000)
    sender.start("7", 1000)
    ticks = run_sender(sender)
    # 65535 // 160 = 409: tick 409 (elapsed 65600) is the first past the limit.
    assert ticks[408] == [(1000, 65440, False, False, 7)]
    seg2 = 1000 + 0xFFFF
    assert ticks[409] == [(1000, 0xFFFF, False, False, 7), (seg2, 65, False, False, 7)]
    assert ticks[410] == [(1000, 0xFFFF, False, False, 7), (seg2, 225, False, False, 7)]
    assert ticks[411] == [(1000, 0xFFFF, False, False, 7), (seg2, 385, False, False, 7)]
    assert ticks[412] == [(seg2, 545, False, False, 7)]
    final = (seg2, 72000 - 0xFFFF, False, True, 7)
    assert ticks[449] == [final] and ticks[450] == [final] and ticks[451] == [final]
    assert len(ticks) == 453  # + one silent gap tick
    assert sum(p[2] for tick in ticks for p in tick) == 1  # one marker for the whole event


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"duration_ms": 0}, "duration_ms 0 must be positive"),
        ({"volume": 64}, "volume 64 is outside 0-63"),
        ({"gap_ms": -1}, "gap_ms -1 must not be negative"),
        ({"ptime_ms": 0}, "clock_rate * ptime_ms must be at least one sample"),
    ],
)
def test_sender_settings_are_checked(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(DtmfValueError) as info:
        DtmfSender(**kwargs)  # type: ignore[arg-type]
    assert str(info.value) == message


# -- receiver ----------------------------------------------------------------


def event_packets(event: int, ts: int, durations: list[int], ends: int = 3, seq: int = 100) -> list[tuple]:
    """(seq, timestamp, marker, payload) for one event: updates, then `ends` end packets."""
    updates = durations[:-1] if ends else durations
    packets = [(seq + i, ts, i == 0, payload(event, False, 10, d)) for i, d in enumerate(updates)]
    base = seq + len(packets)
    packets += [(base + i, ts, False, payload(event, True, 10, durations[-1])) for i in range(ends)]
    return packets


def feed_all(receiver: DtmfReceiver, packets: list[tuple], start: float = 0.0) -> list[DtmfDigit]:
    out: list[DtmfDigit] = []
    for i, (seq, ts, marker, data) in enumerate(packets):
        out += receiver.feed(seq, ts, marker, data, start + i * 0.02)
    return out


def test_one_digit_despite_three_end_packets() -> None:
    receiver = DtmfReceiver()
    digits = feed_all(receiver, event_packets(5, 8000, [160, 320, 480, 640, 800]))
    assert digits == [DtmfDigit("5", 5, 100, 10, 8000, "end")]
    assert receiver.tick(100.0) == []


def test_first_packets_including_marker_lost() -> None:
    receiver = DtmfReceiver()
    packets = event_packets(9, 4000, [160, 320, 480, 640, 800])[2:]
    assert not any(p[2] for p in packets)
    assert feed_all(receiver, packets) == [DtmfDigit("9", 9, 100, 10, 4000, "end")]


def test_all_end_packets_lost_reported_on_timeout_once() -> None:
    receiver = DtmfReceiver(timeout_s=1.0)
    packets = event_packets(3, 0, [160, 320, 480, 640, 800])
    updates, ends = packets[:4], packets[4:]
    assert feed_all(receiver, updates) == []  # last packet at t = 0.06
    assert receiver.tick(1.05) == []
    assert receiver.tick(1.07) == [DtmfDigit("3", 3, 80, 10, 0, "timeout")]
    assert receiver.tick(5.0) == []
    # The end packets limp in after the timeout report: no second report.
    assert feed_all(receiver, ends, start=1.2) == []


def test_all_end_packets_lost_reported_when_next_event_starts() -> None:
    receiver = DtmfReceiver()
    first = event_packets(1, 0, [160, 320, 480], ends=0)
    assert feed_all(receiver, first) == []
    second = event_packets(2, 1280, [160, 320, 480], seq=110)
    digits = feed_all(receiver, second, start=0.2)
    assert digits == [DtmfDigit("1", 1, 60, 10, 0, "next-event"), DtmfDigit("2", 2, 60, 10, 1280, "end")]


def test_same_digit_twice_in_a_row_is_two_events() -> None:
    receiver = DtmfReceiver()
    packets = event_packets(4, 0, [160, 320]) + event_packets(4, 1600, [160, 320], seq=200)
    assert [d.digit for d in feed_all(receiver, packets)] == ["4", "4"]


def test_reordered_packets_keep_the_largest_duration() -> None:
    receiver = DtmfReceiver()
    packets = event_packets(6, 0, [160, 320, 480, 640])
    reordered = [packets[0], packets[3], packets[1], packets[2], packets[4], packets[5]]
    assert feed_all(receiver, reordered) == [DtmfDigit("6", 6, 80, 10, 0, "end")]


def test_straggler_of_an_earlier_event_is_ignored() -> None:
    receiver = DtmfReceiver()
    first = event_packets(1, 0, [160, 320])
    second = event_packets(2, 1280, [160, 320], seq=110)
    never_seen = event_packets(3, 640, [160, 320], seq=105)  # between the two, arriving last
    out = feed_all(receiver, first[:1] + second + first[1:] + never_seen)
    assert [(d.digit, d.ended_by) for d in out] == [("1", "next-event"), ("2", "end")]


def test_timestamp_restart_far_away_is_a_new_event() -> None:
    receiver = DtmfReceiver()
    feed_all(receiver, event_packets(1, 3_000_000, [160, 320]))
    out = feed_all(receiver, event_packets(2, 1000, [160, 320], seq=5000), start=1.0)
    assert [d.digit for d in out] == ["2"]


def test_timestamp_wrap() -> None:
    receiver = DtmfReceiver()
    a = event_packets(1, 0xFFFFFE00, [160, 320])
    b = event_packets(2, 0x100, [160, 320], seq=110)
    assert [d.digit for d in feed_all(receiver, a + b)] == ["1", "2"]


def test_non_dtmf_events_are_ignored() -> None:
    receiver = DtmfReceiver()
    assert feed_all(receiver, event_packets(32, 0, [160, 320])) == []
    assert receiver.tick(10.0) == []


def test_packet_with_several_events_uses_the_last_block() -> None:
    receiver = DtmfReceiver()
    data = payload(1, True, 10, 800) + payload(2, True, 10, 480)
    assert receiver.feed(7, 1600, True, data, 0.0) == [DtmfDigit("2", 2, 60, 10, 1600, "end")]


def test_malformed_payload_raises() -> None:
    with pytest.raises(DtmfParseError, match=r"^telephone-event payload too short: 2 bytes, need 4$"):
        DtmfReceiver().feed(1, 0, True, b"\x01\x0a", 0.0)


def test_reset_forgets_reported_events() -> None:
    receiver = DtmfReceiver()
    packets = event_packets(8, 0, [160, 320])
    assert len(feed_all(receiver, packets)) == 1
    receiver.reset()
    assert len(feed_all(receiver, packets)) == 1


def test_sender_to_receiver_round_trip() -> None:
    sender = DtmfSender(duration_ms=120, gap_ms=80)
    sender.start("159*#0AD!", 4242)
    receiver = DtmfReceiver()
    digits: list[DtmfDigit] = []
    seq = 0
    while sender.busy:
        for packet in sender.tick():
            digits += receiver.feed(seq, packet.timestamp, packet.marker, packet.payload, seq * 0.02)
            seq += 1
    assert "".join(d.digit for d in digits) == "159*#0AD!"
    assert {d.duration_ms for d in digits} == {120}
    assert {d.ended_by for d in digits} == {"end"}


def test_sender_to_receiver_with_losses() -> None:
    """Drop the marker packet of one digit and every end packet of another."""
    sender = DtmfSender(duration_ms=100, gap_ms=60)
    sender.start("246", 0)
    receiver = DtmfReceiver()
    digits: list[DtmfDigit] = []
    now = 0.0
    while sender.busy:
        for packet in sender.tick():
            event = packet.event
            lost = (event.event == 2 and packet.marker) or (event.event == 4 and event.end)
            if not lost:
                digits += receiver.feed(0, packet.timestamp, packet.marker, packet.payload, now)
        now += 0.02
        digits += receiver.tick(now)
    digits += receiver.tick(now + 2)
    assert [(d.digit, d.ended_by) for d in digits] == [("2", "end"), ("4", "next-event"), ("6", "end")]
    assert digits[1].duration_ms == 80


def test_long_event_segments_are_one_digit() -> None:
    sender = DtmfSender(duration_ms=9000)
    sender.start("#", 0xFFFF0000)  # the second segment's timestamp wraps, too
    receiver = DtmfReceiver()
    digits: list[DtmfDigit] = []
    while sender.busy:
        for packet in sender.tick():
            digits += receiver.feed(0, packet.timestamp, packet.marker, packet.payload, 0.0)
    assert digits == [DtmfDigit("#", 11, 9000, 10, 0xFFFF0000, "end")]


def test_long_event_with_lost_segment_end_is_still_one_digit() -> None:
    sender = DtmfSender(duration_ms=9000)
    sender.start("1", 0)
    receiver = DtmfReceiver()
    digits: list[DtmfDigit] = []
    while sender.busy:
        for packet in sender.tick():
            if packet.event.duration != 0xFFFF:
                digits += receiver.feed(0, packet.timestamp, packet.marker, packet.payload, 0.0)
    assert [(d.digit, d.duration_ms) for d in digits] == [("1", 9000)]


# -- a real capture ------------------------------------------------------------

SIPP_PCAPS = Path("/usr/share/sip-tester")


def read_rtp_payloads(path: Path) -> list[tuple[int, int, bool, int, bytes]]:
    """A tiny classic-pcap reader: (seq, timestamp, marker, payload type, payload) of each RTP packet."""
    data = path.read_bytes()
    magic = data[:4]
    if magic == b"\xd4\xc3\xb2\xa1":
        endian = "<"
    elif magic == b"\xa1\xb2\xc3\xd4":
        endian = ">"
    else:
        raise AssertionError(f"not a classic pcap file: {magic!r}")
    (linktype,) = struct.unpack(endian + "I", data[20:24])
    assert linktype == 1, "Ethernet captures only"
    packets = []
    offset = 24
    while offset + 16 <= len(data):
        _, _, captured, _ = struct.unpack(endian + "IIII", data[offset:offset + 16])
        frame = data[offset + 16:offset + 16 + captured]
        offset += 16 + captured
        ip = frame[14:]  # Ethernet header
        ihl = (ip[0] & 0x0F) * 4
        assert ip[9] == 17, "UDP only"
        rtp = ip[ihl + 8:]  # UDP header
        first, second, seq, timestamp = struct.unpack("!BBHI", rtp[:8])
        header = 12 + 4 * (first & 0x0F)  # fixed header + CSRCs
        packets.append((seq, timestamp, bool(second & 0x80), second & 0x7F, rtp[header:]))
    return packets


def receive_capture(path: Path) -> list[DtmfDigit]:
    receiver = DtmfReceiver()
    digits: list[DtmfDigit] = []
    for i, (seq, timestamp, marker, _, data) in enumerate(read_rtp_payloads(path)):
        digits += receiver.feed(seq, timestamp, marker, data, i * 0.02)
    return digits + receiver.tick(60.0)


def test_sipp_capture_of_digit_1() -> None:
    path = SIPP_PCAPS / "dtmf_2833_1.pcap"
    if not path.exists():
        pytest.skip(f"{path} is absent (install the sip-tester package for this capture)")
    packets = read_rtp_payloads(path)
    assert {pt for _, _, _, pt, _ in packets} == {101}
    # The capture retransmits its end packet three times, with one sequence number.
    assert sum(TelephoneEvent.parse(p[4]).end for p in packets) == 3
    assert [d.digit for d in receive_capture(path)] == ["1"]
    assert receive_capture(path)[0].ended_by == "end"


@pytest.mark.parametrize(
    ("name", "digit"), [*((f"dtmf_2833_{n}.pcap", str(n)) for n in range(10)),
                        ("dtmf_2833_star.pcap", "*"), ("dtmf_2833_pound.pcap", "#")],
)
def test_sipp_captures_of_every_digit(name: str, digit: str) -> None:
    path = SIPP_PCAPS / name
    if not path.exists():
        pytest.skip(f"{path} is absent (install the sip-tester package for this capture)")
    assert [d.digit for d in receive_capture(path)] == [digit]


# -- SIP INFO bodies -------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"Signal=5\r\nDuration=160\r\n", DtmfRelay("5", 160)),
        (b"Signal=*\r\nDuration=250\r\n", DtmfRelay("*", 250)),
        (b"Signal=#\r\nDuration=100\r\n", DtmfRelay("#", 100)),
        (b"Signal=10\r\nDuration=100\r\n", DtmfRelay("*", 100)),
        (b"Signal=11\r\nDuration=100\r\n", DtmfRelay("#", 100)),
        (b"Signal=12\r\n", DtmfRelay("A")),
        (b"Signal=16\r\n", DtmfRelay("!")),
        (b"Signal=d\r\n", DtmfRelay("D")),
        (b"signal= 7 \nDURATION = 80\n", DtmfRelay("7", 80)),
        (b"Signal=1\r\nDuration=100\r\nX-Vendor=yes\r\n\r\n", DtmfRelay("1", 100)),
    ],
)
def test_dtmf_relay_parse(body: bytes, expected: DtmfRelay) -> None:
    assert DtmfRelay.parse(body) == expected
    assert parse_info_body("application/dtmf-relay", body) == expected


@pytest.mark.parametrize("body", [b"Signal=5\r\nDuration=160\r\n", b"Signal=#\r\nDuration=250\r\n", b"Signal=A\r\n"])
def test_dtmf_relay_round_trip(body: bytes) -> None:
    assert bytes(DtmfRelay.parse(body)) == body


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"Duration=160\r\n", "dtmf-relay body has no Signal"),
        (b"", "dtmf-relay body has no Signal"),
        (b"Signal=E\r\n", "dtmf-relay Signal 'E' is not a DTMF digit"),
        (b"Signal=17\r\n", "dtmf-relay Signal '17' is not a DTMF digit"),
        (b"Signal=\r\n", "dtmf-relay Signal '' is not a DTMF digit"),
        (b"Signal=5\r\nDuration=abc\r\n", "dtmf-relay Duration 'abc' is not a number of milliseconds"),
        (b"Signal=5\r\nDuration=-5\r\n", "dtmf-relay Duration '-5' is not a number of milliseconds"),
        (b"Signal 5\r\n", "dtmf-relay line 'Signal 5' has no '='"),
        (b"Signal=5\r\nsignal=6\r\n", "dtmf-relay body repeats Signal"),
        (b"Signal=\xff\r\n", "dtmf-relay body is not ASCII"),
    ],
)
def test_dtmf_relay_errors(body: bytes, message: str) -> None:
    with pytest.raises(DtmfParseError) as info:
        DtmfRelay.parse(body)
    assert str(info.value) == message
    assert info.value.status == 400


@pytest.mark.parametrize(
    ("body", "digit"), [(b"5", "5"), (b"#\r\n", "#"), (b"*", "*"), (b"b", "B"), (b"11", "#")],
)
def test_application_dtmf_single_digit(body: bytes, digit: str) -> None:
    assert parse_info_body("Application/DTMF", body) == DtmfRelay(digit)


def test_application_dtmf_errors() -> None:
    with pytest.raises(DtmfParseError, match=r"^application/dtmf body '55' is not a DTMF digit$"):
        parse_info_body(DTMF_CONTENT_TYPE, b"55")
    with pytest.raises(DtmfParseError, match=r"^application/dtmf body is not ASCII$"):
        parse_info_body(DTMF_CONTENT_TYPE, b"\xe9")


def test_content_type_parameters_and_case() -> None:
    body = b"Signal=3\r\nDuration=100\r\n"
    assert parse_info_body("Application/DTMF-Relay ; charset=us-ascii", body) == DtmfRelay("3", 100)


def test_unsupported_content_type_answers_415() -> None:
    with pytest.raises(DtmfParseError) as info:
        parse_info_body("text/plain", b"5")
    assert str(info.value) == "unsupported DTMF content type 'text/plain'"
    assert info.value.status == 415


def test_build_info_body() -> None:
    assert build_info_body("5", 160) == b"Signal=5\r\nDuration=160\r\n"
    assert build_info_body("a", 100) == b"Signal=A\r\nDuration=100\r\n"
    assert build_info_body("#") == b"Signal=#\r\n"
    assert build_info_body("*", 250, DTMF_CONTENT_TYPE) == b"*"
    assert build_info_body("9", 250, DTMF_RELAY_CONTENT_TYPE) == bytes(DtmfRelay("9", 250))
    with pytest.raises(DtmfValueError, match=r"^'X' is not a DTMF digit$"):
        build_info_body("x")
    with pytest.raises(DtmfValueError, match=r"^unsupported DTMF content type 'text/plain'$"):
        build_info_body("1", 100, "text/plain")
