"""The C core of ReceiverStatistics (``_cstats.StatsCore``) does what the Python one does.

``ReceiverStatistics`` sits on the C core when ``_cstats`` is built (the test
machine builds it: tests/unit/rtp/test_speedups.py), ``PyReceiverStatistics``
always on the pure-Python one (``stats_core.PyStatsCore``).  Four instances
(C and Python, each with and without the in-order shortcut) get the same
random packets, and every observable must be identical after every packet:
the verdicts, all attributes (the floats bit for bit), snapshots, report
blocks and the bitrate.
"""

from __future__ import annotations

import importlib
import sys
from types import FrameType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui_phone.rtp.stats import PyReceiverStatistics, ReceiverStatistics, RtpStatsError
from tui_phone.rtp.stats_core import DUPLICATE_WINDOW, PyStatsCore

try:
    from tui_phone.rtp._cstats import StatsCore  # type: ignore[import-not-found]
except ImportError:  # no compiler: test_speedups.py fails; the Python core is still tested here
    StatsCore = None

FRAME = 160
EVENT_PT = 101
Packet = tuple[int, int, float, int, "int | None", "int | None"]

ATTRIBUTES = (
    "clock_rate", "late_window", "bitrate_window_s", "jitter_excluded_payload_types", "ssrc",
    "started", "probation", "max_seq", "base_seq", "bad_seq", "cycles", "received",
    "expected_prior", "received_prior", "jitter", "max_jitter", "duplicates", "reordered", "late",
    "discarded", "resyncs", "valid", "extended_max", "expected", "lost",
    "_jitter_sum", "_jitter_samples", "_seen", "_baseline", "_candidate",
    "_last_sr_middle32", "_last_sr_arrival", "_payload_sizes_given",
)


def observables(stats: ReceiverStatistics | PyReceiverStatistics, now: float) -> str:
    """Everything one can read, as a repr: floats compare bit for bit, types too."""
    values = {name: getattr(stats, name) for name in ATTRIBUTES}
    values["_payload_log"] = list(stats._payload_log)
    return repr((values, stats.snapshot(now), stats.bitrate(now)))


def test_receiver_statistics_runs_on_the_c_core_when_it_is_built() -> None:
    if StatsCore is None:
        assert issubclass(ReceiverStatistics, PyStatsCore)
    else:
        assert issubclass(ReceiverStatistics, StatsCore)
        assert not issubclass(ReceiverStatistics, PyStatsCore)
    assert issubclass(PyReceiverStatistics, PyStatsCore)


def test_the_c_duplicate_window_is_the_python_one() -> None:
    if StatsCore is not None:
        assert importlib.import_module("tui_phone.rtp._cstats").DUPLICATE_WINDOW == DUPLICATE_WINDOW


def the_four(**kwargs: Any) -> list[ReceiverStatistics | PyReceiverStatistics]:
    """C fast, C general, Python fast, Python general."""
    out: list[ReceiverStatistics | PyReceiverStatistics] = []
    for cls in (ReceiverStatistics, PyReceiverStatistics):
        for fast in (True, False):
            stats = cls(8000, **kwargs)
            if not fast:
                stats._fast_paths = False
            out.append(stats)
    if StatsCore is not None:
        assert isinstance(out[0], StatsCore) and isinstance(out[1], StatsCore)
    assert isinstance(out[2], PyStatsCore) and isinstance(out[3], PyStatsCore)
    return out


