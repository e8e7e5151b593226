"""The user-space impairment relay: seeded decisions, and the relay on a fake reactor."""

from __future__ import annotations

import itertools
import random

import pytest

from tui_phone.testing.fakereactor import FakeReactor, FakeUdpPort
from tui_phone.testing.impairment import (
    CLEAN,
    ImpairmentError,
    ImpairmentModel,
    ImpairmentProfile,
    ImpairmentRelay,
)

HOST = "127.0.0.1"
TARGET = (HOST, 30000)
CLIENT = (HOST, 30002)
LOSSY = ImpairmentProfile(loss=0.03, duplicate=0.01, reorder=0.02, jitter_ms=15.0)


def _decisions(profile: ImpairmentProfile, count: int, seed: int = 1) -> ImpairmentModel:
    model = ImpairmentModel(profile, random.Random(seed))
    for _ in range(count):
        model.decide()
    return model


# -- the model ----------------------------------------------------------------------


def test_clean_profile_forwards_everything_at_once() -> None:
    model = _decisions(CLEAN, 100)
    assert all(d.delays == (0.0,) for d in model.log)
    assert model.counters.sent == 100 and model.counters.dropped == 0


def test_rates_follow_the_profile() -> None:
    counters = _decisions(LOSSY, 20_000).counters
    assert counters.received == 20_000
    assert counters.dropped == pytest.approx(600, rel=0.15)
    assert counters.duplicated == pytest.approx(0.01 * 0.97 * 20_000, rel=0.2)
    assert counters.reordered == pytest.approx(0.02 * 0.97 * 20_000, rel=0.15)
    assert counters.sent == counters.received - counters.dropped + counters.duplicated


def test_decisions_are_reproducible() -> None:
    assert _decisions(LOSSY, 500, seed=4).log == _decisions(LOSSY, 500, seed=4).log
    assert _decisions(LOSSY, 500, seed=4).log != _decisions(LOSSY, 500, seed=5).log


def test_delays_are_within_delay_plus_jitter() -> None:
    profile = ImpairmentProfile(delay_ms=10.0, jitter_ms=15.0)
    delays = [d.delays[0] for d in _decisions(profile, 5000).log]
    assert 0.010 <= min(delays) < 0.0105 and 0.0245 < max(delays) <= 0.025


def test_reordered_packets_are_held_back_and_duplicates_follow() -> None:
    profile = ImpairmentProfile(reorder=0.5, duplicate=0.5, reorder_delay_ms=45.0, duplicate_gap_ms=1.0)
    for decision in _decisions(profile, 200).log:
        if decision.reordered:
            assert decision.delays[0] == pytest.approx(0.045)
        if decision.duplicated:
            assert len(decision.delays) == 2
            assert decision.delays[1] - decision.delays[0] == pytest.approx(0.001)


def test_clean_first_packets_are_left_in_order() -> None:
    profile = ImpairmentProfile(loss=1.0, clean_first=5)
    model = _decisions(profile, 8)
    assert [d.dropped for d in model.log] == [False] * 5 + [True] * 3


def test_changing_the_profile_does_not_shift_later_decisions() -> None:
    steady = _decisions(LOSSY, 300, seed=9)
    switched = ImpairmentModel(LOSSY, random.Random(9))
    for index in range(300):
        if index == 100:
            switched.profile = LOSSY.without_disorder()
        switched.decide()
    compared = 0
    for a, b in zip(steady.log[100:], switched.log[100:], strict=True):
        assert not (b.dropped or b.duplicated or b.reordered)
        if not a.dropped:  # same jitter draw for the same packet
            assert b.delays[0] == pytest.approx(a.delays[0] - (0.045 if a.reordered else 0.0))
            compared += 1
    assert compared > 150


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"loss": 1.5}, "loss probability must be within 0-1, got 1.5"),
        ({"reorder": -0.1}, "reorder probability must be within 0-1, got -0.1"),
        ({"jitter_ms": -1.0}, "jitter_ms must not be negative, got -1.0"),
        ({"clean_first": -1}, "clean_first must not be negative, got -1"),
    ],
)
def test_bad_profiles(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ImpairmentError) as error:
        ImpairmentProfile(**kwargs)  # type: ignore[arg-type]
    assert str(error.value) == message


