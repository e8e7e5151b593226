"""RtpSender.datagrams gives the bytes of what RtpSender.tick gives.

``datagrams`` builds the usual packet (one audio frame due, no DTMF) straight
from the numbers.  Two senders, one asked with ``tick`` (then serialized) and
one with ``datagrams``, are driven alike through on-time, early and late
timers, stalls, empty frames and DTMF; the bytes, timestamps, sizes,
counters and due times must be the same.  A third sender runs ``datagrams``
on the Python core (:class:`PyRtpSender`) while the others run on the C one
(``_csender.c``, which the test machine builds): the reference and the
speed-up must agree too.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tui_phone.rtp.packet import RtpPacket
import pytest

from tui_phone.rtp import sender as sender_module
from tui_phone.rtp.sender import PyRtpSender, RtpSender

PTIME = 0.02


def test_the_sender_runs_on_the_c_core() -> None:
    assert sender_module._SenderCore is not sender_module._PySenderCore, (
        "_csender is not built (tests/unit/rtp/test_speedups.py)")
    assert type(RtpSender.datagrams).__name__ == "method_descriptor"  # a C method


def sender(cls: type[RtpSender] | type[PyRtpSender] = RtpSender) -> RtpSender | PyRtpSender:
    return cls(ssrc=0xDEADBEEF, payload_type=0, clock_rate=8000, samples_per_frame=160,
                     start_time=100.0, first_sequence=65530, first_timestamp=2**32 - 400,
                     max_catch_up=3, telephone_event_pt=101)


@st.composite
def schedule(draw: st.DrawFn) -> list[tuple[float, bool, str | None]]:
    """(time of the tick, whether the source has a frame, DTMF digits to queue first)."""
    steps = []
    t = 100.0
    for _ in range(draw(st.integers(1, 200))):
        t += draw(st.sampled_from([PTIME, PTIME, PTIME, PTIME, 0.0, 0.005, 0.03, 0.2, 0.0199999]))
        frame = draw(st.integers(0, 9)) > 0
        dtmf = draw(st.sampled_from([None] * 30 + ["1", "#9"]))
        steps.append((t, frame, dtmf))
    return steps


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(schedule())
def test_datagrams_are_the_bytes_of_tick(steps: list[tuple[float, bool, str | None]]) -> None:
    by_tick, by_datagrams, by_python = sender(), sender(), sender(PyRtpSender)
    count = 0
    for t, has_frame, dtmf in steps:
        if dtmf is not None:
            by_tick.send_dtmf(dtmf)
            by_datagrams.send_dtmf(dtmf)
            by_python.send_dtmf(dtmf)

        def source() -> bytes | None:
            nonlocal count
            count += 1
            return bytes([count % 256]) * 160 if has_frame else None

        saved = count
        expected = [(bytes(p), p.timestamp, len(p.payload)) for p in by_tick.tick(t, source)]
        count = saved  # the same frames for the other sender
        assert by_datagrams.datagrams(t, source) == expected
        count = saved
        assert by_python.datagrams(t, source) == expected
        for other in (by_datagrams, by_python):
            assert other.counters == by_tick.counters
            assert other.next_due == by_tick.next_due
            assert (other.next_sequence, other.next_timestamp, other.frames_done, other.dtmf_busy) == (
                by_tick.next_sequence, by_tick.next_timestamp, by_tick.frames_done, by_tick.dtmf_busy)


def test_the_usual_packet_has_the_marker_first_and_wraps() -> None:
    s = sender()
    out = [s.datagrams(100.0 + k * PTIME, lambda: b"\xff" * 160) for k in range(8)]
    packets = [RtpPacket.parse(d[0][0]) for d in out]
    assert [p.marker for p in packets] == [True] + [False] * 7
    assert [p.sequence_number for p in packets] == [65530, 65531, 65532, 65533, 65534, 65535, 0, 1]
    assert [p.timestamp for p in packets][2:4] == [(2**32 - 400 + 320) % 2**32, (2**32 - 400 + 480) % 2**32]
    assert all(p.ssrc == 0xDEADBEEF and p.payload_type == 0 for p in packets)


@pytest.mark.parametrize("cls", [RtpSender, PyRtpSender], ids=["c", "python"])
def test_any_bytes_like_payload_and_a_failing_source(cls: type[RtpSender]) -> None:
    s = sender(cls)
    assert s.datagrams(100.0, lambda: bytearray(b"\x01\x02")) == [
        (bytes.fromhex("80 80 ff fa ff ff fe 70 de ad be ef 01 02"), 2**32 - 400, 2)]

    def broken() -> bytes:
        raise RuntimeError("capture failed")

    with pytest.raises(RuntimeError, match="capture failed"):
        s.datagrams(100.0 + PTIME, broken)
    assert (s.frames_done, s.next_sequence, s.counters.packets_sent) == (1, 65531, 1)  # nothing counted
    assert s.datagrams(100.0 + PTIME, lambda: memoryview(b"\x03"))[0][0][-1:] == b"\x03"
