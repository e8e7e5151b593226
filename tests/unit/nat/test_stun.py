"""The STUN client against the loopback responder, with simulated NATs."""

from __future__ import annotations

import random
import socket
from typing import Any

import pytest

from tui_phone.nat.errors import StunError, StunErrorResponse
from tui_phone.nat.nat_type import NatType, describe_nat
from tui_phone.nat.stun import StunClient, query_stun
from tui_phone.testing.stun_server import NatSimulation, StunServer

PUBLIC = "203.0.113.7"  # TEST-NET-3: only ever a string in a STUN answer, never a destination
FAST: dict[str, Any] = {"rto": 0.02, "tries": 3, "final_wait": 2, "classify_timeout": 0.05}


def _client(server: StunServer, **options: Any) -> StunClient:
    return StunClient(server.address, source=("127.0.0.1", 0), rng=random.Random(5), **{**FAST, **options})


def test_no_nat_is_open_internet() -> None:
    with StunServer() as server:
        result = _client(server).query()
    assert (result.public_ip, result.public_port) == (result.local_ip, result.local_port)
    assert result.nat_type is NatType.OPEN_INTERNET
    assert result.server == f"127.0.0.1:{server.address[1]}"
    assert result.rtt is not None and 0 <= result.rtt < 1
    assert not result.behind_nat
    assert describe_nat(result) == []


def test_public_address_comes_from_xor_mapped_address() -> None:
    with StunServer(xor_only=True, nat=NatSimulation.full_cone(PUBLIC)) as server:
        result = _client(server, classify=False).query()
    assert (result.public_ip, result.public_port) == (PUBLIC, 40000)
    first = server.recorded()[0]
    assert first.rfc5389 is True
    assert result.nat_type is NatType.UNKNOWN
    assert result.detail == "NAT type tests are turned off"


def test_full_cone_nat_reports_the_mapped_address() -> None:
    with StunServer(nat=NatSimulation.full_cone(PUBLIC)) as server:
        result = _client(server).query()
    assert (result.public_ip, result.public_port) == (PUBLIC, 40000)
    assert result.nat_type is NatType.FULL_CONE
    assert result.behind_nat
    assert describe_nat(result) == ["behind NAT: public address 203.0.113.7:40000 is used in Contact and SDP"]


@pytest.mark.parametrize(
    ("nat", "expected"),
    [
        (NatSimulation.restricted_cone(PUBLIC), NatType.RESTRICTED_CONE),
        (NatSimulation.port_restricted_cone(PUBLIC), NatType.PORT_RESTRICTED_CONE),
        (NatSimulation.firewall(), NatType.SYMMETRIC_FIREWALL),
    ],
)
def test_nat_types_by_pystun3(nat: NatSimulation, expected: NatType) -> None:
    with StunServer(nat=nat) as server:
        assert _client(server).query().nat_type is expected


def test_symmetric_nat_is_detected_and_warned_about() -> None:
    with StunServer(nat=NatSimulation.symmetric(PUBLIC)) as server:
        result = _client(server).query()
    assert result.nat_type is NatType.SYMMETRIC
    assert result.public_ip == PUBLIC
    assert "symmetric NAT: calls may have one-way audio; use a TURN relay or an outbound proxy" in describe_nat(result)
    # pystun3 asked the alternate address, which saw another mapping.
    assert any(r.received_on == server.alt_address for r in server.recorded())


def test_server_without_alternate_address_gives_unknown_type() -> None:
    with StunServer(alt_host=None, nat=NatSimulation.full_cone(PUBLIC)) as server:
        result = _client(server).query()
    assert result.nat_type is NatType.UNKNOWN
    assert result.detail == f"STUN server 127.0.0.1:{server.address[1]} offers no RFC 3489 NAT tests (no CHANGED-ADDRESS)"
    assert describe_nat(result)[0].startswith("NAT type unknown: STUN server 127.0.0.1:")


def test_server_ignoring_rfc3489_requests_gives_unknown_type() -> None:
    with StunServer(answer_rfc3489=False, nat=NatSimulation.full_cone(PUBLIC)) as server:
        result = _client(server).query()
    assert result.public_ip == PUBLIC
    assert result.nat_type is NatType.UNKNOWN
    assert result.detail == f"STUN server 127.0.0.1:{server.address[1]} does not answer RFC 3489 requests"


def test_no_answer_raises_after_every_retransmission() -> None:
    with StunServer(silent=True) as server:
        with pytest.raises(StunError) as info:
            _client(server).query()
    assert str(info.value) == f"no answer from STUN server 127.0.0.1:{server.address[1]} after 3 tries"
    assert len(server.recorded()) == 3


def test_seven_tries_by_default_message() -> None:
    with StunServer(silent=True) as server:
        with pytest.raises(StunError, match=r"after 7 tries$"):
            StunClient(server.address, rto=0.002, final_wait=1).query()
    assert len(server.recorded()) == 7


def test_error_response_is_typed() -> None:
    with StunServer(error=(500, "Server Error")) as server:
        with pytest.raises(StunErrorResponse) as info:
            _client(server).query()
    assert info.value.code == 500
    assert str(info.value) == f"STUN server 127.0.0.1:{server.address[1]} answered error 500 Server Error"


def test_disabled_when_no_server_configured() -> None:
    result = query_stun(None)
    assert result.kind == "disabled"
    assert result.nat_type is NatType.DISABLED


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback")
def test_ipv6_on_loopback() -> None:
    with StunServer("::1", None, xor_only=True) as server:
        result = query_stun(server.address, **FAST)
    assert result.public_ip == "::1"
    assert result.server == f"[::1]:{server.address[1]}"
    assert result.nat_type is NatType.OPEN_INTERNET


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback")
def test_ipv6_behind_simulated_nat_is_unknown_type() -> None:
    with StunServer("::1", None, nat=NatSimulation.full_cone("2001:db8::1")) as server:
        result = query_stun(server.address, **FAST)
    assert (result.public_ip, result.public_port) == ("2001:db8::1", 40000)
    assert result.detail == "NAT type tests are IPv4-only (pystun3)"
