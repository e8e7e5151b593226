"""tui_phone.audio.mixer: N-1 conference mixing, saturation, mixed rates, silence."""

from __future__ import annotations

import array
import itertools
import math
import random
import sys
from collections.abc import Hashable
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui_phone.audio.errors import AudioUsageError
from tui_phone.audio import mixer as mixer_module
from tui_phone.audio.mixer import FAST_FROM, ConferenceMixer

TONES = {"alice": 400, "bob": 1000, "carol": 1800}
KERNELS = ["audioop", "numpy"]  # both, explicitly: "auto" would pick one on a thread


def run(mixer: ConferenceMixer[str], signals: SimpleNamespace, ticks: int, rates: dict[str, int]) -> dict[str, list[int]]:
    heard: dict[str, list[int]] = {pid: [] for pid in rates}
    for tick in range(ticks):
        for pid, rate in rates.items():
            frame = rate * mixer.frame_ms // 1000
            mixer.push(pid, signals.sine(TONES[pid], rate, frame, amplitude=5000, start=tick * frame))
        for pid, pcm in mixer.mix().items():
            heard[pid].extend(signals.samples(pcm))
    return heard


def test_each_hears_the_others_but_not_itself(signals: SimpleNamespace) -> None:
    mixer: ConferenceMixer[str] = ConferenceMixer(8000)
    rates = {pid: 8000 for pid in TONES}
    for pid in rates:
        mixer.add(pid, 8000)
    heard = run(mixer, signals, 25, rates)
    for pid, values in heard.items():
        assert len(values) == 25 * 160
        window = values[800:4000]
        for other, freq in TONES.items():
            level = signals.goertzel(window, freq, 8000)
            if other == pid:
                assert level < 50, (pid, other)
            else:
                assert level == pytest.approx(5000, rel=0.02), (pid, other)


def test_same_rate_mixing_is_exact(signals: SimpleNamespace) -> None:
    mixer: ConferenceMixer[str] = ConferenceMixer(8000)
    for pid in "abc":
        mixer.add(pid, 8000)
    mixer.push("a", signals.pcm([100, -200] * 80))
    mixer.push("b", signals.pcm([10, 20] * 80))
    mixer.push("c", signals.pcm([1, 2] * 80))
    out = mixer.mix()
    assert signals.samples(out["a"])[:2] == [11, 22]
    assert signals.samples(out["b"])[:2] == [101, -198]
    assert signals.samples(out["c"])[:2] == [110, -180]


def test_saturates_instead_of_wrapping(signals: SimpleNamespace) -> None:
    mixer: ConferenceMixer[str] = ConferenceMixer(8000)
    for pid in ("loud1", "loud2", "quiet", "listener"):
        mixer.add(pid, 8000)
    mixer.push("loud1", signals.pcm([30000, -30000] * 80))
    mixer.push("loud2", signals.pcm([30000, -30000] * 80))
    mixer.push("quiet", signals.pcm([-25000, 25000] * 80))
    out = mixer.mix()
    # 30000 + 30000 - 25000 = 35000 would clip in any 16-bit intermediate;
    # summing wide and clipping once gives the true 32767 bound only where due.
    assert signals.samples(out["listener"])[:2] == [32767, -32768]
    assert signals.samples(out["quiet"])[:2] == [32767, -32768]
    assert signals.samples(out["loud1"])[:2] == [5000, -5000]


def test_result_does_not_depend_on_participant_order(signals: SimpleNamespace) -> None:
    frames = {"a": [30000] * 160, "b": [30000] * 160, "c": [-30000] * 160, "d": [0] * 160}
    results = set()
    for order in itertools.permutations(frames):
        mixer: ConferenceMixer[str] = ConferenceMixer(8000)
        for pid in order:
            mixer.add(pid, 8000)
            mixer.push(pid, signals.pcm(frames[pid]))
        results.add(mixer.mix()["d"])
    assert len(results) == 1
    assert signals.samples(results.pop())[0] == 30000


