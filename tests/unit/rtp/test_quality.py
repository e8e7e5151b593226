"""Tests of tui_phone.rtp.quality: the G.107 E-model, MOS and BurstR.

Reference values are computed here independently from the G.107 formulas
(written out again, in another form) or worked out by hand.
"""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui_phone.rtp.quality import (
    CODEC_IMPAIRMENTS,
    DEFAULT_PARAMETERS,
    EModelParameters,
    LossPatternTracker,
    QualityError,
    QualityEstimator,
    absolute_delay_impairment,
    basic_signal_to_noise,
    codec_impairment,
    delay_impairment,
    e_model,
    e_model_r,
    effective_equipment_impairment,
    mos_from_r,
    simultaneous_impairment,
)
from tui_phone.rtp.stats import ReceiverSnapshot, ReceiverStatistics

DEFAULT_R = 93.2


def hand_idd(ta_ms: float) -> float:
    """G.107 7.4 Idd for the default mT = 100 ms, sT = 1, using log2."""
    if ta_ms <= 100:
        return 0.0
    x = math.log2(ta_ms / 100)
    return 25 * (math.pow(1 + x**6, 1 / 6) - 3 * math.pow(1 + (x / 3) ** 6, 1 / 6) + 2)


# -- Annex B: MOS from R -------------------------------------------------------


def test_mos_reference_points() -> None:
    assert mos_from_r(93.2) == pytest.approx(1 + 0.035 * 93.2 + 93.2 * 33.2 * 6.8 * 7e-6)
    assert mos_from_r(93.2) == pytest.approx(4.41, abs=0.005)
    # R = 50: 1 + 1.75 + 50 * (-10) * 50 * 7e-6 = 2.75 - 0.175
    assert mos_from_r(50) == pytest.approx(2.575, abs=1e-12)
    assert mos_from_r(0) == 1.0
    assert mos_from_r(100) == pytest.approx(4.5)
    assert mos_from_r(-20) == 1.0
    assert mos_from_r(130) == 4.5


def test_mos_does_not_dip_below_one() -> None:
    # The cubic gives 0.989 at R = 3; the scale floor is 1.
    assert 1 + 0.035 * 3 + 3 * (3 - 60) * (100 - 3) * 7e-6 < 1
    assert mos_from_r(3) == 1.0
    assert mos_from_r(6.6) > 1.0


@settings(derandomize=True, database=None)
@given(st.floats(min_value=-50, max_value=150), st.floats(min_value=0, max_value=50))
def test_mos_never_falls_as_r_rises(r: float, step: float) -> None:
    assert mos_from_r(r + step) >= mos_from_r(r)
    assert 1.0 <= mos_from_r(r) <= 4.5


# -- 7.1 to 7.7: R ---------------------------------------------------------------


def test_default_r_is_93_2() -> None:
    result = e_model("G711", 0.0, 1.0, 0.0)
    assert result.r == pytest.approx(DEFAULT_R, abs=0.01)
    assert result.ro == pytest.approx(94.77, abs=0.01)
    assert result.i_s == pytest.approx(1.41, abs=0.01)
    assert result.id == pytest.approx(0.15, abs=0.01)
    assert (result.idd, result.ie_eff, result.a) == (0.0, 0.0, 0.0)
    assert basic_signal_to_noise() == result.ro
    assert simultaneous_impairment() == result.i_s
    assert delay_impairment(0.0) == result.id


def test_g711_no_loss_low_delay() -> None:
    r = e_model_r("PCMU", 0.0, 1.0, 60.0)
    assert r == pytest.approx(DEFAULT_R, abs=0.01)
    assert mos_from_r(r) == pytest.approx(4.41, abs=0.01)


def test_one_percent_random_loss_on_g711_with_plc() -> None:
    ie_eff = effective_equipment_impairment(0.0, 25.1, 1.0, 1.0)
    assert ie_eff == pytest.approx(95 / 26.1)  # 3.6398...
    assert round(ie_eff, 2) == 3.64
    r0 = e_model_r("G711", 0.0, 1.0, 0.0)
    assert e_model_r("G711", 1.0, 1.0, 0.0) == pytest.approx(r0 - 95 / 26.1)


def test_plc_matters() -> None:
    # Without PLC Bpl is 4.3: 1 % loss costs 95/5.3 = 17.9.
    assert e_model("G711-NOPLC", 1.0, 1.0, 0.0).ie_eff == pytest.approx(95 / 5.3)


