"""ReceiverStatistics' in-order shortcut gives what its general path gives.

``on_packet`` takes a shortcut for the packet after the highest one of a
valid source (every ptime on a clean network).  Two instances, one without
the shortcut (``_fast_paths = False``), get the same packets; every verdict,
every report block, every snapshot and the state behind them must match.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui_phone.rtp.stats import PyReceiverStatistics, ReceiverStatistics

# ReceiverStatistics is on the C core when it is built; PyReceiverStatistics
# always on the Python one (test_stats_core.py compares the two).
CLASSES = [ReceiverStatistics, PyReceiverStatistics]

FRAME = 160
EVENT_PT = 101


@st.composite
def packets(draw: st.DrawFn) -> list[tuple[int, int, float, int, int | None, int | None]]:
    """(seq, timestamp, arrival, payload type, payload size, ssrc): jitter, loss,
    duplicates, reordering, wraps, big jumps (sender restarts), SSRC changes,
    telephone events, packets without a size."""
    count = draw(st.integers(1, 150))
    seq = draw(st.sampled_from([0, 65530, draw(st.integers(0, 65535))]))
    ts = draw(st.sampled_from([0, 2**32 - 500, draw(st.integers(0, 2**32 - 1))]))
    ssrc = draw(st.sampled_from([None, 5]))
    out = []
    t = 0.0
    for _ in range(count):
        step = draw(st.sampled_from([1, 1, 1, 1, 1, 1, 2, 0, -1, -3, 4000, -200]))
        seq = (seq + step) % 65536
        ts = (ts + step * FRAME + draw(st.sampled_from([0, 0, 0, 8000, -160]))) % 2**32
        t += 0.02 + draw(st.sampled_from([0.0, 0.0, 0.003, -0.004, 0.05]))
        if ssrc is not None and draw(st.integers(0, 59)) == 0:
            ssrc += 1
        pt = EVENT_PT if draw(st.integers(0, 19)) == 0 else 0
        size = None if draw(st.integers(0, 29)) == 0 else 160
        out.append((seq, ts, t, pt, size, ssrc))
    return out


def state(stats: ReceiverStatistics, now: float) -> tuple[object, ...]:
    # The instance dict, and the core's attributes (C fields on the C core).
    fields = {name: value for name, value in vars(stats).items() if name != "_fast_paths"}
    core = {name: getattr(stats, name) for name in CORE_ATTRIBUTES}
    return stats.snapshot(now), fields | core | {"_payload_log": list(stats._payload_log)}


CORE_ATTRIBUTES = (
    "clock_rate", "bitrate_window_s", "jitter_excluded_payload_types", "ssrc", "started", "probation",
    "max_seq", "cycles", "received", "jitter", "max_jitter", "_jitter_sum", "_jitter_samples", "_seen",
    "_baseline", "_payload_sizes_given",
)


@pytest.mark.parametrize("cls", CLASSES)
@settings(max_examples=400, deadline=None, database=None, derandomize=True)
@given(packets(), st.integers(1, 40))
def test_shortcut_gives_what_the_general_path_gives(
    cls: type[ReceiverStatistics], feed: list[tuple[int, int, float, int, int | None, int | None]],
    report_every: int,
) -> None:
    fast = cls(8000, jitter_excluded_payload_types=frozenset({EVENT_PT}))
    general = cls(8000, jitter_excluded_payload_types=frozenset({EVENT_PT}))
    general._fast_paths = False
    for index, (seq, ts, t, pt, size, ssrc) in enumerate(feed):
        verdicts = [s.on_packet(seq, ts, t, payload_type=pt, payload_size=size, ssrc=ssrc) for s in (fast, general)]
        assert verdicts[0] == verdicts[1]
        if index % report_every == 0:
            assert fast.make_report_block_values(t) == general.make_report_block_values(t)
        assert state(fast, t) == state(general, t)


@pytest.mark.parametrize("cls", CLASSES)
def test_a_clean_stream_takes_the_shortcut(cls: type[ReceiverStatistics]) -> None:
    stats = cls(8000)
    general = 0
    original = stats._on_packet_general

    def counting(*args: object) -> bool:
        nonlocal general
        general += 1
        return original(*args)  # type: ignore[arg-type]

    stats._on_packet_general = counting  # type: ignore[method-assign,assignment]
    for i in range(100):
        stats.on_packet((65500 + i) % 65536, i * FRAME, i * 0.02, payload_type=0, payload_size=160, ssrc=1)
    # Two packets of probation (the second sets the jitter baseline), then the shortcut.
    assert general == 2
    assert stats.snapshot(2.0).packets_received == 99 and stats.cycles == 65536


def test_the_first_payload_size_on_the_shortcut_counts() -> None:
    # The shortcut used to log the size without noting that sizes were given,
    # so the bitrate stayed None where the general path gave one.
    for cls in CLASSES:
        stats = cls(8000)
        for k in range(3):
            stats.on_packet(k, k * FRAME, k * 0.02)
        stats.on_packet(3, 3 * FRAME, 0.06, payload_size=160)
        assert stats.bitrate(0.07) == pytest.approx(128000)
