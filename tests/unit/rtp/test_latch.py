"""SymmetricLatch: which packets are the peer's, and where to send (RFC 4961)."""

from __future__ import annotations

from tui_phone.rtp.latch import Accepted, Stranger, SymmetricLatch

SIGNALLED = ("127.0.0.1", 40000)
NATTED = ("127.0.0.1", 50002)
OTHER = ("127.0.0.1", 50004)
PEER_SSRC = 0x1234
PCMU = frozenset({0, 101})


def test_packet_from_the_signalled_address_does_not_latch() -> None:
    latch = SymmetricLatch(SIGNALLED, PCMU)
    assert latch.check(PEER_SSRC, 0, SIGNALLED) == Accepted(latched=False, new_source=True)
    assert latch.destination == SIGNALLED
    assert not latch.latched and not latch.mismatch
    assert latch.remote_ssrc == PEER_SSRC


def test_first_valid_packet_from_elsewhere_latches() -> None:
    latch = SymmetricLatch(SIGNALLED, PCMU)
    assert latch.check(PEER_SSRC, 0, NATTED) == Accepted(latched=True, new_source=True)
    assert latch.destination == NATTED
    assert latch.signalled == SIGNALLED  # kept for reporting
    assert latch.latched and latch.mismatch and latch.latch_count == 1
    assert latch.check(PEER_SSRC, 0, NATTED) == Accepted(latched=False, new_source=False)


def test_unexpected_payload_type_is_a_stranger_and_does_not_latch() -> None:
    latch = SymmetricLatch(SIGNALLED, PCMU)
    assert latch.check(PEER_SSRC, 8, NATTED) == Stranger("payload-type")
    assert latch.destination == SIGNALLED
    assert latch.remote_ssrc is None


def test_other_ssrc_from_another_address_is_a_stranger() -> None:
    latch = SymmetricLatch(SIGNALLED, PCMU)
    latch.check(PEER_SSRC, 0, NATTED)
    assert latch.check(0x9999, 0, OTHER) == Stranger("ssrc")
    assert latch.destination == NATTED
    assert latch.remote_ssrc == PEER_SSRC


def test_known_ssrc_from_a_new_address_latches_again() -> None:
    latch = SymmetricLatch(SIGNALLED, PCMU)
    latch.check(PEER_SSRC, 0, NATTED)
    assert latch.check(PEER_SSRC, 0, OTHER) == Accepted(latched=True, new_source=False)
    assert latch.destination == OTHER
    assert latch.latch_count == 2


def test_new_ssrc_from_the_peer_address_is_a_restart() -> None:
    latch = SymmetricLatch(SIGNALLED, PCMU)
    latch.check(PEER_SSRC, 0, NATTED)
    assert latch.check(0x5678, 0, NATTED) == Accepted(latched=False, new_source=True)
    assert latch.remote_ssrc == 0x5678
    assert latch.ssrc_changes == 1


def test_new_ssrc_from_the_signalled_address_before_any_latch() -> None:
    latch = SymmetricLatch(SIGNALLED, PCMU)
    latch.check(PEER_SSRC, 0, SIGNALLED)
    assert isinstance(latch.check(0x5678, 0, SIGNALLED), Accepted)
    assert latch.check(0x7777, 0, NATTED) == Stranger("ssrc")


def test_any_payload_type_when_none_negotiated() -> None:
    latch = SymmetricLatch(SIGNALLED, None)
    assert isinstance(latch.check(PEER_SSRC, 96, SIGNALLED), Accepted)


def test_rtcp_has_no_payload_type_check() -> None:
    latch = SymmetricLatch(SIGNALLED, PCMU)
    assert latch.check(PEER_SSRC, None, NATTED) == Accepted(latched=True, new_source=True)


def test_latching_disabled_keeps_the_destination() -> None:
    latch = SymmetricLatch(SIGNALLED, PCMU, enabled=False)
    assert latch.check(PEER_SSRC, 0, NATTED) == Accepted(latched=False, new_source=True)
    assert latch.destination == SIGNALLED
    assert latch.check(0x9999, 0, OTHER) == Stranger("ssrc")


def test_no_signalled_address_yet() -> None:
    latch = SymmetricLatch(None, PCMU)
    assert not latch.mismatch
    assert latch.check(PEER_SSRC, 0, NATTED).latched  # type: ignore[union-attr]
    assert latch.destination == NATTED
    assert not latch.mismatch  # nothing was signalled to disagree with


def test_new_sdp_resets_the_destination() -> None:
    latch = SymmetricLatch(SIGNALLED, PCMU)
    latch.check(PEER_SSRC, 0, NATTED)
    latch.set_signalled(OTHER)
    assert latch.destination == OTHER and not latch.mismatch
    latch.set_payload_types(frozenset({8}))
    assert latch.check(PEER_SSRC, 0, OTHER) == Stranger("payload-type")