def test_missing_participant_contributes_silence(signals: SimpleNamespace) -> None:
    mixer: ConferenceMixer[str] = ConferenceMixer(16000)
    mixer.add("talker", 16000)
    mixer.add("mute", 16000)
    mixer.add("listener", 16000)
    mixer.push("talker", signals.pcm([1000] * 320))
    out = mixer.mix()
    assert signals.samples(out["listener"]) == [1000] * 320
    assert signals.samples(out["talker"]) == [0] * 320
    assert mixer.stats("mute").silent_ticks == 1
    assert mixer.stats("listener").silent_ticks == 1
    assert mixer.stats("talker").silent_ticks == 0


def test_participants_at_different_rates(signals: SimpleNamespace) -> None:
    rates = {"alice": 8000, "bob": 16000, "carol": 48000}
    mixer: ConferenceMixer[str] = ConferenceMixer(16000)
    for pid, rate in rates.items():
        mixer.add(pid, rate)
        assert mixer.frame_samples_for(pid) == rate // 50
    heard = run(mixer, signals, 50, rates)
    for pid, rate in rates.items():
        values = heard[pid]
        assert len(values) == 50 * rate // 50  # one whole frame per tick at its own rate
        window = values[rate // 5 : rate // 5 + rate // 2]
        for other, freq in TONES.items():
            level = signals.goertzel(window, freq, rate)
            if other == pid:
                assert level < 150, (pid, other)
            else:
                assert level == pytest.approx(5000, rel=0.1), (pid, other)


def test_no_clicks_at_frame_edges_across_rates(signals: SimpleNamespace) -> None:
    # A 48 kHz talker heard at 8 kHz through a 16 kHz conference: the listener's
    # stream must be as smooth inside frames as across their edges.
    mixer: ConferenceMixer[str] = ConferenceMixer(16000)
    mixer.add("talker", 48000)
    mixer.add("listener", 8000)
    values: list[int] = []
    for tick in range(50):
        mixer.push("talker", signals.sine(440, 48000, 960, amplitude=8000, start=960 * tick))
        values.extend(signals.samples(mixer.mix()["listener"]))
    steady = values[800:]
    jumps = [abs(b - a) for a, b in itertools.pairwise(steady)]
    # A clean 440 Hz sine of amplitude 8000 at 8 kHz moves at most 2 A sin(pi f / rate) per sample.
    clean = 2 * 8000 * math.sin(math.pi * 440 / 8000)
    edges = [jumps[i - 1] for i in range(160, len(steady) - 1, 160)]
    assert max(edges) < clean * 1.05
    assert max(jumps) < clean * 1.05


def test_too_much_input_drops_oldest(signals: SimpleNamespace) -> None:
    mixer: ConferenceMixer[str] = ConferenceMixer(8000, max_frames=2)
    mixer.add("a", 8000)
    mixer.add("b", 8000)
    for value in (1, 2, 3):
        mixer.push("a", signals.pcm([value] * 160))
    assert mixer.stats("a").dropped_samples == 160
    assert signals.samples(mixer.mix()["b"])[0] == 2


def test_membership() -> None:
    mixer: ConferenceMixer[Hashable] = ConferenceMixer()
    assert mixer.mix() == {}
    mixer.add("a", 8000)
    mixer.add(("call", 2), 48000)
    assert "a" in mixer and len(mixer) == 2
    assert mixer.participants == ["a", ("call", 2)]
    mixer.remove("a")
    assert mixer.participants == [("call", 2)]
    assert mixer.mix() == {("call", 2): bytes(1920)}
    with pytest.raises(AudioUsageError) as info:
        mixer.push("a", bytes(320))
    assert str(info.value) == "no participant 'a' in the conference"
    with pytest.raises(AudioUsageError, match=r"participant \('call', 2\) is already in the conference"):
        mixer.add(("call", 2), 8000)
    with pytest.raises(AudioUsageError, match="no participant 'x'"):
        mixer.remove("x")


def test_bad_configuration() -> None:
    with pytest.raises(AudioUsageError) as info:
        ConferenceMixer(44100)
    assert str(info.value) == "conference rate must be 8000, 16000 or 48000 Hz, not 44100"
    with pytest.raises(AudioUsageError, match="frame length 0 ms does not fit 8000 Hz"):
        ConferenceMixer(8000, 0)
    mixer: ConferenceMixer[str] = ConferenceMixer(16000, frame_ms=10)
    with pytest.raises(AudioUsageError, match="participant rate 44050 Hz has no whole 10 ms frames"):
        mixer.add("x", 44050)


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("parties", [1, 2, 3, 5, 8, 18, 19])
@pytest.mark.parametrize("amplitude", [300, 3000, 32768])
def test_matches_a_plain_saturating_sum(signals: SimpleNamespace, parties: int, amplitude: int, kernel: str) -> None:
    # Quiet frames take the narrow path, loud ones the wide path, some ticks
    # mix both; every sample must be clip16(sum of the others), exactly.
    rng = random.Random(f"{parties}/{amplitude}")
    mixer: ConferenceMixer[int] = ConferenceMixer(8000, kernel=kernel)
    for pid in range(parties):
        mixer.add(pid, 8000)
    for _ in range(20):
        frames = [[rng.randint(-amplitude, amplitude - 1) for _ in range(160)] for _ in range(parties)]
        frames[0][:4] = [-32768, 32767, -32768, 0]  # the extremes, negation included
        for pid, values in enumerate(frames):
            mixer.push(pid, signals.pcm(values))
        out = mixer.mix()
        totals = [sum(column) for column in zip(*frames)]
        for pid, values in enumerate(frames):
            expected = [max(-32768, min(32767, total - own)) for total, own in zip(totals, values)]
            assert signals.samples(out[pid]) == expected, pid


def test_pushes_of_any_size_at_the_conference_rate(signals: SimpleNamespace) -> None:
    # Whole frames skip the FIFO; halves, a bytearray and a backlog go through it, in order.
    mixer: ConferenceMixer[str] = ConferenceMixer(8000)
    mixer.add("talker", 8000)
    mixer.add("listener", 8000)
    mixer.push("talker", signals.pcm([1] * 80))
    mixer.push("talker", bytearray(signals.pcm([2] * 80)))
    assert signals.samples(mixer.mix()["listener"]) == [1] * 80 + [2] * 80
    mixer.push("talker", signals.pcm([3] * 160))
    mixer.push("talker", signals.pcm([4] * 160))
    assert signals.samples(mixer.mix()["listener"]) == [3] * 160
    mixer.push("talker", signals.pcm([5] * 160))  # behind the queued 4s
    assert signals.samples(mixer.mix()["listener"]) == [4] * 160
    assert signals.samples(mixer.mix()["listener"]) == [5] * 160
    assert signals.samples(mixer.mix()["listener"]) == [0] * 160
    assert mixer.stats("talker").silent_ticks == 1
    with pytest.raises(AudioUsageError, match="PCM of 3 bytes is not a whole number"):
        mixer.push("talker", bytes(3))


def test_silent_participants_are_left_out_and_hear_everyone(signals: SimpleNamespace) -> None:
    # Two talkers, one pushing digital silence, one pushing nothing at all.
    mixer: ConferenceMixer[str] = ConferenceMixer(8000)
    for pid in ("a", "b", "zeros", "absent"):
        mixer.add(pid, 8000)
    mixer.push("a", signals.pcm([30000, -5] * 80))
    mixer.push("b", signals.pcm([30000, 7] * 80))
    mixer.push("zeros", bytes(320))
    out = mixer.mix()
    assert signals.samples(out["a"])[:2] == [30000, 7]
    assert signals.samples(out["b"])[:2] == [30000, -5]
    assert signals.samples(out["zeros"])[:2] == [32767, 2] == signals.samples(out["absent"])[:2]
    assert mixer.stats("absent").silent_ticks == 1 and mixer.stats("zeros").silent_ticks == 0


# Loud frames: the extremes, values whose sums clip, quiet ones; some
# participants push silence or nothing.
_loud_sample = st.one_of(
    st.sampled_from([-32768, -32767, 0, 32766, 32767]),
    st.integers(-32768, 32767),
    st.integers(-12000, 12000),
)


@pytest.mark.parametrize("kernel", KERNELS)
@settings(max_examples=100, deadline=None, derandomize=True)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.just([0] * 160),
            st.lists(_loud_sample, min_size=160, max_size=160),
            st.tuples(st.integers(-32768, 32767), st.integers(-32768, 32767)).map(lambda pair: list(pair) * 80),
        ),
        min_size=1,
        max_size=18,
    ),
    st.integers(1, 3),
)
def test_every_tick_matches_a_plain_python_reference(
    kernel: str, frames: list[list[int] | None], ticks: int
) -> None:
    """Each participant hears clip16(sum of the others), summed in Python ints: never wrapped."""
    mixer: ConferenceMixer[int] = ConferenceMixer(8000, kernel=kernel)
    for pid in range(len(frames)):
        mixer.add(pid, 8000)
    for tick in range(ticks):
        pushed = [None if frame is None else frame[tick:] + frame[:tick] for frame in frames]
        for pid, values in enumerate(pushed):
            if values is not None:
                mixer.push(pid, array.array("h", values).tobytes())
        out = mixer.mix()
        columns = list(zip(*[values or [0] * 160 for values in pushed]))
        totals = [sum(column) for column in columns]
        for pid, values in enumerate(pushed):
            own = values or [0] * 160
            expected = [max(-32768, min(32767, total - mine)) for total, mine in zip(totals, own)]
            heard = array.array("h")
            heard.frombytes(out[pid])
            assert heard.tolist() == expected, (tick, pid)


