"""The protocol of a UDP listener, and its direct reading on the asyncio loop.

Part of the thin Twisted edge of :mod:`tui_phone.sip.transport.layer`: every
datagram read goes to the layer as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from twisted.internet.protocol import DatagramProtocol

from ..routing import format_host_port
from .base import logger

if TYPE_CHECKING:
    from .layer import TransportLayer

_MAX_DATAGRAM = 65535  # the largest UDP payload (what Twisted's port reads too)
_READS_PER_WAKE = 64  # datagrams read before the loop serves the other sockets


class UdpEndpoint(DatagramProtocol):
    """The protocol of one UDP listener: every datagram goes to the layer."""

    noisy = False

    def __init__(self, layer: TransportLayer) -> None:
        self.layer = layer
        self.local: tuple[str, int] = ("", 0)
        #: The socket's own sendto on a real reactor (None on a fake one): a
        #: datagram skips the address checks of Twisted's write, which the
        #: layer has done already.
        self.sendto: Callable[[bytes, tuple[str, int]], Any] | None = None
        #: Undoes read_directly (None while Twisted reads the socket).
        self._unwatch: Callable[[], Any] | None = None
        self._recvfrom: Callable[[int], tuple[bytes, Any]] = lambda size: (b"", None)

    def datagramReceived(self, data: bytes, addr: Any) -> None:
        """One datagram is one message (RFC 3261 18.3)."""
        self.layer._datagram_received(self, data, (str(addr[0]), int(addr[1])))

    def read_directly(self, loop: Any, listening: Any) -> None:
        """Have the asyncio ``loop`` call us when the socket is readable.

        Twisted's asyncio reactor reaches a readable socket through its
        logging context and its FileDescriptor machinery; on the path of an
        INVITE to its 200 OK that was about 40 us of a cold (idle) process
        on loopback. The port stays Twisted's: only its reading moves here,
        and :meth:`stopProtocol` gives the descriptor back before the port
        closes the socket.
        """
        raw = listening.socket
        fd = raw.fileno()
        self.layer.reactor.removeReader(listening)
        self._recvfrom = raw.recvfrom
        loop.add_reader(fd, self._readable)
        self._unwatch = lambda: loop.remove_reader(fd)

    def _readable(self) -> None:
        recvfrom = self._recvfrom
        for _ in range(_READS_PER_WAKE):
            try:
                data, addr = recvfrom(_MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionRefusedError:
                continue  # an ICMP error about an earlier send (Twisted ignores it too)
            except OSError as error:
                logger.warning("reading UDP %s failed: %s", format_host_port(*self.local), error)
                return
            try:
                # (recvfrom gives str and int already: no conversion as in datagramReceived)
                self.layer._datagram_received(self, data, addr)
            except Exception:  # noqa: BLE001 - one bad datagram must not stop the reading
                logger.exception("a UDP datagram from %s was not handled", addr)

    def stopProtocol(self) -> None:
        """The port is closing: stop watching its descriptor first."""
        unwatch, self._unwatch = self._unwatch, None
        if unwatch is not None:
            unwatch()


__all__ = ["UdpEndpoint"]