@st.composite
def packets(draw: st.DrawFn) -> list[Packet]:
    """(seq, timestamp, arrival, payload type, payload size, ssrc): jitter,
    loss, duplicates, reordering, wraps of both counters, big jumps (sender
    restarts), SSRC changes, telephone events, packets without a size."""
    count = draw(st.integers(1, 200))
    seq = draw(st.sampled_from([0, 65530, 65535, draw(st.integers(0, 65535))]))
    ts = draw(st.sampled_from([0, 2**32 - 500, 2**32 - 1, draw(st.integers(0, 2**32 - 1))]))
    ssrc = draw(st.sampled_from([None, 5, 2**32 - 1]))
    t = draw(st.sampled_from([0.0, 1_700_000_000.0, draw(st.floats(0, 1e6))]))
    out = []
    for _ in range(count):
        step = draw(st.sampled_from([1] * 12 + [2, 5, 0, -1, -3, -99, -150, 3000, 4000, 40000]))
        seq = (seq + step) % 65536
        ts_jump = draw(st.sampled_from([0, 0, 0, 0, 1, 8000, -160, 2**31 - FRAME, 2**31, draw(st.integers(0, 2**32 - 1))]))
        ts = (ts + step * FRAME + ts_jump) % 2**32
        t += 0.02 + draw(st.sampled_from([0.0, 0.0, 0.0, 0.003, -0.004, -0.05, 0.05, 3.0]))
        if ssrc is not None and draw(st.integers(0, 59)) == 0:
            ssrc = (ssrc + 1) % 2**32
        pt = EVENT_PT if draw(st.integers(0, 14)) == 0 else 0
        size = None if draw(st.integers(0, 19)) == 0 else draw(st.sampled_from([160, 160, 0, 33, 1500]))
        out.append((seq, ts, t, pt, size, ssrc))
    return out


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(
    packets(),
    st.integers(1, 40),
    st.sampled_from([None, 0, 2, 50]),
    st.sampled_from([2.0, 0.05, 100.0]),
)
def test_c_and_python_cores_agree_packet_by_packet(
    feed: list[Packet], report_every: int, late_window: int | None, bitrate_window_s: float
) -> None:
    stats = the_four(
        late_window=late_window,
        bitrate_window_s=bitrate_window_s,
        jitter_excluded_payload_types=frozenset({EVENT_PT}),
    )
    for index, (seq, ts, t, pt, size, ssrc) in enumerate(feed):
        verdicts = {s.on_packet(seq, ts, t, payload_type=pt, payload_size=size, ssrc=ssrc) for s in stats}
        assert len(verdicts) == 1, (index, seq)
        if index % report_every == 0:
            assert len({repr(s.make_report_block_values(t)) for s in stats}) == 1
        if index % 17 == 5:
            for s in stats:
                s.on_sender_report(index * 1000, t)
        seen = {observables(s, t) for s in stats}
        assert len(seen) == 1, (index, seq, sorted(seen))


def test_a_long_clean_stream_agrees() -> None:
    # Long enough for a wrap of the sequence number and of the timestamp, and
    # for the C payload log to grow and go round its ring many times.
    stats = the_four(bitrate_window_s=5.0)
    for k in range(70_000):
        arrival = k * 0.02 + (k % 7) * 0.001
        for s in stats:
            valid = s.on_packet((k + 65000) % 65536, (k * FRAME + 2**32 - 4000) % 2**32, arrival,
                                payload_type=0, payload_size=160 + k % 3, ssrc=7)
            assert valid is (k > 0)
    assert len({observables(s, arrival) for s in stats}) == 1
    assert stats[0].cycles == 2 * 65536 and stats[0].received == 69_999
    assert len(stats[0]._payload_log) == 250


@pytest.mark.parametrize("jump", [2**31 - 1, 2**31, 2**31 + 1])
def test_a_timestamp_jump_of_half_the_range(jump: int) -> None:
    # RFC 3550 A.8 takes the timestamp difference as signed 32 bits: 2**31 is -2**31.
    stats = the_four()
    for k, ts in enumerate([0, FRAME, 2 * FRAME, 2 * FRAME + jump, 3 * FRAME + jump]):
        for s in stats:
            s.on_packet(k, ts % 2**32, k * 0.02, payload_size=160)
    assert len({observables(s, 0.1) for s in stats}) == 1
    signed = jump - 2**32 if jump >= 2**31 else jump
    assert stats[0].max_jitter == pytest.approx(abs(FRAME - signed) / 16.0, abs=0.01)


def test_the_payload_log_grows_while_it_goes_round() -> None:
    # Steady 50 packets/s through a 1 s window moves the start of the C ring;
    # then a burst of 1000 packets/s makes it grow from there.
    stats = the_four(bitrate_window_s=1.0)
    arrivals = [k * 0.02 for k in range(150)] + [3.0 + k * 0.001 for k in range(1, 600)]
    for k, arrival in enumerate(arrivals):
        for s in stats:
            s.on_packet(k, k * FRAME, arrival, payload_size=k)
        if k % 50 == 0:
            assert len({observables(s, arrival) for s in stats}) == 1
    log = stats[0]._payload_log
    assert log == list(stats[2]._payload_log) and len(log) == 619
    assert [size for _, size in log] == list(range(130, 749))


