"""RTCP transmission interval and scheduler (RFC 3550 6.2, 6.3, A.7)."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from tui_phone.rtp.rtcp_timer import (
    COMPENSATION,
    Reschedule,
    RtcpScheduler,
    RtcpTimerError,
    SendReport,
    deterministic_interval,
    reduced_minimum_interval,
    rtcp_interval,
)

PEER = 0x22222222
OWN = 0x11111111
G711_SESSION_BPS = 80_000  # (160 + 40) octets x 50 packets/s


def _draws(count: int, *, initial: bool, seed: int = 7, minimum: float = 5.0) -> list[float]:
    rng = random.Random(seed).random
    # Two members, both senders: n * C is tiny, so Td is the minimum.
    return [
        rtcp_interval(2, 2, 500.0, True, 100.0, initial, rng, minimum=minimum) for _ in range(count)
    ]


# -- the interval (6.3.1, A.7) -------------------------------------------------


def test_compensation_is_e_minus_three_halves() -> None:
    assert COMPENSATION == pytest.approx(1.21828, abs=1e-5)


def test_interval_mean_is_minimum_over_compensation() -> None:
    draws = _draws(20_000, initial=False)
    mean = sum(draws) / len(draws)
    assert mean == pytest.approx(5.0 / COMPENSATION, rel=0.01)  # 4.104 s


def test_interval_stays_within_the_randomization_bounds() -> None:
    draws = _draws(20_000, initial=False)
    low, high = 0.5 * 5.0 / COMPENSATION, 1.5 * 5.0 / COMPENSATION
    assert low <= min(draws) < low + 0.01
    assert high - 0.01 < max(draws) <= high


def test_interval_is_spread_uniformly() -> None:
    draws = _draws(20_000, initial=False)
    low, high = 0.5 * 5.0 / COMPENSATION, 1.5 * 5.0 / COMPENSATION
    quarters = [0, 0, 0, 0]
    for value in draws:
        quarters[min(int((value - low) / (high - low) * 4), 3)] += 1
    for count in quarters:
        assert count == pytest.approx(5000, rel=0.05)


def test_initial_interval_uses_half_the_minimum() -> None:
    draws = _draws(5000, initial=True)
    assert min(draws) >= 0.5 * 2.5 / COMPENSATION
    assert max(draws) <= 1.5 * 2.5 / COMPENSATION
    assert sum(draws) / len(draws) == pytest.approx(2.5 / COMPENSATION, rel=0.02)


def test_interval_is_reproducible_with_a_seed() -> None:
    assert _draws(50, initial=False, seed=3) == _draws(50, initial=False, seed=3)
    assert _draws(50, initial=False, seed=3) != _draws(50, initial=False, seed=4)


def test_configured_minimum() -> None:
    draws = _draws(1000, initial=False, minimum=1.0)
    assert max(draws) <= 1.5 / COMPENSATION


def test_deterministic_interval_never_below_minimum() -> None:
    assert deterministic_interval(2, 1, 500.0, True, 100.0, 5.0) == 5.0


def test_receivers_share_three_quarters_when_senders_are_few() -> None:
    # 100 members, 10 senders (10 % <= 25 %), RTCP bandwidth 50 octets/s.
    assert deterministic_interval(100, 10, 50.0, False, 100.0, 5.0) == pytest.approx(
        100.0 * 90 / (50.0 * 0.75)
    )


def test_senders_share_one_quarter_when_senders_are_few() -> None:
    assert deterministic_interval(100, 10, 50.0, True, 100.0, 5.0) == pytest.approx(
        100.0 * 10 / (50.0 * 0.25)
    )


def test_everyone_shares_when_senders_are_many() -> None:
    # 4 members, 2 senders: 50 % > 25 %, so n = members and the whole bandwidth.
    assert deterministic_interval(4, 2, 10.0, True, 100.0, 5.0) == pytest.approx(40.0)
    assert deterministic_interval(4, 2, 10.0, False, 100.0, 5.0) == pytest.approx(40.0)


def test_interval_scales_with_membership() -> None:
    small = deterministic_interval(10, 0, 50.0, False, 100.0, 5.0)
    large = deterministic_interval(1000, 0, 50.0, False, 100.0, 5.0)
    assert large == pytest.approx(small * 100)


def test_reduced_minimum() -> None:
    # RFC 3550 6.2: 360 / session bandwidth in kbit/s.
    assert reduced_minimum_interval(80_000) == pytest.approx(4.5)
    assert reduced_minimum_interval(720_000) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: deterministic_interval(0, 0, 1.0, False, 1.0, 5.0), "members must be at least 1, got 0"),
        (lambda: deterministic_interval(2, 3, 1.0, False, 1.0, 5.0), "senders must be within 0-2, got 3"),
        (lambda: deterministic_interval(2, 1, 0.0, False, 1.0, 5.0), "RTCP bandwidth must be positive, got 0.0"),
        (lambda: reduced_minimum_interval(0), "session bandwidth must be positive, got 0"),
        (lambda: RtcpScheduler(1, -1, random.random), "session bandwidth must be positive, got -1"),
        (
            lambda: RtcpScheduler(1, 1000, random.random, bandwidth_fraction=0),
            "bandwidth fraction must be within (0, 1], got 0",
        ),
        (lambda: RtcpScheduler(1, 1000, random.random, minimum=0), "minimum interval must be positive, got 0"),
    ],
)
def test_bad_parameters_are_refused(call: object, message: str) -> None:
    with pytest.raises(RtcpTimerError) as error:
        call()  # type: ignore[operator]
    assert str(error.value) == message


# -- the scheduler (6.3.2-6.3.8) -------------------------------------------------


def _scheduler(seed: int = 11, **kwargs: float) -> RtcpScheduler:
    return RtcpScheduler(OWN, G711_SESSION_BPS, random.Random(seed).random, **kwargs)


def _run_call(scheduler: RtcpScheduler, until: float, *, peer_sends: bool = True) -> list[float]:
    """Two-party call: both send RTP all the time; return the report times."""
    now = scheduler.start(0.0)
    sent = []
    while now < until:
        scheduler.on_rtp_sent(now)
        if peer_sends:
            scheduler.on_rtp_received(PEER, now)
            scheduler.on_rtcp_received(PEER, 100, now)
        outcome = scheduler.on_expire(now)
        if isinstance(outcome, SendReport):
            sent.append(now)
            now = scheduler.report_sent(100, now)
        else:
            assert isinstance(outcome, Reschedule)
            assert outcome.at > now
            now = outcome.at
    return sent


def test_first_report_waits_the_initial_interval() -> None:
    scheduler = _scheduler()
    first = scheduler.start(1000.0)
    assert 1000.0 + 0.5 * 2.5 / COMPENSATION <= first <= 1000.0 + 1.5 * 2.5 / COMPENSATION
    assert scheduler.initial


def test_initial_flag_cleared_by_the_first_report() -> None:
    scheduler = _scheduler()
    now = scheduler.start(0.0)
    assert isinstance(scheduler.on_expire(now + 10), SendReport)
    scheduler.report_sent(100, now + 10)
    assert not scheduler.initial
    assert scheduler.reports_sent == 1


def test_two_party_call_reports_every_five_seconds_on_average() -> None:
    # With timer reconsideration, the e - 3/2 compensation brings the mean
    # gap between reports back to Td = 5 s (RFC 3550 6.3.1 step 5).
    sent = _run_call(_scheduler(), 20_000.0)
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert len(gaps) > 3000
    assert sum(gaps) / len(gaps) == pytest.approx(5.0, rel=0.02)
    assert min(gaps) >= 0.5 * 5.0 / COMPENSATION
    assert max(gaps) <= 1.5 * 5.0 / COMPENSATION


def test_schedule_is_reproducible() -> None:
    assert _run_call(_scheduler(seed=3), 200.0) == _run_call(_scheduler(seed=3), 200.0)


def test_early_expiry_reschedules_at_tp_plus_t() -> None:
    scheduler = _scheduler()
    scheduler.start(0.0)
    outcome = scheduler.on_expire(0.1)  # far too early for any interval
    assert isinstance(outcome, Reschedule)
    assert outcome.at == scheduler.tn
    assert 0.5 * 2.5 / COMPENSATION <= outcome.at <= 1.5 * 2.5 / COMPENSATION


def test_members_and_senders_are_counted() -> None:
    scheduler = _scheduler()
    assert (scheduler.members, scheduler.senders) == (1, 0)
    scheduler.on_rtcp_received(PEER, 100, 0.0)
    assert (scheduler.members, scheduler.senders) == (2, 0)
    scheduler.on_rtp_received(PEER, 0.0)
    scheduler.on_rtp_sent(0.0)
    assert (scheduler.members, scheduler.senders) == (2, 2)
    scheduler.on_rtp_received(OWN, 0.0)  # our own packets looped back do not count
    assert scheduler.members == 2


def test_avg_rtcp_size_moves_by_one_sixteenth() -> None:
    scheduler = _scheduler(avg_rtcp_size=100.0)
    scheduler.on_rtcp_received(PEER, 260, 0.0)
    assert scheduler.avg_rtcp_size == pytest.approx(110.0)
    scheduler.start(0.0)
    scheduler.report_sent(110, 10.0)
    assert scheduler.avg_rtcp_size == pytest.approx(110.0)


def test_we_sent_times_out_after_two_intervals() -> None:
    scheduler = _scheduler()
    now = scheduler.start(0.0)
    scheduler.on_rtp_sent(now - 0.5)
    assert scheduler.we_sent
    scheduler.on_expire(now)
    assert scheduler.we_sent  # RTP 0.5 s ago: well within 2 T
    now = scheduler.report_sent(100, now)
    scheduler.on_expire(now + 30)  # much more than 2 T without RTP
    assert not scheduler.we_sent
    assert scheduler.senders == 0


def test_silent_member_times_out_after_five_intervals() -> None:
    scheduler = _scheduler()
    scheduler.on_rtcp_received(PEER, 100, 0.0)
    now = scheduler.start(0.0)
    scheduler.on_expire(now)
    assert scheduler.members == 2
    scheduler.on_expire(24.0)  # 5 x Td = 25 s not reached
    assert scheduler.members == 2
    scheduler.on_expire(25.5)
    assert scheduler.members == 1


def test_bye_pulls_the_timer_forward() -> None:
    # RFC 3550 6.3.4 reverse reconsideration: 3 members -> 2 moves tn and tp
    # towards now by the ratio 2/3.
    scheduler = _scheduler()
    scheduler.on_rtcp_received(PEER, 100, 0.0)
    scheduler.on_rtcp_received(0x33333333, 100, 0.0)
    first = scheduler.start(0.0)
    scheduler.on_expire(first)
    scheduler.report_sent(100, first)  # pmembers = 3
    tn, tp, now = scheduler.tn, scheduler.tp, first + 1.0
    moved = scheduler.on_bye(0x33333333, now)
    assert moved == pytest.approx(now + 2 / 3 * (tn - now))
    assert scheduler.tp == pytest.approx(now - 2 / 3 * (now - tp))
    assert scheduler.pmembers == 2
    assert scheduler.on_bye(0x44444444, now) is None  # not a member: nothing moves


def test_session_bandwidth_can_change() -> None:
    scheduler = _scheduler()
    scheduler.set_session_bandwidth(16_000)
    assert scheduler.rtcp_bandwidth == pytest.approx(100.0)  # 5 % of 16 kbit/s in octets


def test_report_size_must_be_positive() -> None:
    scheduler = _scheduler()
    scheduler.start(0.0)
    with pytest.raises(RtcpTimerError, match=r"^RTCP packet size must be positive, got 0$"):
        scheduler.report_sent(0, 1.0)


def test_interval_formula_matches_a7_by_hand() -> None:
    # rng returning 0.5 gives exactly Td / COMPENSATION.
    assert rtcp_interval(2, 2, 500.0, True, 100.0, False, lambda: 0.5) == pytest.approx(
        5.0 / (math.e - 1.5)
    )
