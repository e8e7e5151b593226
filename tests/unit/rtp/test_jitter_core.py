"""The jitter buffer's cores: the C one, the pure-Python one, and no shortcuts at all agree.

``JitterBuffer`` runs on the C core (``_cjitter.JitterCore``, built on the test
machine: its absence is a failure, as in test_speedups.py); ``PyJitterBuffer``
runs on ``jitter_core.PyJitterCore``, what a phone without a C compiler runs.
Here the same random arrival and playout schedules go to both, with their
in-order shortcuts on and off (``_fast_paths``), and every return value and
every observable, down to the attributes the cores share, must be identical
at every step, floats included.
"""

from __future__ import annotations

import gc
import weakref
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui_phone.rtp import jitter_core
from tui_phone.rtp.jitter_core import PyJitterCore
from tui_phone.rtp.jitterbuffer import Frame, Gap, JitterBuffer, JitterBufferStats, PyJitterBuffer

try:
    from tui_phone.rtp import _cjitter
except ImportError as error:  # a failure below, not a skip: the test machine has a compiler
    _cjitter = None
    C_MISSING = str(error)

PTIME = 0.02
FRAME = 160
SILENCE = b"\x00"

#: Attributes both cores hold (the C one as C fields), compared after every step.
SHARED_STATE = ("_jitter", "_transit", "_prev_transit", "_late_floor", "_late_floor_time", "_delay",
                "_next_ts", "_last_seq", "_max_seq", "_ts_ref", "_gap_run", "_started", "_has_played",
                "_ssrc", "_candidate")


def _silent(payload: bytes) -> bool:
    return payload == SILENCE


@dataclass(frozen=True)
class Step:
    time: float
    kind: str  # "put", "event" (note_non_audio) or "pop"
    seq: int = 0  # raw: may be outside 0..65535, put masks it
    timestamp: int = 0
    marker: bool = False
    ssrc: int | None = None
    payload: bytes = b"\x55"


@st.composite
def schedules(draw: st.DrawFn) -> list[Step]:
    """A mostly clean stream (so that the shortcuts run) with every kind of trouble
    mixed in: loss, duplicates, reordering, late packets, DTX silences with or
    without a talkspurt marker, RFC 4733 events, sequence and timestamp wraps,
    SSRC changes, sequence and timestamp jumps (resyncs), a stalled playout clock."""
    origin = draw(st.sampled_from([0.0, 0.0123, 86400.5, 1e6 + 0.3]))
    seq = draw(st.sampled_from([0, 65520, 65535, draw(st.integers(0, 65535))]))
    ts = draw(st.sampled_from([0, 2**32 - 1600, 2**32 - 1, draw(st.integers(0, 2**32 - 1))]))
    ssrc = draw(st.sampled_from([None, 0x1234]))
    transit = draw(st.sampled_from([0.03, 0.0, 0.25]))
    silent_run = draw(st.booleans())
    steps: list[Step] = []
    send = 0.0
    for i in range(draw(st.integers(1, 160))):
        trouble = draw(st.integers(0, 69))  # 9 kinds of trouble: clean runs in between
        marker = False
        if trouble == 0:
            pause = draw(st.integers(1, 40))  # DTX: a silence, then a talkspurt
            send += pause * PTIME
            ts += pause * FRAME
            marker = draw(st.booleans())
        elif trouble == 1 and ssrc is not None:
            ssrc += draw(st.sampled_from([1, -1]))  # a new stream, or back to an old one
        elif trouble == 2:
            ts += draw(st.integers(10**5, 2**31))  # a timestamp jump
        elif trouble == 3:
            seq += draw(st.integers(3001, 30000))  # a sequence jump (RFC 3550 A.1)
        elif trouble == 4:
            ts -= FRAME * draw(st.integers(1, 5))  # the timestamp goes back
        delay = transit + draw(st.sampled_from([0.0, 0.0, 0.0, 0.001, 0.004,
                                                draw(st.floats(0.0, 0.05, allow_nan=False))]))
        if trouble == 5:
            delay += draw(st.floats(0.02, 0.6, allow_nan=False))  # late, or reordered behind others
        copies = 0 if trouble == 6 else 2 if trouble == 7 else 1  # loss, duplicate
        kind = "event" if trouble == 8 else "put"
        payload = SILENCE if silent_run and draw(st.integers(0, 3)) == 0 else bytes([i % 256])
        raw_seq = seq % 65536 + 65536 * draw(st.sampled_from([0, 0, 0, 0, 1, -1]))  # put masks it
        for copy in range(copies):
            steps.append(Step(origin + send + delay + copy * 0.003, kind, raw_seq, ts % 2**32,
                              marker or draw(st.integers(0, 29)) == 0, ssrc, payload))
        seq += 1
        ts += FRAME
        send += PTIME
    until = send + 0.8
    phase = draw(st.sampled_from([0.001, 0.0, 0.013]))  # 0: delays land on multiples of ptime
    pops = [origin + k * PTIME + phase for k in range(int(until / PTIME) + 1)]
    stall = draw(st.sampled_from([None, None, draw(st.floats(0.0, until))]))
    if stall is not None:  # the playout clock stops for a while
        length = draw(st.sampled_from([0.1, 0.6, 1.2]))
        pops = [t for t in pops if not origin + stall <= t < origin + stall + length]
    steps += [Step(t, "pop") for t in pops]
    steps.sort(key=lambda s: (s.time, s.kind == "pop"))
    # A wall clock may step back: a few pops come a little earlier than the step before.
    back = draw(st.sets(st.integers(0, len(steps) - 1), max_size=3))
    return [Step(s.time - 0.03, s.kind) if i in back and s.kind == "pop" else s for i, s in enumerate(steps)]


