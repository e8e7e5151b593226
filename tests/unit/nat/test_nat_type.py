"""NAT warnings and the address to advertise in Contact and SDP."""

from __future__ import annotations

from tui_phone.nat.nat_type import NatType, StunResult, advertised_address, describe_nat, pystun3_nat_type


def _result(nat_type: NatType, public: tuple[str, int] = ("203.0.113.7", 40000)) -> StunResult:
    return StunResult(public[0], public[1], nat_type, "127.0.0.1:3478", 0.01, "192.168.1.20", 5060)


def test_disabled_result() -> None:
    result = StunResult.disabled()
    assert result.kind == "disabled"
    assert describe_nat(result) == []
    assert advertised_address(result, "192.168.1.20", 5060) == ("192.168.1.20", 5060)


def test_symmetric_nat_warns() -> None:
    assert describe_nat(_result(NatType.SYMMETRIC)) == [
        "symmetric NAT: calls may have one-way audio; use a TURN relay or an outbound proxy"
    ]


def test_full_cone_says_public_address_is_used() -> None:
    assert describe_nat(_result(NatType.FULL_CONE)) == [
        "behind NAT: public address 203.0.113.7:40000 is used in Contact and SDP"
    ]


def test_blocked_warns() -> None:
    assert describe_nat(_result(NatType.BLOCKED)) == [
        "no UDP answer from STUN server 127.0.0.1:3478: UDP may be blocked; calls will likely fail"
    ]


def test_advertised_address_same_socket_uses_public_port() -> None:
    assert advertised_address(_result(NatType.FULL_CONE), "192.168.1.20", 5060) == ("203.0.113.7", 40000)


def test_advertised_address_other_socket_keeps_local_port() -> None:
    assert advertised_address(_result(NatType.RESTRICTED_CONE), "192.168.1.20", 10000) == ("203.0.113.7", 10000)


def test_advertised_address_symmetric_keeps_local() -> None:
    assert advertised_address(_result(NatType.SYMMETRIC), "192.168.1.20", 5060) == ("192.168.1.20", 5060)


def test_no_nat_keeps_local() -> None:
    result = _result(NatType.OPEN_INTERNET, ("192.168.1.20", 5060))
    assert not result.behind_nat
    assert advertised_address(result, "192.168.1.20", 5060) == ("192.168.1.20", 5060)


def test_pystun3_names() -> None:
    assert pystun3_nat_type("Symmetric NAT") is NatType.SYMMETRIC
    assert pystun3_nat_type("Restric Port NAT") is NatType.PORT_RESTRICTED_CONE
    assert pystun3_nat_type("Meet an error, when do Test1 on Changed IP and Port") is NatType.UNKNOWN
