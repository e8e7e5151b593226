"""A Phone with [nat] against the loopback STUN server and fake IGD, each scenario in
its own interpreter (tui_phone.testing.nat_scenarios)."""

from __future__ import annotations

from typing import Any

from tui_phone.testing.scenario_tools import run_scenario

PUBLIC = "203.0.113.9"


def scenario(name: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    return run_scenario(name, args, module="tui_phone.testing.nat_scenarios", timeout=60)


def test_full_cone_puts_the_public_address_in_contact_and_sdp() -> None:
    result = scenario("stun", {"nat": "full_cone"})
    port = result["sip_port"]
    # Port-preserving NAT assumed for the SIP and RTP sockets (STUN asked from its own socket).
    assert result["register_contact"] == [f"Contact: <sip:alice@{PUBLIC}:{port}>"]
    assert result["invite_contact"] == [f"Contact: <sip:alice@{PUBLIC}:{port}>"]
    assert result["invite_c"] == [f"c=IN IP4 {PUBLIC}"]
    assert result["invite_m"][0].startswith(f"m=audio {result['media_port']} ")
    # Via keeps the real sent-by; rport (RFC 3581) lets the registrar see the mapping.
    assert result["register_via"][0].startswith(f"Via: SIP/2.0/UDP 127.0.0.1:{port};")
    assert result["status"] == [{"public_ip": PUBLIC, "public_port": 40000, "nat_type": "full cone",
                                 "warnings": [f"behind NAT: public address {PUBLIC}:40000 is used in Contact and SDP"]}]
    assert result["caller_status"] == 486


def test_symmetric_nat_keeps_the_local_address_and_warns() -> None:
    result = scenario("stun", {"nat": "symmetric"})
    port = result["sip_port"]
    assert result["register_contact"] == [f"Contact: <sip:alice@127.0.0.1:{port}>"]
    assert result["invite_contact"] == [f"Contact: <sip:alice@127.0.0.1:{port}>"]
    assert result["invite_c"] == ["c=IN IP4 127.0.0.1"]
    [status] = result["status"]
    assert status["nat_type"] == "symmetric"
    assert status["warnings"] == [
        "symmetric NAT: calls may have one-way audio; use a TURN relay or an outbound proxy"]
    assert result["caller_status"] == 486


def test_upnp_maps_sip_and_rtp_ports_and_removes_them() -> None:
    result = scenario("upnp")
    sip, rtp = str(result["sip_port"]), result["rtp_port"]
    assert result["searches"] == 1
    assert result["after_start"] == [["GetExternalIPAddress", None, None],
                                     ["AddPortMapping", sip, "UDP"], ["AddPortMapping", sip, "TCP"]]
    assert result["during_call"] == sorted([f"{rtp}/UDP", f"{rtp + 1}/UDP", f"{sip}/TCP", f"{sip}/UDP"])
    assert result["after_hangup"] == sorted([f"{sip}/TCP", f"{sip}/UDP"])
    mapping = [c for c in result["calls"] if c[0] != "GetExternalIPAddress"]
    assert mapping == [
        ["AddPortMapping", sip, "UDP", "127.0.0.1", "3600"],
        ["AddPortMapping", sip, "TCP", "127.0.0.1", "3600"],
        ["AddPortMapping", str(rtp), "UDP", "127.0.0.1", "3600"],
        ["AddPortMapping", str(rtp + 1), "UDP", "127.0.0.1", "3600"],
        ["DeletePortMapping", str(rtp), "UDP", None, None],
        ["DeletePortMapping", str(rtp + 1), "UDP", None, None],
        ["DeletePortMapping", sip, "UDP", None, None],
        ["DeletePortMapping", sip, "TCP", None, None],
    ]
    assert result["left"] == []
    assert all(s["upnp"] == "tui-phone fake IGD" and s["warnings"] == [] for s in result["status"])
