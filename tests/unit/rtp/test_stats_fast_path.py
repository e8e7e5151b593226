"""ReceiverStatistics' in-order shortcut gives what its general path gives.

``on_packet`` takes a shortcut for the packet after the highest one of a
valid source (every ptime on a clean network).  Two instances, one without
the shortcut (``_fast_paths = False``), get the same packets; every verdict,
every report block, every snapshot and the state behind them must match.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tui_phone.rtp.stats import ReceiverStatistics

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
    fields = {name: value for name, value in vars(stats).items() if name != "_fast_paths"}
    return stats.snapshot(now), fields | {"_payload_log": list(stats._payload_log)}


@settings(max_examples=400, deadline=None, database=None, derandomize=True)
@given(packets(), st.integers(1, 40))
def test_shortcut_gives_what_the_general_path_gives(
    feed: list[tuple[int, int, float, int, int | None, int | None]], report_every: int
) -> None:
    fast = ReceiverStatistics(8000, jitter_excluded_payload_types=frozenset({EVENT_PT}))
    general = ReceiverStatistics(8000, jitter_excluded_payload_types=frozenset({EVENT_PT}))
    general._fast_paths = False
    for index, (seq, ts, t, pt, size, ssrc) in enumerate(feed):
        verdicts = [s.on_packet(seq, ts, t, payload_type=pt, payload_size=size, ssrc=ssrc) for s in (fast, general)]
        assert verdicts[0] == verdicts[1]
        if index % report_every == 0:
            assert fast.make_report_block_values(t) == general.make_report_block_values(t)
        assert state(fast, t) == state(general, t)


def test_a_clean_stream_takes_the_shortcut() -> None:
    stats = ReceiverStatistics(8000)
    taken = 0
    original = stats._next_in_order

    def counting(*args: object) -> None:
        nonlocal taken
        taken += 1
        original(*args)  # type: ignore[arg-type]

    stats._next_in_order = counting  # type: ignore[method-assign]
    for i in range(100):
        stats.on_packet((65500 + i) % 65536, i * FRAME, i * 0.02, payload_type=0, payload_size=160, ssrc=1)
    # Two packets of probation, then one to set the jitter baseline... the rest.
    assert taken == 100 - 2
    assert stats.snapshot(2.0).packets_received == 99 and stats.cycles == 65536
