"""RtpSender: pacing, numbering, catch-up and DTMF (pure, driven with ``now``)."""

from __future__ import annotations

import pytest

from tui_phone.rtp.dtmf import DtmfValueError, TelephoneEvent
from tui_phone.rtp.packet import RtpPacket
from tui_phone.rtp.sender import RtpSender, RtpSenderError

PTIME = 0.02
START = 1000.0


class Source:
    """Numbered frames; records how often it was asked."""

    def __init__(self, silent: frozenset[int] = frozenset()) -> None:
        self.calls = 0
        self.silent = silent

    def __call__(self) -> bytes | None:
        index = self.calls
        self.calls += 1
        if index in self.silent:
            return None
        return index.to_bytes(2, "big") * 80


def _sender(**kwargs: int) -> RtpSender:
    options = {
        "ssrc": 0xABCDEF01,
        "payload_type": 0,
        "clock_rate": 8000,
        "samples_per_frame": 160,
        "start_time": START,
        "first_sequence": 1000,
        "first_timestamp": 50_000,
    }
    options.update(kwargs)
    return RtpSender(**options)  # type: ignore[arg-type]


def _frame_index(packet: RtpPacket) -> int:
    return int.from_bytes(packet.payload[:2], "big")


def test_one_frame_per_tick_with_timestamps_from_the_sample_count() -> None:
    sender, source = _sender(), Source()
    packets = [p for k in range(10) for p in sender.tick(START + k * PTIME, source)]
    assert [p.sequence_number for p in packets] == list(range(1000, 1010))
    assert [p.timestamp for p in packets] == [50_000 + 160 * k for k in range(10)]
    assert [p.marker for p in packets] == [True] + [False] * 9  # RFC 3551 4.1
    assert {p.ssrc for p in packets} == {0xABCDEF01}
    assert {p.payload_type for p in packets} == {0}


def test_timestamps_ignore_when_the_timer_actually_fired() -> None:
    # Each tick fires late by a different amount (less than a ptime): the
    # timestamps still advance by exactly 160.
    sender, source = _sender(), Source()
    lateness = [0.0, 0.019, 0.003, 0.0151, 0.0, 0.007]
    packets = [p for k, late in enumerate(lateness) for p in sender.tick(START + k * PTIME + late, source)]
    assert [p.timestamp - 50_000 for p in packets] == [160 * k for k in range(6)]
    assert sender.counters.late_ticks == 0


def test_no_frame_before_it_is_due() -> None:
    sender, source = _sender(), Source()
    assert len(sender.tick(START, source)) == 1
    assert sender.tick(START + 0.0199, source) == []
    assert sender.frames_due(START + 0.01) == 0
    assert source.calls == 1


def test_timer_firing_a_hair_early_still_gets_its_frame() -> None:
    sender, source = _sender(), Source()
    sender.tick(START, source)
    assert len(sender.tick(START + PTIME - 1e-7, source)) == 1


def test_next_due_counts_frames_from_the_start() -> None:
    sender, source = _sender(), Source()
    assert sender.next_due == START
    sender.tick(START + 0.013, source)  # fired late: the next frame is still due at START + ptime
    assert sender.next_due == START + PTIME
    sender.tick(START + 3 * PTIME + 0.001, source)  # frames 1-3, caught up
    assert sender.next_due == START + 4 * PTIME


def test_late_loop_sends_the_missed_frames_at_once() -> None:
    sender, source = _sender(), Source()
    sender.tick(START, source)
    packets = sender.tick(START + 5 * PTIME, source)  # frames 1-5 are due
    assert [_frame_index(p) for p in packets] == [1, 2, 3, 4, 5]
    assert [p.sequence_number for p in packets] == [1001, 1002, 1003, 1004, 1005]
    assert [p.timestamp for p in packets] == [50_000 + 160 * k for k in range(1, 6)]
    assert not any(p.marker for p in packets)
    counters = sender.counters
    assert (counters.late_ticks, counters.frames_caught_up, counters.frames_skipped) == (1, 4, 0)


