"""UpnpMapper against the fake IGD on loopback, and the miniupnpc adapter against a stand-in."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from twisted.internet.task import Clock

from tui_phone.nat.errors import UpnpError
from tui_phone.nat.igd import MiniupnpcIgd, discover_soap_igd
from tui_phone.nat.upnp import PortMapping, UpnpMapper
from tui_phone.testing.fake_igd import FakeIgd

LAN = "127.0.0.1"
PORTS = [(5060, "UDP"), (5060, "TCP"), (10000, "UDP"), (10001, "UDP")]


@pytest.fixture
def igd() -> Iterator[FakeIgd]:
    with FakeIgd() as fake:
        yield fake


def _mapper(igd: FakeIgd, clock: Clock, lease_s: int = 600) -> UpnpMapper:
    return UpnpMapper(LAN, PORTS, lease_s=lease_s, clock=clock, ssdp_target=igd.ssdp_address, search_s=1.0)


def test_start_answers_ssdp_and_adds_every_mapping(igd: FakeIgd) -> None:
    mapper = _mapper(igd, Clock())
    status = mapper.start()
    assert len(igd.searches) == 1
    assert igd.searches[0].startswith(b"M-SEARCH * HTTP/1.1\r\n")
    assert b"ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n" in igd.searches[0]
    adds = igd.recorded("AddPortMapping")
    assert [(c.arguments["NewExternalPort"], c.arguments["NewProtocol"]) for c in adds] == [
        ("5060", "UDP"), ("5060", "TCP"), ("10000", "UDP"), ("10001", "UDP")]
    first = adds[0].arguments
    assert first["NewInternalPort"] == "5060"
    assert first["NewInternalClient"] == LAN
    assert first["NewLeaseDuration"] == "600"
    assert first["NewPortMappingDescription"] == "tui-phone UDP 5060"
    assert set(igd.mappings) == {(5060, "UDP"), (5060, "TCP"), (10000, "UDP"), (10001, "UDP")}
    assert status.gateway_found and status.gateway == "tui-phone fake IGD"
    assert status.external_ip == "203.0.113.9"
    assert status.mappings == tuple(PortMapping(p, proto) for p, proto in PORTS)


def test_renewal_re_adds_at_half_the_lease(igd: FakeIgd) -> None:
    clock = Clock()
    mapper = _mapper(igd, clock, lease_s=600)
    mapper.start()
    clock.advance(299)
    assert len(igd.recorded("AddPortMapping")) == 4
    clock.advance(1)
    assert len(igd.recorded("AddPortMapping")) == 8
    clock.advance(300)
    assert len(igd.recorded("AddPortMapping")) == 12
    assert mapper.status().renewals == 2
    mapper.stop()


def test_permanent_lease_is_not_renewed(igd: FakeIgd) -> None:
    clock = Clock()
    _mapper(igd, clock, lease_s=0).start()
    assert clock.getDelayedCalls() == []


def test_stop_deletes_every_mapping_and_is_idempotent(igd: FakeIgd) -> None:
    clock = Clock()
    mapper = _mapper(igd, clock)
    mapper.start()
    mapper.stop()
    deletes = igd.recorded("DeletePortMapping")
    assert [(c.arguments["NewExternalPort"], c.arguments["NewProtocol"]) for c in deletes] == [
        ("5060", "UDP"), ("5060", "TCP"), ("10000", "UDP"), ("10001", "UDP")]
    assert igd.mappings == {}
    assert clock.getDelayedCalls() == []
    mapper.stop()
    assert len(igd.recorded("DeletePortMapping")) == 4
    assert mapper.status().mappings == ()


def test_mapping_is_visible_through_get_specific_entry(igd: FakeIgd) -> None:
    mapper = _mapper(igd, Clock())
    mapper.start()
    entry = discover_soap_igd(igd.ssdp_address, 1.0).get_port_mapping(10000, "UDP")
    assert entry is not None and entry["NewInternalClient"] == LAN
    mapper.stop()
    assert discover_soap_igd(igd.ssdp_address, 1.0).get_port_mapping(10000, "UDP") is None


def test_failed_mapping_rolls_back_and_says_why(igd: FakeIgd) -> None:
    igd.mappings[(10000, "UDP")] = {"NewInternalClient": "192.168.1.99"}
    mapper = _mapper(igd, Clock())
    with pytest.raises(UpnpError) as info:
        mapper.start()
    assert str(info.value) == (
        "cannot map UDP port 10000 on tui-phone fake IGD: "
        "gateway refused AddPortMapping: UPnP error 718 ConflictInMappingEntry"
    )
    assert set(igd.mappings) == {(10000, "UDP")}  # ours removed, the other host's kept


def test_renewal_failure_is_reported_not_raised(igd: FakeIgd) -> None:
    clock = Clock()
    mapper = _mapper(igd, clock)
    mapper.start()
    igd.faults["AddPortMapping"] = (501, "ActionFailed")
    clock.advance(300)
    assert mapper.status().last_error == (
        "renewing UDP port 10001: gateway refused AddPortMapping: UPnP error 501 ActionFailed")
    assert len(clock.getDelayedCalls()) == 1
    mapper.stop()


def test_no_gateway_gives_a_clear_error() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as quiet:
        quiet.bind(("127.0.0.1", 0))
        mapper = UpnpMapper(LAN, PORTS, clock=Clock(), ssdp_target=quiet.getsockname(), search_s=0.2)
        with pytest.raises(UpnpError, match=r"^no UPnP gateway found \(searched 0.2 s\)$"):
            mapper.start()
    assert mapper.status().gateway_found is False
    assert mapper.status().describe() == ["no UPnP gateway found (searched 0.2 s)"]


def test_gateway_that_ignores_search() -> None:
    with FakeIgd(answer_ssdp=False) as fake:
        with pytest.raises(UpnpError, match=r"^no UPnP gateway found \(searched 0.1 s\)$"):
            UpnpMapper(LAN, PORTS, clock=Clock(), ssdp_target=fake.ssdp_address, search_s=0.1).start()
        assert len(fake.searches) == 1


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="^UPnP protocol must be UDP or TCP, not 'SCTP'$"):
        UpnpMapper(LAN, [(5060, "SCTP")])
    with pytest.raises(ValueError, match="^UPnP port out of range: 0$"):
        UpnpMapper(LAN, [(0, "UDP")])


class _FakeMiniupnpc:
    """Stands in for miniupnpc.UPnP: records calls, never touches the network."""

    def __init__(self, devices: int = 1) -> None:
        self.devices = devices
        self.discoverdelay = 0
        self.lanaddr = "192.168.1.20"
        self.calls: list[tuple[Any, ...]] = []

    def discover(self) -> int:
        return self.devices

    def selectigd(self) -> str:
        if not self.devices:
            raise Exception("No UPnP device discovered")  # miniupnpc's own behaviour
        return "http://192.168.1.1:5000/ctl/IPConn"

    def externalipaddress(self) -> str:
        return "198.51.100.3"

    def addportmapping(self, *args: Any) -> bool:
        self.calls.append(("add", *args))
        return True

    def deleteportmapping(self, *args: Any) -> bool:
        self.calls.append(("delete", *args))
        if args[0] == 10001:
            raise Exception("NoSuchEntryInArray")
        return True

    def getspecificportmapping(self, *args: Any) -> None:
        return None


def test_miniupnpc_adapter_maps_and_unmaps() -> None:
    fake = _FakeMiniupnpc()
    mapper = UpnpMapper("192.168.1.20", PORTS, lease_s=3600, clock=Clock(),
                        discover=lambda: MiniupnpcIgd.discover(0.5, factory=lambda: fake))
    status = mapper.start()
    assert fake.discoverdelay == 500
    assert status.gateway == "http://192.168.1.1:5000/ctl/IPConn"
    assert status.external_ip == "198.51.100.3"
    assert fake.calls[0] == ("add", 5060, "UDP", "192.168.1.20", 5060, "tui-phone UDP 5060", "", 3600)
    mapper.stop()
    assert [c[1:] for c in fake.calls if c[0] == "delete"] == [(p, proto) for p, proto in PORTS]
    assert mapper.status().last_error == "removing UDP port 10001: gateway refused DeletePortMapping: NoSuchEntryInArray"


def test_miniupnpc_adapter_without_gateway() -> None:
    with pytest.raises(UpnpError, match=r"^no UPnP gateway found \(searched 2 s\)$"):
        MiniupnpcIgd.discover(2.0, factory=lambda: _FakeMiniupnpc(devices=0))