def test_the_in_order_path_calls_no_python_code() -> None:
    stats = ReceiverStatistics(8000)
    for k in range(3):
        stats.on_packet(k, k * FRAME, k * 0.02, payload_type=0, payload_size=160, ssrc=1)
    calls: list[str] = []

    def profile(frame: FrameType, event: str, arg: object) -> None:
        if event == "call":
            calls.append(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        for k in range(3, 103):
            stats.on_packet(k, k * FRAME, k * 0.02, payload_type=0, payload_size=160, ssrc=1)
    finally:
        sys.setprofile(None)
    if StatsCore is None:
        assert "_next_in_order" in calls
    else:
        assert calls == []
    assert stats.received == 102


@pytest.mark.parametrize("cls", [ReceiverStatistics, PyReceiverStatistics])
def test_the_fast_paths_flag_turns_the_shortcut_off(cls: type[ReceiverStatistics]) -> None:
    general = 0

    class Counting(cls):  # type: ignore[valid-type,misc]
        def _on_packet_general(self, *args: Any) -> bool:
            nonlocal general
            general += 1
            return super()._on_packet_general(*args)

    class Off(Counting):
        _fast_paths = False

    for flavour, expected in ((Counting, 2), (Off, 100)):  # probation: 2 packets
        general = 0
        stats = flavour(8000)
        for k in range(100):
            stats.on_packet(k, k * FRAME, k * 0.02, payload_size=160)
        assert general == expected, flavour
    stats = Counting(8000)
    stats._fast_paths = False  # on the instance, as the other tests do
    general = 0
    for k in range(10):
        stats.on_packet(k, k * FRAME, k * 0.02, payload_size=160)
    assert general == 10


@pytest.mark.parametrize("cls", [ReceiverStatistics, PyReceiverStatistics])
def test_arguments(cls: type[ReceiverStatistics]) -> None:
    stats = cls(8000)
    for k in range(3):  # the last one in order, so both paths are tried below
        assert stats.on_packet(seq=k, timestamp=k * FRAME, arrival_time_s=k * 0.02, payload_size=1) is (k > 0)
    assert stats.on_packet(3, 3 * FRAME, 0.06, payload_size=1)
    with pytest.raises(TypeError, match="unexpected keyword argument 'size'"):
        stats.on_packet(4, 4 * FRAME, 0.08, size=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="positional argument"):
        stats.on_packet(4, 4 * FRAME, 0.08, None)  # type: ignore[misc]
    with pytest.raises(TypeError, match="missing .*'arrival_time_s'"):
        stats.on_packet(4, 4 * FRAME)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="multiple values for argument 'seq'"):
        stats.on_packet(4, 4 * FRAME, 0.08, seq=4)  # type: ignore[misc]
    with pytest.raises(RtpStatsError, match=r"^sequence number out of 16-bit range: 65536$"):
        stats.on_packet(65536, 4 * FRAME, 0.08, payload_size=1)
    with pytest.raises(RtpStatsError, match=r"^RTP timestamp out of 32-bit range: 4294967296$"):
        stats.on_packet(4, 2**32, 0.08, payload_size=1)
    with pytest.raises(TypeError):
        stats.on_packet(4, 4 * FRAME, "late", payload_size=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):  # an unhashable payload type, tested in the shortcut
        stats.on_packet(4, 4 * FRAME, 0.08, payload_type=[0], payload_size=1)  # type: ignore[arg-type]
    assert stats.received == 3 and stats.max_seq == 3


def test_the_c_core_checks_what_python_writes() -> None:
    stats = ReceiverStatistics(8000)
    stats._seen = (1 << DUPLICATE_WINDOW) - 1
    assert stats._seen == (1 << DUPLICATE_WINDOW) - 1
    stats._seen = 1 << 70 | 5
    assert stats._seen == 1 << 70 | 5
    stats._baseline = (12.5, 2**32 - 1)
    assert stats._baseline == (12.5, 2**32 - 1)
    stats._baseline = None
    assert stats._baseline is None
    if StatsCore is None:
        return
    with pytest.raises(ValueError, match="_seen out of 128-bit range"):
        stats._seen = 1 << DUPLICATE_WINDOW
    with pytest.raises(ValueError, match="_seen out of 128-bit range"):
        stats._seen = -1
    with pytest.raises(ValueError, match="_baseline timestamp out of 32-bit range: 4294967296"):
        stats._baseline = (0.0, 2**32)
    with pytest.raises(TypeError, match="_baseline must be None or"):
        stats._baseline = (0.0, 1, 2)  # type: ignore[assignment]
    with pytest.raises(AttributeError):
        stats._payload_log = []  # type: ignore[assignment]
    assert stats._seen == 1 << 70 | 5 and stats._baseline is None