def test_catch_up_is_bounded_and_the_rest_is_skipped() -> None:
    sender, source = _sender(max_catch_up=5), Source()
    sender.tick(START, source)
    packets = sender.tick(START + 20 * PTIME, source)  # frames 1-20 are due
    # At most 1 + 5 frames go out: the newest; frames 1-14 are skipped.
    assert [_frame_index(p) for p in packets] == [15, 16, 17, 18, 19, 20]
    assert source.calls == 21  # skipped frames were taken from the source too
    # Sequence numbers stay consecutive (no false loss at the receiver) ...
    assert [p.sequence_number for p in packets] == list(range(1001, 1007))
    # ... while the timestamps jump over the skipped frames (a silence).
    assert [p.timestamp for p in packets] == [50_000 + 160 * k for k in range(15, 21)]
    assert [p.marker for p in packets] == [True] + [False] * 5
    counters = sender.counters
    assert (counters.frames_caught_up, counters.frames_skipped) == (5, 14)
    after = sender.tick(START + 21 * PTIME, source)
    assert [(p.sequence_number, p.timestamp) for p in after] == [(1007, 50_000 + 160 * 21)]


def test_no_catch_up_at_all() -> None:
    sender, source = _sender(max_catch_up=0), Source()
    sender.tick(START, source)
    packets = sender.tick(START + 3 * PTIME, source)
    assert [_frame_index(p) for p in packets] == [3]
    assert sender.counters.frames_skipped == 2


def test_empty_frames_advance_the_timestamp_and_mark_the_next_packet() -> None:
    sender, source = _sender(), Source(silent=frozenset({2, 3}))
    packets = [p for k in range(6) for p in sender.tick(START + k * PTIME, source)]
    assert [(p.sequence_number, p.timestamp - 50_000, p.marker) for p in packets] == [
        (1000, 0, True),
        (1001, 160, False),
        (1002, 640, True),  # frames 2 and 3 were silent
        (1003, 800, False),
    ]
    assert sender.counters.frames_empty == 2


def test_sequence_and_timestamp_wrap() -> None:
    sender, source = _sender(first_sequence=65534, first_timestamp=2**32 - 320), Source()
    packets = [p for k in range(4) for p in sender.tick(START + k * PTIME, source)]
    assert [p.sequence_number for p in packets] == [65534, 65535, 0, 1]
    assert [p.timestamp for p in packets] == [2**32 - 320, 2**32 - 160, 0, 160]
    assert all(len(bytes(p)) == 172 for p in packets)  # every packet serializes


def test_dtmf_replaces_audio_and_shares_numbering_and_clock() -> None:
    sender, source = _sender(telephone_event_pt=101), Source()
    sender.tick(START, source)  # frame 0 is audio
    sender.send_dtmf("5", duration_ms=100)
    packets = [p for k in range(1, 12) for p in sender.tick(START + k * PTIME, source)]
    events = [p for p in packets if p.payload_type == 101]
    audio = [p for p in packets if p.payload_type == 0]
    # 100 ms at 20 ms: 5 packets, the last (E bit) sent 3 times (RFC 4733 2.5.1.4).
    assert len(events) == 7
    assert {p.timestamp for p in events} == {50_000 + 160}  # the start of the event
    assert events[0].marker and not any(p.marker for p in events[1:])
    durations = [TelephoneEvent.parse(p.payload).duration for p in events]
    assert durations == [160, 320, 480, 640, 800, 800, 800]
    assert [TelephoneEvent.parse(p.payload).end for p in events] == [False] * 4 + [True] * 3
    # Audio resumes afterwards on the media clock, numbering continues.
    assert [(p.sequence_number, p.timestamp - 50_000) for p in audio] == [
        (1008, 160 * 8),
        (1009, 160 * 9),
        (1010, 160 * 10),
        (1011, 160 * 11),
    ]
    assert [p.sequence_number for p in packets] == list(range(1001, 1012))
    assert sender.counters.dtmf_packets_sent == 7
    assert source.calls == 12  # audio frames were still taken (and dropped)


def test_dtmf_needs_a_payload_type() -> None:
    with pytest.raises(RtpSenderError, match=r"^no telephone-event payload type was negotiated$"):
        _sender().send_dtmf("1")


def test_dtmf_rejects_bad_digits() -> None:
    with pytest.raises(DtmfValueError):
        _sender(telephone_event_pt=101).send_dtmf("x")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"payload_type": 128}, "payload type 128 is out of range 0-127"),
        ({"samples_per_frame": 0}, "clock rate and samples per frame must be positive"),
        ({"max_catch_up": -1}, "max_catch_up must not be negative, got -1"),
        ({"telephone_event_pt": 200}, "telephone-event payload type 200 is out of range 0-127"),
    ],
)
def test_bad_configuration(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(RtpSenderError) as error:
        _sender(**kwargs)
    assert str(error.value) == message