# -- the relay ----------------------------------------------------------------------------


def _relay(forward: ImpairmentProfile, backward: ImpairmentProfile = CLEAN) -> tuple[FakeReactor, ImpairmentRelay, FakeUdpPort]:
    reactor = FakeReactor()
    relay = ImpairmentRelay(TARGET, forward, backward=backward, seed=3, reactor=reactor)
    relay.start(HOST)
    return reactor, relay, reactor.udp_ports[-1]


def test_relay_forwards_to_the_target_and_back_to_the_client() -> None:
    _, relay, port = _relay(CLEAN)
    port.receive(b"hello", CLIENT)
    port.receive(b"reply", TARGET)
    assert port.sent == [(b"hello", TARGET), (b"reply", CLIENT)]
    assert relay.client == CLIENT
    assert relay.address == (HOST, port.getHost().port)


def test_reply_before_any_client_is_dropped() -> None:
    _, _, port = _relay(CLEAN)
    port.receive(b"reply", TARGET)
    assert port.sent == []


def test_relay_delays_by_the_decided_amount() -> None:
    reactor, relay, port = _relay(ImpairmentProfile(delay_ms=30.0))
    port.receive(b"one", CLIENT)
    reactor.advance(0.029)
    assert port.sent == []
    reactor.advance(0.002)
    assert port.sent == [(b"one", TARGET)]
    assert relay.forward.counters.sent == 1


def test_relay_reorders_drops_and_duplicates() -> None:
    profile = ImpairmentProfile(loss=0.2, duplicate=0.1, reorder=0.1, jitter_ms=5.0)
    reactor, relay, port = _relay(profile)
    for index in range(200):
        port.receive(index.to_bytes(2, "big"), CLIENT)
        reactor.advance(0.02)
    reactor.advance(1.0)
    got = [int.from_bytes(data, "big") for data, _ in port.sent]
    counters = relay.forward.counters
    assert len(got) == counters.sent == 200 - counters.dropped + counters.duplicated
    assert len(set(got)) == 200 - counters.dropped
    assert len(got) - len(set(got)) == counters.duplicated > 0
    assert any(b < a for a, b in itertools.pairwise(got))  # something overtook


def test_backward_direction_has_its_own_profile() -> None:
    _reactor, relay, port = _relay(CLEAN, ImpairmentProfile(loss=1.0))
    port.receive(b"a", CLIENT)
    port.receive(b"b", TARGET)
    assert port.sent == [(b"a", TARGET)]
    assert relay.backward.counters.dropped == 1
    relay.set_backward_profile(CLEAN)
    port.receive(b"c", TARGET)
    assert port.sent[-1] == (b"c", CLIENT)


def test_stop_drops_what_is_in_flight() -> None:
    reactor, relay, port = _relay(ImpairmentProfile(delay_ms=50.0))
    port.receive(b"late", CLIENT)
    relay.stop()
    reactor.advance(1.0)
    assert port.sent == [] and not port.listening
    assert reactor.getDelayedCalls() == []


def test_set_forward_profile_applies_to_the_next_packet() -> None:
    _, relay, port = _relay(ImpairmentProfile(loss=1.0))
    port.receive(b"x", CLIENT)
    relay.set_forward_profile(CLEAN)
    port.receive(b"y", CLIENT)
    assert port.sent == [(b"y", TARGET)]


@pytest.mark.parametrize("host", ["192.0.2.1", "10.0.0.1", "example.com"])
def test_only_loopback(host: str) -> None:
    with pytest.raises(ImpairmentError) as error:
        ImpairmentRelay((host, 5000), reactor=FakeReactor())
    assert str(error.value) == f"the impairment relay only works on loopback addresses, not {host!r}"
    relay = ImpairmentRelay(TARGET, reactor=FakeReactor())
    with pytest.raises(ImpairmentError):
        relay.start(host)


def test_address_before_start() -> None:
    with pytest.raises(ImpairmentError, match=r"^the relay is not started$"):
        _ = ImpairmentRelay(TARGET, reactor=FakeReactor()).address
