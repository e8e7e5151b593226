"""A fake reactor for transport-edge tests: no sockets, a clock you advance.

:class:`FakeReactor` is Twisted's ``MemoryReactorClock`` plus UDP: listeners
get real-looking addresses (port 0 becomes a fresh port), datagrams sent are
recorded on the :class:`FakeUdpPort` and datagrams can be delivered with
``receive``. Stream connections are driven with :func:`connect_stream`, which
joins a protocol to a ``StringTransport`` with the given addresses.
"""

from __future__ import annotations

from typing import Any, Literal

from twisted.internet.abstract import isIPv6Address
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import succeed
from twisted.internet.interfaces import IListeningPort, IUDPTransport
from twisted.internet.testing import MemoryReactorClock, StringTransport
from zope.interface import implementer  # type: ignore[import-untyped]

FIRST_FAKE_PORT = 40000


def _address(kind: Literal["TCP", "UDP"], host: str, port: int) -> IPv4Address | IPv6Address:
    return IPv6Address(kind, host, port) if isIPv6Address(host) else IPv4Address(kind, host, port)


@implementer(IListeningPort)
class FakeTcpPort:
    """A TCP listener of the fake reactor."""

    def __init__(self, factory: Any, address: IPv4Address | IPv6Address) -> None:
        self.factory = factory
        self.address = address
        self.listening = True

    def startListening(self) -> None:
        """Nothing to do."""

    def stopListening(self) -> Any:
        """Stop 'listening'."""
        self.listening = False
        return succeed(None)

    def getHost(self) -> IPv4Address | IPv6Address:
        """The address it pretends to listen on."""
        return self.address


@implementer(IUDPTransport, IListeningPort)
class FakeUdpPort:
    """A UDP socket of the fake reactor: ``sent`` records every datagram written."""

    def __init__(self, protocol: Any, address: IPv4Address | IPv6Address) -> None:
        self.protocol = protocol
        self.address = address
        self.sent: list[tuple[bytes, tuple[str, int]]] = []
        self.listening = True
        protocol.makeConnection(self)

    def write(self, packet: bytes, addr: Any = None) -> None:
        """Record a datagram."""
        self.sent.append((packet, (addr[0], addr[1])))

    def receive(self, data: bytes, addr: tuple[str, int]) -> None:
        """Deliver a datagram to the protocol as if it came from ``addr``."""
        self.protocol.datagramReceived(data, addr)

    def connect(self, host: str, port: int) -> None:
        """Not supported by the fake."""
        raise NotImplementedError

    def getHost(self) -> IPv4Address | IPv6Address:
        """The bound address."""
        return self.address

    def stopListening(self) -> Any:
        """Close the socket."""
        self.listening = False
        self.protocol.doStop()
        return succeed(None)

    def setBroadcastAllowed(self, enabled: bool) -> None:
        """Ignored."""

    def getBroadcastAllowed(self) -> bool:
        """Never."""
        return False


class FakeReactor(MemoryReactorClock):
    """``MemoryReactorClock`` with UDP listeners and addresses that look real."""

    def __init__(self) -> None:
        super().__init__()
        self._next_port = FIRST_FAKE_PORT
        self.udp_ports: list[FakeUdpPort] = []
        self.tcp_ports: list[FakeTcpPort] = []

    def _port(self, port: int) -> int:
        if port:
            return port
        self._next_port += 1
        return self._next_port

    def listenUDP(self, port: int, protocol: Any, interface: str = "",
                  maxPacketSize: int = 8192) -> FakeUdpPort:
        """A fake UDP socket bound to ``interface:port``."""
        udp = FakeUdpPort(protocol, _address("UDP", interface or "0.0.0.0", self._port(port)))
        self.udp_ports.append(udp)
        return udp

    def listenTCP(self, port: int, factory: Any, backlog: int = 50,
                  interface: str = "") -> FakeTcpPort:
        """A fake TCP listener bound to ``interface:port``."""
        self.tcpServers.append((port, factory, backlog, interface))
        tcp = FakeTcpPort(factory, _address("TCP", interface or "0.0.0.0", self._port(port)))
        self.tcp_ports.append(tcp)
        return tcp


def connect_stream(
    factory: Any, local: tuple[str, int], remote: tuple[str, int]
) -> tuple[Any, StringTransport]:
    """Build a protocol from ``factory`` and connect it to a ``StringTransport``.

    ``local`` is our end, ``remote`` the peer's. Returns (protocol, transport);
    what the protocol writes is in ``transport.value()``.
    """
    protocol = factory.buildProtocol(_address("TCP", *remote))
    transport = StringTransport(
        hostAddress=_address("TCP", *local), peerAddress=_address("TCP", *remote)
    )
    protocol.makeConnection(transport)
    return protocol, transport
