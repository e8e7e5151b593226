"""The jitter buffer's in-order shortcuts give what its general path gives.

``JitterBuffer.put`` and ``pop`` take a shortcut for the next packet in
order (every ptime on a clean network).  Here two buffers, one with the
shortcuts and one without (``_fast_paths = False``), get the same arrivals
and pops through a bad network; every outcome, every popped item and every
counter must be the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from tui_phone.rtp.jitterbuffer import JitterBuffer

PTIME = 0.02
FRAME = 160


@dataclass(frozen=True)
class Event:
    time: float
    kind: str  # "put", "event" (note_non_audio) or "pop"
    seq: int = 0
    timestamp: int = 0
    marker: bool = False
    ssrc: int | None = None
    payload: bytes = b"\x55"


@st.composite
def traffic(draw: st.DrawFn) -> list[Event]:
    """Jitter, loss, duplicates, reordering, DTX silences, RFC 4733 events, a
    sequence or timestamp wrap, a stalled playout clock, SSRC changes and
    timestamp jumps, with pops every ptime (and a few extra ones)."""
    count = draw(st.integers(1, 120))
    seq0 = draw(st.sampled_from([0, 65500, draw(st.integers(0, 65535))]))
    ts0 = draw(st.sampled_from([0, 2**32 - 3000, draw(st.integers(0, 2**32 - 1))]))
    ssrc = draw(st.sampled_from([None, 7]))
    events: list[Event] = []
    slot = 0
    ts_shift = 0
    for i in range(count):
        if draw(st.integers(0, 29)) == 0:
            slot += draw(st.integers(1, 30))  # a silence (DTX)
        if ssrc is not None and draw(st.integers(0, 79)) == 0:
            ssrc += 1  # the peer's stream restarts under a new SSRC
        if draw(st.integers(0, 79)) == 0:
            ts_shift += draw(st.integers(10**5, 10**9))  # a timestamp jump (resync)
        lost = draw(st.integers(0, 19)) == 0
        copies = 0 if lost else 2 if draw(st.integers(0, 19)) == 0 else 1
        kind = "event" if draw(st.integers(0, 14)) == 0 else "put"
        for _ in range(copies):
            delay = draw(st.sampled_from([0.03, 0.03, 0.03, draw(st.floats(0.0, 0.3, allow_nan=False))]))
            events.append(Event(slot * PTIME + delay, kind, (seq0 + i) % 65536,
                                (ts0 + ts_shift + slot * FRAME) % 2**32, draw(st.booleans()), ssrc,
                                bytes([i % 256])))
        slot += 1
    until = slot * PTIME + 1.0
    stall = draw(st.sampled_from([None, draw(st.floats(0.0, until))]))
    pops = [k * PTIME + 0.001 for k in range(int(until / PTIME) + 1)]
    if stall is not None:  # the playout clock stops for a second
        pops = [t for t in pops if not stall <= t < stall + 1.0]
    events += [Event(t, "pop") for t in pops]
    events.sort(key=lambda e: (e.time, e.kind == "pop"))
    return events


def replay(buffer: JitterBuffer, events: list[Event]) -> list[object]:
    out: list[object] = []
    for e in events:
        if e.kind == "pop":
            out.append(buffer.pop(e.time))
        elif e.kind == "event":
            out.append(buffer.note_non_audio(e.seq, e.ssrc))
        else:
            out.append(buffer.put(e.seq, e.timestamp, e.payload, e.time, e.marker, e.ssrc))
        out.append((buffer.stats, buffer.current_delay_ms, buffer.target_delay_ms, buffer.jitter_ms))
    return out


def pair(**kwargs: object) -> tuple[JitterBuffer, JitterBuffer]:
    fast = JitterBuffer(**kwargs)  # type: ignore[arg-type]
    general = JitterBuffer(**kwargs)  # type: ignore[arg-type]
    general._fast_paths = False
    return fast, general


@settings(max_examples=400, deadline=None, database=None, derandomize=True)
@given(traffic(), st.sampled_from([None, 6, 16]), st.booleans())
def test_shortcuts_give_what_the_general_path_gives(
    events: list[Event], max_packets: int | None, detector: bool
) -> None:
    fast, general = pair(max_packets=max_packets, is_silent=(lambda p: True) if detector else None)
    assert replay(fast, events) == replay(general, events)


def test_a_clean_stream_takes_the_shortcuts() -> None:
    """On a clean stream every put after the first and every pop once playing
    are taken by the shortcuts (the general path is never needed)."""
    fast, general = pair()
    events = [Event(i * PTIME + 0.03, "put", i, i * FRAME) for i in range(200)]
    events += [Event(k * PTIME + 0.001, "pop") for k in range(205)]
    events.sort(key=lambda e: (e.time, e.kind == "pop"))
    slow_calls = 0
    original_put, original_pop = fast._put, fast._pop

    def counting_put(packet: object) -> object:
        nonlocal slow_calls
        slow_calls += 1
        return original_put(packet)  # type: ignore[arg-type]

    def counting_pop(now: float) -> object:
        nonlocal slow_calls
        slow_calls += fast.started  # pops before playout starts go the general way
        return original_pop(now)

    fast._put = counting_put  # type: ignore[method-assign]
    fast._pop = counting_pop  # type: ignore[method-assign]
    assert replay(fast, events) == replay(general, events)
    assert slow_calls == 1  # the first put (the pop that starts playout is not counted)
    assert fast.stats.played == 200