def test_burstiness_raises_ie_eff() -> None:
    # BurstR 2: 95 * 1 / (1/2 + 25.1)
    assert e_model("G711", 1.0, 2.0, 0.0).ie_eff == pytest.approx(95 / 25.6)
    # G.729A: Ie 11, Bpl 19: 11 + 84 * 2 / (2 + 19) = 19
    assert e_model("G729", 2.0, 1.0, 0.0).ie_eff == pytest.approx(19.0)


def test_delay_300_ms() -> None:
    expected_idd = hand_idd(300)
    assert expected_idd == pytest.approx(14.76, abs=0.01)
    assert absolute_delay_impairment(300) == pytest.approx(expected_idd)
    drop = e_model_r("G711", 0.0, 1.0, 0.0) - e_model_r("G711", 0.0, 1.0, 300.0)
    assert drop == pytest.approx(expected_idd)


def test_idd_is_zero_up_to_100_ms() -> None:
    assert absolute_delay_impairment(0) == 0.0
    assert absolute_delay_impairment(100) == 0.0
    assert absolute_delay_impairment(150) == pytest.approx(hand_idd(150))
    assert absolute_delay_impairment(200) == pytest.approx(hand_idd(200))
    assert absolute_delay_impairment(200) > 0


def test_idd_follows_m_t() -> None:
    params = EModelParameters(m_t=150.0)
    assert absolute_delay_impairment(300, m_t=150.0) == pytest.approx(hand_idd(200))
    assert e_model("G711", 0.0, 1.0, 300.0, parameters=params).idd == pytest.approx(hand_idd(200))


def test_echo_parameters_change_id() -> None:
    echoing = EModelParameters(t=150.0, telr=45.0)
    assert delay_impairment(0.0, echoing) > delay_impairment(0.0, DEFAULT_PARAMETERS) + 10


@settings(derandomize=True, database=None)
@given(
    codec=st.sampled_from(sorted(CODEC_IMPAIRMENTS)),
    loss=st.floats(min_value=0, max_value=50),
    extra_loss=st.floats(min_value=0, max_value=50),
    delay=st.floats(min_value=0, max_value=800),
    extra_delay=st.floats(min_value=0, max_value=800),
    burst_r=st.floats(min_value=1, max_value=8),
)
def test_mos_falls_with_loss_and_delay(
    codec: str, loss: float, extra_loss: float, delay: float, extra_delay: float, burst_r: float
) -> None:
    def mos(loss_pct: float, delay_ms: float) -> float:
        return mos_from_r(e_model_r(codec, loss_pct, burst_r, delay_ms))

    assert mos(loss + extra_loss, delay) <= mos(loss, delay) + 1e-12
    assert mos(loss, delay + extra_delay) <= mos(loss, delay) + 1e-12


def test_input_errors() -> None:
    with pytest.raises(QualityError, match=r"^packet loss must be 0\.\.100 percent, got 101$"):
        e_model_r("G711", 101, 1.0, 0.0)
    with pytest.raises(QualityError, match=r"^BurstR must be positive, got 0$"):
        e_model_r("G711", 1, 0, 0.0)
    with pytest.raises(QualityError, match=r"^one-way delay must not be negative, got -1$"):
        e_model_r("G711", 1, 1, -1)
    assert issubclass(QualityError, ValueError)


# -- codec table -------------------------------------------------------------


def test_codec_table() -> None:
    assert (CODEC_IMPAIRMENTS["G711"].ie, CODEC_IMPAIRMENTS["G711"].bpl) == (0.0, 25.1)
    assert (CODEC_IMPAIRMENTS["G711-NOPLC"].ie, CODEC_IMPAIRMENTS["G711-NOPLC"].bpl) == (0.0, 4.3)
    assert (CODEC_IMPAIRMENTS["G729A"].ie, CODEC_IMPAIRMENTS["G729A"].bpl) == (11.0, 19.0)
    assert all(entry.source for entry in CODEC_IMPAIRMENTS.values())
    with pytest.raises(TypeError):
        CODEC_IMPAIRMENTS["X"] = CODEC_IMPAIRMENTS["G711"]  # type: ignore[index]


def test_codec_names_and_aliases() -> None:
    assert codec_impairment("pcmu") is CODEC_IMPAIRMENTS["G711"]
    assert codec_impairment("PCMA") is CODEC_IMPAIRMENTS["G711"]
    assert codec_impairment("G729") is CODEC_IMPAIRMENTS["G729A"]
    assert codec_impairment("opus") is CODEC_IMPAIRMENTS["OPUS"]
    with pytest.raises(QualityError, match=r"^no E-model impairment figures for codec 'speex'$"):
        codec_impairment("speex")


# -- BurstR from the loss pattern ----------------------------------------------