def observe(buffer: JitterBuffer | PyJitterBuffer) -> tuple[object, ...]:
    shared = tuple((name, type(value), value) for name in SHARED_STATE
                   for value in [getattr(buffer, name)])
    return (buffer.stats, buffer.buffered, buffer.current_delay_ms, buffer.target_delay_ms, buffer.jitter_ms,
            buffer.started, shared, sorted(buffer._buffer.items()), len(buffer._seen), list(buffer._seen_order))


def apply(buffer: JitterBuffer | PyJitterBuffer, step: Step) -> object:
    if step.kind == "pop":
        return buffer.pop(step.time)
    if step.kind == "event":
        return buffer.note_non_audio(step.seq, step.ssrc)
    return buffer.put(step.seq, step.timestamp, step.payload, step.time, step.marker, step.ssrc)


def build(kind: str, fast: bool, **config: object) -> JitterBuffer | PyJitterBuffer:
    buffer = (JitterBuffer if kind == "c" else PyJitterBuffer)(**config)  # type: ignore[arg-type]
    if not fast:
        buffer._fast_paths = False
    return buffer


def check_same(steps: list[Step], **config: object) -> None:
    """Every buffer gives the same answer and shows the same state after every step."""
    buffers = {(kind, fast): build(kind, fast, **config) for kind in ("c", "py") for fast in (True, False)}
    reference = ("py", False)
    for index, step in enumerate(steps):
        seen = {key: (type(result := apply(buffer, step)), result, observe(buffer))
                for key, buffer in buffers.items()}
        for key, value in seen.items():
            assert value == seen[reference], f"step {index} {step}: {key} differs from {reference}"


# -- the cores ---------------------------------------------------------------


def test_jitter_buffer_runs_on_the_c_core() -> None:
    assert _cjitter is not None, f"_cjitter is not built ({C_MISSING})"
    assert jitter_core.CORE is _cjitter.JitterCore
    assert issubclass(JitterBuffer, _cjitter.JitterCore) and not issubclass(JitterBuffer, PyJitterCore)
    assert issubclass(PyJitterBuffer, PyJitterCore) and not issubclass(PyJitterBuffer, _cjitter.JitterCore)
    assert JitterBuffer.put is _cjitter.JitterCore.put and JitterBuffer.pop is _cjitter.JitterCore.pop


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(schedules(), st.sampled_from([None, 3, 12]), st.booleans(), st.sampled_from([2.0, 0.5]))
def test_the_cores_agree_at_every_step(
    steps: list[Step], max_packets: int | None, detector: bool, half_life: float
) -> None:
    check_same(steps, max_packets=max_packets, is_silent=_silent if detector else None,
               late_half_life_s=half_life)


@settings(max_examples=60, deadline=None, database=None, derandomize=True)
@given(schedules())
def test_the_cores_agree_with_other_delays(steps: list[Step]) -> None:
    check_same(steps, clock_rate=16000, frame_samples=320, min_delay_ms=0, initial_delay_ms=20,
               max_delay_ms=120, jitter_factor=2, resync_threshold_s=1)


@settings(max_examples=60, deadline=None, database=None, derandomize=True)
@given(schedules())
def test_the_cores_agree_with_a_pinned_delay(steps: list[Step]) -> None:
    """The target is 60 ms whatever the jitter: clean arrivals then put the
    delay within rounding errors of it, on both sides (the EPSILON slack)."""
    check_same(steps, min_delay_ms=60, initial_delay_ms=60, max_delay_ms=60)


def test_the_cores_agree_past_the_duplicate_window() -> None:
    """A long clean stream fills the window of remembered sequence numbers
    (DUPLICATE_HISTORY); then duplicates of old and recent packets come."""
    steps = [Step(0.03 + i * PTIME, "put", i, i * FRAME, i % 100 == 0) for i in range(700)]
    steps += [Step(0.03 + i * PTIME + 0.005, "put", j, j * FRAME) for i, j in ((650, 120), (651, 200), (652, 645))]
    steps += [Step(k * PTIME + 0.001, "pop") for k in range(710)]
    steps.sort(key=lambda s: (s.time, s.kind == "pop"))
    check_same(steps)


