"""NatManager with a fake STUN query, an in-memory gateway and a task.Clock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred, fail, maybeDeferred, succeed
from twisted.internet.task import Clock

from tui_phone.config import NatSettings
from tui_phone.events import NatStatusChanged, event_name
from tui_phone.nat.errors import StunError, UpnpError
from tui_phone.nat.manager import NatManager, NatStatus
from tui_phone.nat.nat_type import NatType, StunResult
from tui_phone.nat.upnp import PortMapping

LAN = "192.168.1.20"
PUBLIC = "203.0.113.9"  # TEST-NET-3: never a destination
SERVER = ("127.0.0.1", 3478)


class MemoryIgd:
    """An IgdClient that records calls in memory."""

    gateway = "memory IGD"

    def __init__(self, refuse: str | None = None) -> None:
        self.calls: list[tuple[str, int, str]] = []
        self.mappings: set[tuple[int, str]] = set()
        self.refuse = refuse

    def external_ip(self) -> str:
        return PUBLIC

    def add_port_mapping(self, port: int, protocol: str, internal_client: str, lease_s: int, description: str) -> None:
        if self.refuse == "add":
            raise UpnpError("gateway refused AddPortMapping: UPnP error 718 ConflictInMappingEntry")
        assert internal_client == LAN
        self.calls.append(("add", port, protocol))
        self.mappings.add((port, protocol))

    def delete_port_mapping(self, port: int, protocol: str) -> None:
        self.calls.append(("delete", port, protocol))
        self.mappings.discard((port, protocol))

    def get_port_mapping(self, port: int, protocol: str) -> dict[str, str] | None:
        return None


def _stun(nat_type: NatType, public: tuple[str, int] | None = (PUBLIC, 40000)) -> StunResult:
    return StunResult(public[0] if public else None, public[1] if public else None, nat_type, "127.0.0.1:3478",
                      0.001, local_ip=LAN, local_port=50000)


def _inline(work: Callable[[], Any]) -> Deferred[Any]:
    return maybeDeferred(work)


def _manager(settings: NatSettings, *, stun: Any = None, igd: MemoryIgd | None = None,
             clock: Clock | None = None, events: list[NatStatusChanged] | None = None,
             asked: list[tuple[Any, dict[str, Any]]] | None = None) -> NatManager:
    def stun_query(server: Any, **options: Any) -> Deferred[StunResult]:
        if asked is not None:
            asked.append((server, options))
        return fail(stun) if isinstance(stun, Exception) else succeed(stun)

    def discover() -> MemoryIgd:
        if igd is None:
            raise UpnpError("no UPnP gateway found (searched 2 s)")
        return igd

    return NatManager(settings, clock or Clock(), stun_query=stun_query, discover=discover, run_blocking=_inline,
                      on_status=events.append if events is not None else None, lease_s=600)


def _result(d: Deferred[Any]) -> Any:
    results: list[Any] = []
    d.addBoth(results.append)
    assert results, "Deferred did not fire"
    return results[0]


def test_nothing_configured_does_nothing() -> None:
    asked: list[Any] = []
    manager = _manager(NatSettings(), asked=asked)
    assert not manager.enabled
    status = _result(manager.start(5060, LAN))
    assert asked == []
    assert status.nat_type is NatType.DISABLED and status.warnings == ()
    assert manager.advertised(LAN, 5060) == (LAN, 5060)
    assert _result(manager.map_rtp((20000, 20001))) is None
    assert _result(manager.stop()) is None


def test_full_cone_advertises_public_ip_and_emits_status() -> None:
    events: list[NatStatusChanged] = []
    asked: list[Any] = []
    manager = _manager(NatSettings(stun_server=SERVER), stun=_stun(NatType.FULL_CONE), events=events, asked=asked)
    status = _result(manager.start(5060, LAN))
    assert asked == [(SERVER, {"source": (LAN, 0)})]
    assert isinstance(status, NatStatus)
    assert (status.public_ip, status.public_port, status.nat_type) == (PUBLIC, 40000, NatType.FULL_CONE)
    # Another socket than the STUN one: public IP, port preserved.
    assert manager.advertised(LAN, 5060) == (PUBLIC, 5060)
    assert manager.advertised(LAN, 20000) == (PUBLIC, 20000)
    # The STUN socket itself: the learned port.
    assert manager.advertised(LAN, 50000) == (PUBLIC, 40000)
    assert manager.behind_nat
    assert events == [NatStatusChanged(PUBLIC, 40000, "full cone", "", (
        f"behind NAT: public address {PUBLIC}:40000 is used in Contact and SDP",))]
    assert event_name(events[0]) == "nat_status_changed"


def test_symmetric_nat_keeps_local_address_and_warns() -> None:
    events: list[NatStatusChanged] = []
    manager = _manager(NatSettings(stun_server=SERVER), stun=_stun(NatType.SYMMETRIC), events=events)
    status = _result(manager.start(5060, LAN))
    assert manager.advertised(LAN, 5060) == (LAN, 5060)
    assert not manager.behind_nat
    warning = "symmetric NAT: calls may have one-way audio; use a TURN relay or an outbound proxy"
    assert warning in status.warnings
    assert events[-1].nat_type == "symmetric" and warning in events[-1].warnings


def test_no_nat_keeps_local_address() -> None:
    manager = _manager(NatSettings(stun_server=SERVER),
                       stun=_stun(NatType.OPEN_INTERNET, (LAN, 50000)))
    status = _result(manager.start(5060, LAN))
    assert manager.advertised(LAN, 5060) == (LAN, 5060)
    assert status.warnings == ()


def test_stun_failure_is_a_warning_not_an_error() -> None:
    manager = _manager(NatSettings(stun_server=SERVER), stun=StunError("no answer from STUN server 127.0.0.1:3478"))
    status = _result(manager.start(5060, LAN))
    assert status.nat_type is NatType.UNKNOWN
    assert status.warnings == ("STUN failed: no answer from STUN server 127.0.0.1:3478; "
                               "Contact and SDP keep the local address",)
    assert manager.advertised(LAN, 5060) == (LAN, 5060)


def test_upnp_maps_sip_then_rtp_pairs_and_stop_removes_all() -> None:
    igd = MemoryIgd()
    events: list[NatStatusChanged] = []
    manager = _manager(NatSettings(upnp=True), igd=igd, events=events)
    status = _result(manager.start(5060, LAN))
    assert igd.calls == [("add", 5060, "UDP"), ("add", 5060, "TCP")]
    assert status.upnp_gateway == "memory IGD" and status.external_ip == PUBLIC
    # UPnP alone does not change what we advertise.
    assert manager.advertised(LAN, 5060) == (LAN, 5060)
    _result(manager.map_rtp((20000, 20001)))
    _result(manager.map_rtp((20002, 20003)))
    assert igd.calls[2:] == [("add", 20000, "UDP"), ("add", 20001, "UDP"), ("add", 20002, "UDP"), ("add", 20003, "UDP")]
    assert manager.status.mappings == (PortMapping(5060, "UDP"), PortMapping(5060, "TCP"), PortMapping(20000, "UDP"),
                                       PortMapping(20001, "UDP"), PortMapping(20002, "UDP"), PortMapping(20003, "UDP"))
    _result(manager.unmap_rtp((20000, 20001)))
    assert igd.calls[6:] == [("delete", 20000, "UDP"), ("delete", 20001, "UDP")]
    _result(manager.unmap_rtp((20000, 20001)))  # twice: nothing more
    assert len(igd.calls) == 8
    _result(manager.stop())
    assert sorted(igd.calls[8:]) == [("delete", 5060, "TCP"), ("delete", 5060, "UDP"),
                                     ("delete", 20002, "UDP"), ("delete", 20003, "UDP")]
    assert igd.mappings == set()
    assert manager.status.mappings == ()
    assert len(events) == 4  # start, two maps, one unmap (stop emits nothing)


def test_upnp_leases_renew_on_the_clock_until_stop() -> None:
    igd = MemoryIgd()
    clock = Clock()
    manager = _manager(NatSettings(upnp=True), igd=igd, clock=clock)
    _result(manager.start(5060, LAN))
    _result(manager.map_rtp((20000, 20001)))
    assert len(igd.calls) == 4
    clock.advance(300)  # lease 600 s, renewed at half
    adds = [c for c in igd.calls if c[0] == "add"]
    assert len(adds) == 8
    _result(manager.stop())
    assert clock.getDelayedCalls() == []
    clock.advance(600)
    assert len([c for c in igd.calls if c[0] == "add"]) == 8


def test_no_gateway_is_a_warning_and_rtp_is_not_mapped() -> None:
    manager = _manager(NatSettings(upnp=True), igd=None)
    status = _result(manager.start(5060, LAN))
    assert status.warnings == ("UPnP: no UPnP gateway found (searched 2 s)",)
    assert status.upnp_gateway == ""
    assert _result(manager.map_rtp((20000, 20001))) is None
    assert manager.status.mappings == ()


def test_refused_mapping_is_a_warning() -> None:
    igd = MemoryIgd(refuse="add")
    manager = _manager(NatSettings(upnp=True), igd=igd)
    status = _result(manager.start(5060, LAN))
    assert len(status.warnings) == 1
    assert status.warnings[0].startswith("UPnP: cannot map UDP port 5060 on memory IGD: ")
    assert status.mappings == ()


def test_gateway_work_is_serialised() -> None:
    """An unmap asked while the map is still running waits for it."""
    igd = MemoryIgd()
    pending: list[tuple[Callable[[], Any], Deferred[Any]]] = []

    def later(work: Callable[[], Any]) -> Deferred[Any]:
        d: Deferred[Any] = Deferred()
        pending.append((work, d))
        return d

    manager = NatManager(NatSettings(upnp=True), Clock(), discover=lambda: igd, run_blocking=later)
    started = manager.start(5060, LAN)
    mapped = manager.map_rtp((20000, 20001))
    unmapped = manager.unmap_rtp((20000, 20001))
    assert len(pending) == 1  # only the SIP mapping runs
    while pending:
        work, d = pending.pop(0)
        d.callback(work())
    for d in (started, mapped, unmapped):
        _result(d)
    assert igd.calls == [("add", 5060, "UDP"), ("add", 5060, "TCP"), ("add", 20000, "UDP"), ("add", 20001, "UDP"),
                         ("delete", 20000, "UDP"), ("delete", 20001, "UDP")]


def test_status_describe() -> None:
    manager = _manager(NatSettings(stun_server=SERVER, upnp=True), stun=_stun(NatType.FULL_CONE), igd=MemoryIgd())
    status = _result(manager.start(5060, LAN))
    assert status.describe() == [
        "NAT type: full cone",
        f"public address {PUBLIC}:40000 (STUN 127.0.0.1:3478)",
        f"UPnP gateway memory IGD, external IP {PUBLIC}, mapped: UDP 5060, TCP 5060",
        f"warning: behind NAT: public address {PUBLIC}:40000 is used in Contact and SDP",
    ]
