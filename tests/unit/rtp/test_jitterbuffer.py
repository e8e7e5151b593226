"""Tests of tui_phone.rtp.jitterbuffer, driven by a deterministic fake clock.

The stream is 8 kHz audio in 20 ms packets (160 timestamp units); the
playout clock pops every 20 ms, 1 ms after a 20 ms boundary.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui_phone.rtp.jitterbuffer import DUPLICATE_HISTORY, Frame, Gap, JitterBuffer

PTIME = 0.02
FRAME = 160
TRANSIT = 0.05  # network delay of an on-time packet


@dataclass(frozen=True)
class Arrival:
    time: float
    seq: int
    timestamp: int
    payload: bytes = b"\x55"
    marker: bool = False
    ssrc: int | None = None
    event: bool = False  # a non-audio packet (RFC 4733 event): told with note_non_audio


def stream(count: int, *, seq: int = 0, ts: int = 0, start: float = 0.0,
           payload: bytes = b"\x55", ssrc: int | None = None) -> list[Arrival]:
    """``count`` packets sent every 20 ms from ``start``, arriving TRANSIT later."""
    return [
        Arrival(start + i * PTIME + TRANSIT, (seq + i) % 65536, (ts + i * FRAME) % 2**32, payload, i == 0, ssrc)
        for i in range(count)
    ]


def run(jb: JitterBuffer, arrivals: list[Arrival], until: float,
        outcomes: list[tuple[int, str]] | None = None) -> list[tuple[float, Frame | Gap | None]]:
    """Interleave puts and pops in time order (a put at the same instant goes first).

    Return every pop with its time; collect (seq, put outcome) in ``outcomes``.
    """
    pops = [k * PTIME + 0.001 for k in range(int(until / PTIME) + 1)]
    events = sorted(
        [(a.time, 0, a) for a in arrivals] + [(t, 1, None) for t in pops], key=lambda e: (e[0], e[1])
    )
    results: list[tuple[float, Frame | Gap | None]] = []
    for time, kind, arrival in events:
        if kind == 0:
            assert arrival is not None
            if arrival.event:
                outcome = "non-audio" if jb.note_non_audio(arrival.seq, arrival.ssrc) else "ignored"
            else:
                outcome = jb.put(arrival.seq, arrival.timestamp, arrival.payload, time, arrival.marker, arrival.ssrc)
            if outcomes is not None:
                outcomes.append((arrival.seq, outcome))
        else:
            results.append((time, jb.pop(time)))
    return results


def played(results: list[tuple[float, Frame | Gap | None]]) -> list[int]:
    return [r.seq for _, r in results if isinstance(r, Frame)]


def gaps(results: list[tuple[float, Frame | Gap | None]]) -> list[tuple[str, int]]:
    return [(r.concealment, r.step) for _, r in results if isinstance(r, Gap)]


def check_accounting(jb: JitterBuffer) -> None:
    s = jb.stats
    assert s.received == (s.played + s.duplicates + s.late + s.overflow + s.flushed
                          + s.skipped + s.discarded + s.buffered)


def check_span(jb: JitterBuffer, first: int, last: int) -> None:
    """Sequence numbers first..last (16-bit) were all played, skipped, lost or non-audio."""
    s = jb.stats
    assert (last - first) % 65536 + 1 == s.played + s.skipped + s.lost + s.non_audio


# -- basics ------------------------------------------------------------------


def test_nothing_before_the_first_packet_is_due() -> None:
    jb = JitterBuffer()
    assert jb.pop(0.0) is None
    jb.put(0, 0, b"a", 0.05)
    assert jb.pop(0.06) is None  # 10 ms buffered, initial delay is 60 ms
    assert not jb.started and jb.current_delay_ms == 0.0
    assert jb.target_delay_ms == pytest.approx(60.0)
    frame = jb.pop(0.11)
    assert frame == Frame(b"a", 0, 0, False)
    assert jb.current_delay_ms == pytest.approx(60.0)


def test_in_order_stream_plays_everything() -> None:
    jb = JitterBuffer()
    results = run(jb, stream(200), until=4.2)
    assert played(results) == list(range(200))
    first = next(i for i, (_, r) in enumerate(results) if r is not None)
    assert all(isinstance(r, Frame) for _, r in results[first:first + 200])
    assert jb.stats.concealed == len(results) - first - 200  # only after the stream ended
    assert (jb.stats.late, jb.stats.lost, jb.stats.duplicates, jb.stats.skipped) == (0, 0, 0, 0)
    check_accounting(jb)


def test_first_frame_waits_the_initial_delay() -> None:
    jb = JitterBuffer(initial_delay_ms=100, max_delay_ms=500)
    results = run(jb, stream(10), until=0.5)
    start = next(t for t, r in results if r is not None)
    assert start == pytest.approx(0.161)  # arrival 0.05 + 0.1, next pop tick


def test_reordered_within_the_delay_plays_in_order() -> None:
    arrivals = stream(100)
    swapped = []
    for i in range(0, 100, 2):  # every pair arrives swapped, 15 ms apart
        a, b = arrivals[i], arrivals[i + 1]
        swapped += [Arrival(b.time - 0.005, b.seq, b.timestamp), Arrival(b.time + 0.01, a.seq, a.timestamp)]
    jb = JitterBuffer()
    results = run(jb, swapped, until=2.5)
    assert played(results) == list(range(100))
    assert jb.stats.late == 0 and jb.stats.lost == 0
    check_accounting(jb)


def test_duplicates_are_dropped_and_counted() -> None:
    arrivals = stream(100)
    doubled = arrivals + [Arrival(a.time + 0.003, a.seq, a.timestamp) for a in arrivals]
    jb = JitterBuffer()
    results = run(jb, doubled, until=2.5)
    assert played(results) == list(range(100))
    assert jb.stats.duplicates == 100 and jb.stats.received == 200
    check_accounting(jb)


def test_late_packet_is_counted_and_not_played() -> None:
    arrivals = stream(100)
    arrivals[20] = Arrival(arrivals[20].time + 0.2, 20, 20 * FRAME)  # 200 ms late
    jb = JitterBuffer()
    results = run(jb, arrivals, until=2.5)
    assert 20 not in played(results)
    assert played(results) == [n for n in range(100) if n != 20]
    assert jb.stats.late == 1 and jb.stats.lost == 1
    # Grow fast: the target jumps to cover the late packet.
    index = next(i for i, (t, _) in enumerate(results) if t > arrivals[20].time)
    assert jb.target_delay_ms > 60
    stretch = [r for _, r in results[index:index + 15] if isinstance(r, Gap)]
    assert len(stretch) >= 5  # playout held back to build up delay
    check_accounting(jb)


def test_lost_packet_is_concealed_by_repeat() -> None:
    arrivals = [a for a in stream(50) if a.seq != 10]
    jb = JitterBuffer()
    results = run(jb, arrivals, until=1.0)
    seqs = [r.seq if isinstance(r, Frame) else (r.concealment, r.step) for _, r in results if r is not None]
    assert seqs[9:12] == [9, ("repeat", 1), 11]
    assert jb.stats.lost == 1 and jb.stats.late == 0


def test_lost_burst_repeats_then_fades_then_silence() -> None:
    arrivals = [a for a in stream(50) if not 10 <= a.seq < 17]
    jb = JitterBuffer(fade_frames=4)
    results = run(jb, arrivals, until=1.2)
    seqs = [r.seq if isinstance(r, Frame) else (r.concealment, r.step) for _, r in results if r is not None]
    assert seqs[9:18] == [9, ("repeat", 1), ("fade", 2), ("fade", 3), ("fade", 4), ("fade", 5),
                          ("silence", 6), ("silence", 7), 17]
    assert jb.stats.lost == 7 and jb.stats.concealed >= 7


def test_gap_timestamps_are_the_missing_slots() -> None:
    arrivals = [a for a in stream(30) if a.seq not in (5, 6)]
    jb = JitterBuffer()
    results = run(jb, arrivals, until=0.7)
    assert [r.timestamp for _, r in results if isinstance(r, Gap)][:2] == [5 * FRAME, 6 * FRAME]


def test_known_silence_between_talkspurts() -> None:
    """DTX: consecutive sequence numbers across a timestamp jump mean silence, not loss."""
    first = stream(20)
    second = stream(20, seq=20, ts=23 * FRAME, start=23 * PTIME)  # 3 frames not sent
    jb = JitterBuffer(min_delay_ms=60, initial_delay_ms=60)
    results = run(jb, first + second, until=1.2)
    assert played(results) == list(range(40))
    assert gaps(results)[:3] == [("silence", 1), ("silence", 2), ("silence", 3)]
    assert jb.stats.lost == 0


def test_long_silence_fades_then_shrinks_the_delay_at_the_talkspurt() -> None:
    first = stream(20)
    second = stream(20, seq=20, ts=45 * FRAME, start=45 * PTIME)  # 25 frames of silence
    jb = JitterBuffer(min_delay_ms=20, initial_delay_ms=60)
    results = run(jb, first + second, until=2.0)
    assert played(results) == list(range(40))
    pause = gaps(results)[:23]
    # Until the next talkspurt arrives the buffer cannot tell silence from loss.
    assert pause[:6] == [("repeat", 1), ("fade", 2), ("fade", 3), ("fade", 4), ("fade", 5), ("silence", 6)]
    assert {kind for kind, _ in pause[6:]} == {"silence"}
    # The talkspurt start let the delay drop from 60+ ms to one frame above target.
    assert jb.target_delay_ms < 30
    assert jb.target_delay_ms <= jb.current_delay_ms <= jb.target_delay_ms + 20
    assert jb.stats.lost == 0 and jb.stats.skipped == 0


def test_wraps_sequence_number_and_timestamp() -> None:
    jb = JitterBuffer()
    arrivals = stream(100, seq=65500, ts=2**32 - 10 * FRAME)
    results = run(jb, arrivals, until=2.5)
    assert played(results) == [(65500 + i) % 65536 for i in range(100)]
    frames = [r for _, r in results if isinstance(r, Frame)]
    assert frames[9].timestamp == 2**32 - FRAME and frames[10].timestamp == 0
    assert jb.stats.lost == 0 and jb.stats.late == 0 and jb.stats.resyncs == 0


def test_reordering_across_the_wrap() -> None:
    arrivals = stream(20, seq=65530)
    arrivals[5], arrivals[6] = (Arrival(arrivals[6].time - 0.01, arrivals[6].seq, arrivals[6].timestamp),
                                Arrival(arrivals[6].time, arrivals[5].seq, arrivals[5].timestamp))
    jb = JitterBuffer()
    assert played(run(jb, arrivals, until=0.6)) == [(65530 + i) % 65536 for i in range(20)]


def test_a_silent_first_frame_is_not_dropped_before_playout_begins() -> None:
    """Found by a random search (seed 2): the first frame skipped before any played.

    Packet 5 comes early and sets the mean transit; 0 and 1 then look 50 ms
    late, so when playout starts at 0 its delay is far above the target.  The
    silence detector must not drop frame 0 to shrink that delay: shrinking is
    for inside a talkspurt, and a frame skipped before the first one played
    fell outside the span of the stream.
    """
    arrivals = [Arrival(0.074, 5, 5 * FRAME), Arrival(0.127, 0, 0), Arrival(0.129, 1, FRAME)]
    jb = JitterBuffer(is_silent=lambda payload: True)
    results = run(jb, arrivals, until=0.5)
    assert played(results) == [0, 1, 5]
    assert (jb.stats.skipped, jb.stats.lost) == (0, 3)
    check_span(jb, 0, 5)
    check_accounting(jb)


def test_catch_up_before_the_first_frame_skips_from_the_start_of_the_stream() -> None:
    """The audio clock starts 1.5 s late: the overdue frames are skipped, counted in the span."""
    jb = JitterBuffer()  # holds 50 packets; before playout the oldest are kept
    results = []
    for a in stream(200):
        jb.put(a.seq, a.timestamp, a.payload, a.time)
        if a.time > 1.5:
            results.append((a.time, jb.pop(a.time + 0.011)))
    seqs = played(results)
    assert seqs == list(range(seqs[0], 199))
    assert jb.stats.skipped == 50 and jb.stats.overflow == seqs[0] - 50
    assert jb.current_delay_ms < 100
    check_span(jb, 0, seqs[-1])
    check_accounting(jb)


def events(first_seq: int, count: int, timestamp: int, start: float) -> list[Arrival]:
    """An RFC 4733 event: ``count`` packets every 20 ms, one timestamp, the next sequence numbers."""
    return [Arrival(start + i * PTIME + TRANSIT, first_seq + i, timestamp, b"\x01", i == 0, event=True)
            for i in range(count)]


@pytest.mark.parametrize("told", [True, False])
def test_telephone_event_sequence_numbers_are_not_lost(told: bool) -> None:
    """The sender pauses its audio for a DTMF event of 10 packets (sequence numbers 20-29)."""
    audio = stream(20) + stream(20, seq=30, ts=30 * FRAME, start=30 * PTIME)
    dtmf = events(20, 10, 20 * FRAME, 20 * PTIME)
    jb = JitterBuffer(min_delay_ms=60, initial_delay_ms=60)
    outcomes: list[tuple[int, str]] = []
    results = run(jb, audio + (dtmf if told else []), until=1.5, outcomes=outcomes)
    assert played(results) == list(range(20)) + list(range(30, 50))
    pause = gaps(results)[:10]
    if told:  # audio resumes right after the event: known silence, like DTX
        assert outcomes[20:30] == [(seq, "non-audio") for seq in range(20, 30)]
        assert (jb.stats.lost, jb.stats.non_audio) == (0, 10)
        assert {kind for kind, _ in pause} == {"silence"}
    else:  # the old behaviour: ten packets lost, the pause concealed as loss
        assert (jb.stats.lost, jb.stats.non_audio) == (10, 0)
        assert pause[:2] == [("repeat", 1), ("fade", 2)]
    check_span(jb, 0, 49)
    check_accounting(jb)


def test_telephone_events_interleaved_with_audio() -> None:
    """Audio goes on during the event; every third sequence number is an event packet."""
    arrivals, seq = [], 0
    for i in range(60):
        if i % 3 == 2:
            arrivals.append(Arrival(i * PTIME + TRANSIT, seq, 0, b"\x01", event=True))
            seq += 1
        arrivals.append(Arrival(i * PTIME + TRANSIT, seq, i * FRAME))
        seq += 1
    jb = JitterBuffer()
    results = run(jb, arrivals, until=1.5)
    active = [r for _, r in results if r is not None]
    assert all(isinstance(r, Frame) for r in active[:60])  # no gap until the stream ends
    assert [r.timestamp for r in active[:60]] == [i * FRAME for i in range(60)]
    assert (jb.stats.lost, jb.stats.non_audio) == (0, 20)
    check_span(jb, 0, seq - 1)


def test_note_non_audio_ignores_what_it_cannot_place() -> None:
    jb = JitterBuffer()
    assert not jb.note_non_audio(7)  # no audio yet: the stream has not begun
    assert jb.put(10, 10 * FRAME, b"a", 0.05, ssrc=1) == "buffered"
    assert not jb.note_non_audio(11, ssrc=2)  # another source
    assert not jb.note_non_audio(10 + 5000)  # far outside the stream (RFC 3550 A.1)
    assert jb.note_non_audio(11, ssrc=1) and jb.note_non_audio(12)
    assert jb.pop(0.111) == Frame(b"a", 10, 10 * FRAME, False)
    assert not jb.note_non_audio(9)  # passed by the playout: stays counted as lost, if ever
    assert jb.put(13, 13 * FRAME, b"b", 0.11, ssrc=1) == "buffered"
    assert jb.pop(0.131) == Gap("silence", 1, 11 * FRAME)  # the event was a pause in the audio
    assert jb.pop(0.151) == Gap("silence", 2, 12 * FRAME)
    assert jb.pop(0.171) == Frame(b"b", 13, 13 * FRAME, False)
    assert (jb.stats.lost, jb.stats.non_audio, jb.stats.received) == (0, 2, 2)


# -- adaptation ----------------------------------------------------------------


def jittery(count: int, jitter: float, seed: int, *, start_seq: int = 0, start: float = 0.0,
            talkspurt: int | None = None) -> list[Arrival]:
    """Packets with uniform +-jitter; with ``talkspurt``, DTX pauses of 5 frames every ``talkspurt``."""
    rnd = random.Random(seed)
    arrivals, seq = [], start_seq
    for i in range(count):
        if talkspurt is not None and i % talkspurt >= talkspurt - 5:
            continue  # silence: nothing sent, sequence numbers stay consecutive
        sent = start + i * PTIME
        marker = talkspurt is not None and i % talkspurt == 0
        arrivals.append(Arrival(sent + TRANSIT + rnd.uniform(-jitter, jitter), seq,
                                (i + int(start / PTIME)) * FRAME, b"\x55", marker))
        seq += 1
    return arrivals


def delays_over_time(jb: JitterBuffer, arrivals: list[Arrival], until: float) -> dict[int, tuple[float, float]]:
    """(target, current) delay in ms, sampled at every whole second."""
    pops = {round(k * PTIME + 0.001, 3) for k in range(int(until / PTIME) + 1)}
    events = sorted([(a.time, 0, a) for a in arrivals] + [(t, 1, None) for t in pops], key=lambda e: (e[0], e[1]))
    samples: dict[int, tuple[float, float]] = {}
    for time, kind, a in events:
        if a is not None:
            jb.put(a.seq, a.timestamp, a.payload, time, a.marker)
        else:
            jb.pop(time)
            if abs(time - round(time) - 0.001) < 1e-9:
                samples[round(time)] = (jb.target_delay_ms, jb.current_delay_ms)
    return samples


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_jitter_grows_the_delay_and_it_shrinks_back_at_talkspurts(seed: int) -> None:
    jb = JitterBuffer(min_delay_ms=20, max_delay_ms=500, initial_delay_ms=60)
    noisy = jittery(200, 0.030, seed, talkspurt=50)  # 4 s of +-30 ms jitter
    calm = jittery(500, 0.0, seed, start_seq=noisy[-1].seq + 1, start=4.0, talkspurt=50)
    samples = delays_over_time(jb, noisy + calm, until=14.0)
    assert all(samples[t][0] > 60 for t in (2, 3, 4))  # target above 60 ms within 2 s
    assert all(samples[t][1] >= 45 for t in (2, 3, 4))  # and the real delay follows
    assert all(target <= 150 for target, _ in samples.values())
    assert jb.stats.late <= 3
    for t in (10, 12, 14):  # jitter gone: back near the minimum
        target, current = samples[t]
        assert target <= 25
        assert target <= current <= target + 20 + 1
    check_accounting(jb)


def test_jitter_shrinks_back_by_dropping_silent_frames() -> None:
    silent = JitterBuffer(is_silent=lambda payload: payload == b"\x00")
    noisy = jittery(200, 0.030, 7)
    calm = [Arrival(a.time, a.seq, a.timestamp, b"\x00") for a in jittery(500, 0.0, 7, start_seq=200, start=4.0)]
    samples = delays_over_time(silent, noisy + calm, until=14.0)
    assert samples[3][0] > 60
    target, current = samples[14]
    assert target <= 25 and current <= target + 20 + 5
    assert silent.stats.skipped >= 2
    assert silent.stats.lost == 0
    check_accounting(silent)


def test_no_mid_talkspurt_shrinking_without_a_silence_detector() -> None:
    jb = JitterBuffer()
    samples = delays_over_time(jb, jittery(200, 0.030, 7) + jittery(300, 0.0, 7, start_seq=200, start=4.0), 10.0)
    assert jb.stats.skipped == 0
    assert samples[10][1] > samples[10][0] + 20  # delay stays: no talkspurt to shrink at


def test_stalled_playout_clock_catches_up() -> None:
    """The audio device stopped pulling frames for 1 s: skip back to the target delay."""
    jb = JitterBuffer()  # holds at most 50 packets: 1 s of audio
    results = []
    for a in stream(300):
        jb.put(a.seq, a.timestamp, a.payload, a.time)
        pop_time = a.time + 0.011
        if not 1.0 < pop_time < 2.0:
            results.append(jb.pop(pop_time))
            assert jb.current_delay_ms <= 500
    assert jb.current_delay_ms < 100
    # Overdue frames made room for new ones, then were jumped over: no gap.
    assert jb.stats.concealed == 0
    assert jb.stats.overflow > 0 and jb.stats.skipped > 0
    assert jb.stats.played + jb.stats.skipped + jb.stats.lost == 300 - jb.buffered
    check_accounting(jb)


def test_target_is_clamped() -> None:
    jb = JitterBuffer(min_delay_ms=40, max_delay_ms=120, initial_delay_ms=60)
    samples = delays_over_time(jb, jittery(300, 0.2, 3), until=6.0)
    assert max(target for target, _ in samples.values()) <= 120
    jb = JitterBuffer(min_delay_ms=40, max_delay_ms=120, initial_delay_ms=60)
    samples = delays_over_time(jb, jittery(300, 0.0, 3), until=6.0)
    assert samples[6][0] == pytest.approx(40)


# -- resync, overflow, memory -----------------------------------------------------


def test_ssrc_change_resyncs() -> None:
    jb = JitterBuffer()
    a = stream(50, ssrc=1)
    b = stream(50, seq=30000, ts=123456789, start=1.0, ssrc=2)
    results = run(jb, a + b, until=2.5)
    seqs = played(results)
    assert seqs[-50:] == [30000 + i for i in range(50)]
    assert jb.stats.resyncs == 1
    check_accounting(jb)


def test_timestamp_jump_resyncs_after_two_packets() -> None:
    jb = JitterBuffer()
    a = stream(50)
    # Same SSRC, consecutive sequence numbers, timestamps jump by one hour.
    b = [Arrival(x.time, x.seq, x.timestamp) for x in stream(50, seq=50, ts=50 * FRAME + 8000 * 3600, start=1.0)]
    outcomes: list[tuple[int, str]] = []
    results = run(jb, a + b, until=2.5, outcomes=outcomes)
    assert outcomes[50:52] == [(50, "pending"), (51, "buffered")]
    assert played(results)[-50:] == list(range(50, 100))
    assert jb.stats.resyncs == 1 and jb.stats.discarded == 0
    check_accounting(jb)


def test_put_outcomes() -> None:
    jb = JitterBuffer()
    assert jb.put(0, 0, b"a", 0.05) == "buffered"
    assert jb.put(0, 0, b"a", 0.06) == "duplicate"
    assert jb.put(1, 160, b"b", 0.07) == "buffered"
    assert jb.put(9000, 999_999, b"x", 0.08) == "pending"  # far outside the stream
    assert jb.put(2, 320, b"c", 0.09) == "buffered"  # ... and not confirmed
    assert jb.stats.discarded == 1 and jb.stats.resyncs == 0
    assert jb.put(7, 7 * FRAME, b"y", 0.10, ssrc=5) == "buffered"  # first SSRC seen
    assert jb.put(8, 8 * FRAME, b"z", 0.11, ssrc=6) == "buffered"  # new SSRC: resync
    assert jb.stats.resyncs == 1 and jb.stats.flushed == 4
    assert jb.put(9, 9 * FRAME, b"w", 0.12, ssrc=5) == "discarded"  # straggler of the old SSRC
    check_accounting(jb)


def test_overflow_is_bounded() -> None:
    jb = JitterBuffer(max_packets=30)
    for a in stream(200):
        jb.put(a.seq, a.timestamp, a.payload, a.time)
        assert jb.buffered <= 30
    assert jb.stats.overflow == 170
    # The frames kept are the ones that play first.
    results = [jb.pop(0.111 + k * PTIME) for k in range(40)]
    assert [r.seq for r in results if isinstance(r, Frame)][:30] == list(range(30))
    check_accounting(jb)


def test_default_bound_follows_max_delay() -> None:
    jb = JitterBuffer(max_delay_ms=500)
    for a in stream(500):
        jb.put(a.seq, a.timestamp, a.payload, a.time)
    assert jb.buffered == 50


def test_memory_stays_bounded_over_a_long_call() -> None:
    jb = JitterBuffer()
    run(jb, jittery(20_000, 0.02, 11), until=400.2)
    assert jb.stats.played >= 19_900
    assert jb.buffered <= 5
    assert len(jb._seen) <= DUPLICATE_HISTORY  # the duplicate memory is a window


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"clock_rate": 0}, "clock_rate and frame_samples must be positive"),
        ({"frame_samples": -1}, "clock_rate and frame_samples must be positive"),
        ({"min_delay_ms": 80}, "delays must satisfy 0 <= min_delay_ms <= initial_delay_ms <= max_delay_ms"),
        ({"initial_delay_ms": 600}, "delays must satisfy 0 <= min_delay_ms <= initial_delay_ms <= max_delay_ms"),
        ({"max_packets": 0}, "max_packets must be at least 1"),
    ],
)
def test_settings_are_checked(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError) as info:
        JitterBuffer(**kwargs)  # type: ignore[arg-type]
    assert str(info.value) == message


# -- properties --------------------------------------------------------------------


@st.composite
def network(draw: st.DrawFn) -> tuple[list[Arrival], float]:
    """A stream through a bad network: jitter, loss, duplication, reordering,
    silences (DTX: time and timestamp jump, sequence numbers do not), a wrap,
    RFC 4733 event packets (sequence numbers that are not audio)."""
    count = draw(st.integers(1, 150))
    first_seq = draw(st.integers(0, 65535))
    first_ts = draw(st.integers(0, 2**32 - 1))
    arrivals = []
    slot = 0  # 20 ms slots since the start, silences included
    for i in range(count):
        silence = draw(st.integers(1, 30)) if draw(st.integers(0, 29)) == 0 else 0
        slot += silence
        lost = draw(st.integers(0, 19)) == 0
        copies = 0 if lost else 2 if draw(st.integers(0, 19)) == 0 else 1
        event = draw(st.integers(0, 14)) == 0
        for _ in range(copies):
            delay = draw(st.floats(0.0, 0.4, allow_nan=False))
            arrivals.append(Arrival(slot * PTIME + delay, (first_seq + i) % 65536,
                                    (first_ts + slot * FRAME) % 2**32, marker=silence > 0, event=event))
        slot += 1
    return arrivals, slot * PTIME + 1.5


# derandomize: CI must not depend on luck. A random search (seed 2, 300
# examples) once found a stream where span != played + skipped + lost: the
# first frame was dropped as silent before playout began (now
# test_a_silent_first_frame_is_not_dropped_before_playout_begins).  Seeds
# 2-10 with 500-1000 examples each pass since.
@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(network(), st.sampled_from([None, 16]), st.booleans())
def test_accounting_holds_whatever_the_network(
    case: tuple[list[Arrival], float], max_packets: int | None, detector: bool
) -> None:
    arrivals, until = case
    jb = JitterBuffer(max_packets=max_packets, is_silent=(lambda p: True) if detector else None)
    outcomes: list[tuple[int, str]] = []
    results = run(jb, arrivals, until, outcomes)
    s = jb.stats
    audio = [a for a in arrivals if not a.event]
    # Every packet put ends in exactly one place.
    check_accounting(jb)
    assert s.received == len(audio)
    assert s.buffered == 0  # drained
    # Every pop after the start yields a frame or a concealment.
    active = [r for _, r in results if r is not None]
    assert len(active) == s.played + s.concealed
    # Frames come out in sequence order, each once.
    seqs = played(results)
    unwrapped = [(s_ - arrivals[0].seq) % 65536 if arrivals else 0 for s_ in seqs]
    assert unwrapped == sorted(set(unwrapped))
    # Sequence-number accounting: the span played is played + skipped + lost + non-audio.
    if seqs:
        check_span(jb, seqs[0], seqs[-1])
    assert s.non_audio <= len({seq for seq, outcome in outcomes if outcome == "non-audio"})
    # A late packet is never played; duplicates are the extra copies.
    late = {seq for seq, outcome in outcomes if outcome == "late"}
    assert late.isdisjoint(seqs)
    assert s.late == len(late)
    unique = len({a.seq for a in audio})
    assert s.duplicates == len(audio) - unique
    assert s.played + s.late + s.overflow + s.skipped == unique
    # A plain stream never triggers a resync.
    assert (s.resyncs, s.flushed, s.discarded) == (0, 0, 0)


@settings(max_examples=100, deadline=None, database=None)
@given(st.lists(st.tuples(st.integers(0, 65535), st.integers(0, 2**32 - 1), st.floats(0, 100),
                          st.booleans(), st.sampled_from([None, 1, 2])), max_size=60),
       st.lists(st.floats(0, 120), max_size=60))
def test_garbage_input_never_crashes(puts: list[tuple[int, int, float, bool, int | None]], pops: list[float]) -> None:
    jb = JitterBuffer(max_packets=20)
    events = sorted([(t, 0, (seq, ts, m, ssrc)) for seq, ts, t, m, ssrc in puts] + [(t, 1, None) for t in pops],
                    key=lambda e: (e[0], e[1]))
    active = 0
    for time, kind, data in events:
        if data is not None:
            seq, ts, marker, ssrc = data
            jb.put(seq, ts, b"x", time, marker, ssrc)
        else:
            result = jb.pop(time)
            active += result is not None
        check_accounting(jb)
        assert jb.buffered <= 21  # the buffer plus one resync candidate
    assert active == jb.stats.played + jb.stats.concealed