@pytest.mark.parametrize("kind", ["c", "py"])
def test_a_clean_stream_runs_on_the_shortcuts_only(kind: str) -> None:
    """Every put but the first and every pop once playing stay in the core: the
    general paths are never called (a C core that falls back would fail here)."""
    buffer = build(kind, True)
    general: list[str] = []
    put_general, pop_general = buffer._put_general, buffer._pop
    buffer._put_general = lambda *args: general.append("put") or put_general(*args)  # type: ignore[method-assign]
    buffer._pop = lambda now: general.append("pop") or pop_general(now)  # type: ignore[method-assign]
    steps = [Step(0.05 + i * PTIME, "put", (65500 + i) % 65536, (2**32 + (i - 80) * FRAME) % 2**32)
             for i in range(200)]  # both numbers wrap
    steps += [Step(k * PTIME + 0.001, "pop") for k in range(210)]
    steps.sort(key=lambda s: (s.time, s.kind == "pop"))
    popped = []
    for step in steps:
        result = apply(buffer, step)
        if step.kind == "pop":
            popped.append(result)
    assert buffer.stats.played == 200
    assert general.count("put") == 1
    # Filling (None), the first frame, and the gaps once the stream is over.
    assert general.count("pop") == sum(not isinstance(result, Frame) for result in popped) + 1
    frames = [r for r in popped if isinstance(r, Frame)]
    assert [f.seq for f in frames][:3] == [65500, 65501, 65502] and frames[36].seq == 0
    assert frames[80].timestamp == 0


@pytest.mark.parametrize("cls", [JitterBuffer, PyJitterBuffer])
def test_put_takes_keywords_and_masks_numbers(cls: type[JitterBuffer]) -> None:
    buffer = cls()
    assert buffer.put(seq=65536 + 7, timestamp=2**32 + 160, payload=b"a", arrival_time=0, marker=True,
                      ssrc=9) == "buffered"
    assert buffer.put(8, 320, b"b", 0.02, ssrc=9) == "buffered"
    assert buffer.put(-65527, 480 - 2**32, b"c", 1, False, 9) == "buffered"  # 9 and 480, masked
    assert buffer._max_seq == 9 and buffer._ts_ref == 480
    with pytest.raises(TypeError):
        buffer.put(1, 2, b"x")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        buffer.put("1", 2, b"x", 0.0)  # type: ignore[arg-type]


def test_integer_times_give_what_float_times_give() -> None:
    """Times may be ints (a fake clock): the C core converts them as Python does."""
    steps = [Step(i, "put", i, i * 1000, payload=bytes([i])) for i in range(6)]
    steps += [Step(t, "pop") for t in range(9)]
    steps.sort(key=lambda s: (s.time, s.kind == "pop"))
    config = {"clock_rate": 1000, "frame_samples": 1000, "min_delay_ms": 0, "initial_delay_ms": 0,
              "max_delay_ms": 3000}
    results = {}
    for cls in (JitterBuffer, PyJitterBuffer):
        buffer = cls(**config)  # type: ignore[arg-type]
        results[cls] = [(apply(buffer, step), buffer.stats, buffer.current_delay_ms, buffer.target_delay_ms)
                        for step in steps]
    assert results[JitterBuffer] == results[PyJitterBuffer]
    assert sum(isinstance(r[0], Frame) for r in results[JitterBuffer]) == 6


@pytest.mark.parametrize("cls", [JitterBuffer, PyJitterBuffer])
def test_the_counters_read_and_write_as_a_mapping(cls: type[JitterBuffer]) -> None:
    buffer = cls()
    buffer._counts["late"] += 2
    assert buffer._counts["late"] == 2 and dict(buffer._counts)["late"] == 2
    assert list(buffer._counts) == list(jitter_core.COUNTERS) == list(buffer._counts.keys())
    assert buffer.stats == JitterBufferStats(**dict.fromkeys(jitter_core.COUNTERS, 0) | {"late": 2}, buffered=0)
    with pytest.raises(KeyError):
        buffer._counts["nope"]


@pytest.mark.parametrize("cls", [JitterBuffer, PyJitterBuffer])
def test_a_buffer_in_a_reference_cycle_is_collected(cls: type[JitterBuffer]) -> None:
    buffer = cls()
    buffer._is_silent = lambda payload: buffer is not None  # the buffer refers to itself
    buffer.put(0, 0, b"x", 0.0)
    gone = weakref.ref(buffer)
    del buffer
    gc.collect()
    assert gone() is None


def test_gap_and_frame_come_from_one_module() -> None:
    """C and Python build the same classes (bind() told the C core which)."""
    assert JitterBuffer().pop(0.0) is None
    assert Frame is jitter_core.Frame and Gap.__module__ == "tui_phone.rtp.jitterbuffer"