# -- choosing the kernel ------------------------------------------------------------


def test_auto_keeps_audioop_for_small_conferences_and_loads_numpy_off_thread(signals: SimpleNamespace) -> None:
    mixer: ConferenceMixer[int] = ConferenceMixer(8000)
    for pid in range(FAST_FROM - 1):
        mixer.add(pid, 8000)
    assert mixer.wait_for_kernel(0) == "audioop"
    assert mixer._loader is None  # no helper thread, no numpy import
    mixer.add(FAST_FROM - 1, 8000)
    assert mixer.wait_for_kernel(30) == "numpy"
    frames = [[1000 * (pid + 1)] * 160 for pid in range(FAST_FROM)]
    for pid, values in enumerate(frames):
        mixer.push(pid, signals.pcm(values))
    out = mixer.mix()
    total = sum(frame[0] for frame in frames)
    assert [signals.samples(out[pid])[0] for pid in range(FAST_FROM)] == [total - frame[0] for frame in frames]
    mixer.remove(0)  # below FAST_FROM again: audioop, which is faster there
    assert mixer.kernel == "audioop"


def test_auto_without_numpy_stays_on_audioop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mixer_module.importlib.util, "find_spec", lambda name: None)
    mixer: ConferenceMixer[int] = ConferenceMixer(8000)
    for pid in range(FAST_FROM + 3):
        mixer.add(pid, 8000)
    assert mixer.wait_for_kernel(30) == "audioop"


def test_a_numpy_that_does_not_import_is_logged_and_audioop_stays(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "tui_phone.audio.mixminus_numpy", None)  # import fails
    mixer: ConferenceMixer[int] = ConferenceMixer(8000)
    for pid in range(FAST_FROM):
        mixer.add(pid, 8000)
    assert mixer.wait_for_kernel(30) == "audioop"
    assert "the numpy mixer kernel needs numpy" in caplog.text and "mixing with audioop" in caplog.text
    with pytest.raises(AudioUsageError, match=r"numpy mixer kernel needs numpy .*pip install 'tui-phone\[fast\]'"):
        ConferenceMixer(8000, kernel="numpy")


def test_explicit_kernels() -> None:
    assert ConferenceMixer(8000, kernel="numpy").kernel == "numpy"
    audioop_only: ConferenceMixer[int] = ConferenceMixer(8000, kernel="audioop")
    for pid in range(FAST_FROM + 3):
        audioop_only.add(pid, 8000)
    assert audioop_only.wait_for_kernel(0) == "audioop"
    with pytest.raises(AudioUsageError, match="mixer kernel must be one of auto, audioop, numpy, not 'c'"):
        ConferenceMixer(8000, kernel="c")