def test_no_loss_is_random() -> None:
    tracker = LossPatternTracker()
    tracker.record_run(True, 500)
    assert (tracker.p, tracker.q, tracker.burst_r) == (0.0, None, 1.0)


def test_burst_ratio_by_hand() -> None:
    # 10 rounds of 8 received then 2 lost, then 8 received.
    tracker = LossPatternTracker()
    for _ in range(10):
        tracker.record_run(True, 8)
        tracker.record_run(False, 2)
    tracker.record_run(True, 8)
    # received->received: 7 per run * 11 runs = 77, received->lost: 10,
    # lost->lost: 10, lost->received: 10.
    assert (tracker.received_to_received, tracker.received_to_lost) == (77, 10)
    assert (tracker.lost_to_lost, tracker.lost_to_received) == (10, 10)
    p, q = 10 / 87, 10 / 20
    assert tracker.p == pytest.approx(p)
    assert tracker.q == pytest.approx(q)
    assert tracker.burst_r == pytest.approx(1 / (p + q))  # 1.627...


def test_run_equals_single_records() -> None:
    pattern = [True] * 5 + [False] * 3 + [True] + [False] + [True] * 4
    one, runs = LossPatternTracker(), LossPatternTracker()
    for event in pattern:
        one.record(event)
    for event, count in ((True, 5), (False, 3), (True, 1), (False, 1), (True, 4)):
        runs.record_run(event, count)
    assert (one.p, one.q, one.burst_r) == (runs.p, runs.q, runs.burst_r)


def test_random_loss_gives_burst_r_near_one() -> None:
    rng = random.Random(3550)
    tracker = LossPatternTracker()
    for _ in range(200_000):
        tracker.record(rng.random() >= 0.05)
    assert tracker.burst_r == pytest.approx(1.0, abs=0.05)


def test_run_length_error() -> None:
    with pytest.raises(QualityError, match=r"^run length must not be negative, got -3$"):
        LossPatternTracker().record_run(False, -3)


# -- QualityEstimator ------------------------------------------------------------


def _snapshot(lost_every: int | None = None, late: int = 0) -> ReceiverSnapshot:
    stats = ReceiverStatistics(8000)
    for k in range(1001):  # valid from seq 1: 1000 expected
        if lost_every and k % lost_every == lost_every // 2:
            continue
        stats.on_packet(k, k * 160, k * 0.02)
    stats.on_late_packet(late)
    return stats.snapshot(20.0)


def test_estimator_clean_call() -> None:
    estimator = QualityEstimator("PCMU", ptime_ms=20.0)
    estimate = estimator.estimate(_snapshot(), rtt_ms=40.0, jitter_buffer_ms=40.0)
    assert estimate.one_way_delay_ms == pytest.approx(20 + 40 + 20 + 0)
    assert (estimate.loss_pct, estimate.burst_r, estimate.idd) == (0.0, 1.0, 0.0)
    assert estimate.delay_known
    assert estimate.r == pytest.approx(DEFAULT_R, abs=0.01)
    assert estimate.mos == pytest.approx(4.41, abs=0.01)


def test_estimator_counts_late_packets_as_lost() -> None:
    estimate = QualityEstimator("G711").estimate(
        _snapshot(lost_every=100, late=10), rtt_ms=None, jitter_buffer_ms=60.0
    )
    assert estimate.loss_pct == pytest.approx(2.0)  # 10 lost + 10 late of 1000
    assert not estimate.delay_known
    assert estimate.ie_eff == pytest.approx(95 * 2 / (2 + 25.1))


def test_estimator_delay_and_burst() -> None:
    estimator = QualityEstimator("G729", ptime_ms=20.0)
    estimate = estimator.estimate(_snapshot(), rtt_ms=400.0, jitter_buffer_ms=95.0, burst_r=0.5)
    # 200 + 95 + 20 + 5 ms of G.729 look-ahead
    assert estimate.one_way_delay_ms == pytest.approx(320.0)
    assert estimate.idd == pytest.approx(hand_idd(320.0))
    assert estimate.burst_r == 1.0  # below 1 is raised to 1
    assert estimate.r == pytest.approx(DEFAULT_R - 11 - hand_idd(320.0), abs=0.01)


def test_estimator_errors() -> None:
    with pytest.raises(QualityError, match=r"^ptime must not be negative, got -20$"):
        QualityEstimator("G711", ptime_ms=-20)
    with pytest.raises(QualityError, match=r"^jitter buffer delay must not be negative, got -1$"):
        QualityEstimator("G711").estimate(_snapshot(), rtt_ms=None, jitter_buffer_ms=-1)
