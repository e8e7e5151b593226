"""A small STUN responder for loopback tests, with a simulated NAT in front of the client.

It answers RFC 5389 Binding requests with XOR-MAPPED-ADDRESS (plus
MAPPED-ADDRESS and RFC 5780 OTHER-ADDRESS), and RFC 3489 requests (pystun3's)
with MAPPED-ADDRESS, SOURCE-ADDRESS and CHANGED-ADDRESS.  It listens on four
sockets, ``host``/``alt_host`` times two ports, so the RFC 3489 CHANGE-REQUEST
tests (answer from the other IP and/or port) work on loopback: Linux answers
for all of 127.0.0.0/8, so ``127.0.0.2`` is the default alternate address.

:class:`NatSimulation` decides what the server "sees": the mapped address it
reports (a fixed public IP, and a port per RFC 4787 mapping behaviour) and
which answers a NAT would let through (RFC 4787 filtering behaviour).  The
responder runs on a thread with blocking sockets, so tests need no reactor.
"""

from __future__ import annotations

import enum
import logging
import select
import socket
import struct
import threading
from dataclasses import dataclass, field

from tui_phone.nat.errors import StunParseError
from tui_phone.nat.stun_message import (
    BINDING_ERROR,
    BINDING_REQUEST,
    BINDING_SUCCESS,
    CHANGE_IP,
    CHANGE_PORT,
    CHANGE_REQUEST,
    CHANGED_ADDRESS,
    ERROR_CODE,
    MAPPED_ADDRESS,
    OTHER_ADDRESS,
    RESPONSE_ORIGIN,
    SOFTWARE,
    SOURCE_ADDRESS,
    XOR_MAPPED_ADDRESS,
    Address,
    StunAttribute,
    StunMessage,
    encode_address,
    encode_error_code,
    encode_xor_address,
)

log = logging.getLogger(__name__)


class Behaviour(str, enum.Enum):
    """RFC 4787 4.1 / 5: what a NAT mapping or filter depends on."""

    ENDPOINT_INDEPENDENT = "endpoint independent"
    ADDRESS_DEPENDENT = "address dependent"
    ADDRESS_AND_PORT_DEPENDENT = "address and port dependent"


@dataclass
class NatSimulation:
    """A NAT between the client and the responder.

    ``public_ip`` None means no address translation (reports the real source)
    but still applies ``filtering``, which models a firewall.
    """

    public_ip: str | None
    mapping: Behaviour = Behaviour.ENDPOINT_INDEPENDENT
    filtering: Behaviour = Behaviour.ENDPOINT_INDEPENDENT
    first_port: int = 40000
    _ports: dict[tuple[object, ...], int] = field(default_factory=dict, repr=False)
    _sent_to: dict[Address, set[Address]] = field(default_factory=dict, repr=False)

    @classmethod
    def full_cone(cls, public_ip: str) -> NatSimulation:
        """Endpoint-independent mapping and filtering."""
        return cls(public_ip)

    @classmethod
    def restricted_cone(cls, public_ip: str) -> NatSimulation:
        """Endpoint-independent mapping, address-dependent filtering."""
        return cls(public_ip, filtering=Behaviour.ADDRESS_DEPENDENT)

    @classmethod
    def port_restricted_cone(cls, public_ip: str) -> NatSimulation:
        """Endpoint-independent mapping, address-and-port-dependent filtering."""
        return cls(public_ip, filtering=Behaviour.ADDRESS_AND_PORT_DEPENDENT)

    @classmethod
    def symmetric(cls, public_ip: str) -> NatSimulation:
        """A new mapping per destination address and port, and strict filtering."""
        return cls(public_ip, Behaviour.ADDRESS_AND_PORT_DEPENDENT, Behaviour.ADDRESS_AND_PORT_DEPENDENT)

    @classmethod
    def firewall(cls) -> NatSimulation:
        """No translation, but unsolicited answers are dropped."""
        return cls(None, filtering=Behaviour.ADDRESS_AND_PORT_DEPENDENT)

    def outgoing(self, client: Address, destination: Address) -> Address:
        """The client sent to ``destination``: open the filter, return the mapped address."""
        self._sent_to.setdefault(client, set()).add(destination)
        if self.public_ip is None:
            return client
        key: tuple[object, ...] = (client,)
        if self.mapping is Behaviour.ADDRESS_DEPENDENT:
            key = (client, destination[0])
        elif self.mapping is Behaviour.ADDRESS_AND_PORT_DEPENDENT:
            key = (client, destination)
        if key not in self._ports:
            self._ports[key] = self.first_port + len(self._ports)
        return self.public_ip, self._ports[key]

    def lets_in(self, client: Address, source: Address) -> bool:
        """Would an answer from ``source`` reach ``client`` through this NAT?"""
        contacted = self._sent_to.get(client, set())
        if self.filtering is Behaviour.ENDPOINT_INDEPENDENT:
            return bool(contacted)
        if self.filtering is Behaviour.ADDRESS_DEPENDENT:
            return any(address[0] == source[0] for address in contacted)
        return source in contacted


@dataclass(frozen=True)
class RecordedRequest:
    """One Binding request the responder received, and what it did about it."""

    client: Address
    received_on: Address
    rfc5389: bool
    change: int
    answered_from: Address | None  # None: dropped (silent, filtered or impossible change)


class StunServer:
    """The loopback STUN responder; use as a context manager or call start()/stop().

    ``silent`` drops every request (the no-answer case); ``answer_rfc3489``
    False ignores classic requests (a server without the NAT tests);
    ``error`` answers every request with that error code and reason;
    ``xor_only`` leaves MAPPED-ADDRESS out of RFC 5389 answers.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        alt_host: str | None = "127.0.0.2",
        *,
        nat: NatSimulation | None = None,
        silent: bool = False,
        answer_rfc3489: bool = True,
        error: tuple[int, str] | None = None,
        software: str = "tui-phone test STUN",
        xor_only: bool = False,
    ) -> None:
        self.host = host
        self.alt_host = alt_host
        self.nat = nat
        self.silent = silent
        self.answer_rfc3489 = answer_rfc3489
        self.error = error
        self.software = software
        self.xor_only = xor_only
        self.requests: list[RecordedRequest] = []
        self._sockets: dict[Address, socket.socket] = {}
        self._ports: tuple[int, int] = (0, 0)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> Address:
        """The primary ``(host, port)`` clients should query."""
        return self.host, self._ports[0]

    @property
    def alt_address(self) -> Address | None:
        """The alternate ``(ip, port)`` announced in CHANGED-ADDRESS / OTHER-ADDRESS."""
        return (self.alt_host, self._ports[1]) if self.alt_host else None

    def start(self) -> StunServer:
        """Bind the sockets and start answering on a daemon thread."""
        self._bind()
        self._thread = threading.Thread(target=self._run, name="stun-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread and close the sockets (idempotent)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        for sock in self._sockets.values():
            sock.close()
        self._sockets.clear()

    def __enter__(self) -> StunServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def recorded(self) -> list[RecordedRequest]:
        """A copy of the requests seen so far."""
        with self._lock:
            return list(self.requests)

    def _bind(self) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        for _ in range(20):
            sockets: dict[Address, socket.socket] = {}
            try:
                primary = _udp(family, (self.host, 0))
                port1 = primary.getsockname()[1]
                sockets[(self.host, port1)] = primary
                if self.alt_host is None:
                    self._sockets, self._ports = sockets, (port1, port1)
                    return
                second = _udp(family, (self.host, 0))
                port2 = second.getsockname()[1]
                sockets[(self.host, port2)] = second
                for port in (port1, port2):
                    sockets[(self.alt_host, port)] = _udp(family, (self.alt_host, port))
            except OSError:
                for sock in sockets.values():
                    sock.close()
                continue
            self._sockets, self._ports = sockets, (port1, port2)
            return
        raise OSError(f"cannot bind four STUN test sockets on {self.host} and {self.alt_host}")

    def _run(self) -> None:
        by_socket = {sock: address for address, sock in self._sockets.items()}
        while not self._stop.is_set():
            readable, _, _ = select.select(list(by_socket), [], [], 0.02)
            for sock in readable:
                try:
                    data, client = sock.recvfrom(2048)
                except OSError:
                    continue
                self._handle(data, (client[0], client[1]), by_socket[sock])

    def _handle(self, data: bytes, client: Address, local: Address) -> None:
        try:
            request = StunMessage.parse(data)
        except StunParseError as exc:
            log.debug("test STUN server ignores a bad datagram: %s", exc)
            return
        if request.msg_type != BINDING_REQUEST:
            return
        raw_change = request.get(CHANGE_REQUEST)
        change = struct.unpack("!I", raw_change)[0] if raw_change and len(raw_change) == 4 else 0
        reply_from = self._reply_source(local, change)
        mapped = self.nat.outgoing(client, local) if self.nat is not None else client
        if self.silent or (not request.is_rfc5389 and not self.answer_rfc3489):
            reply_from = None
        if reply_from is not None and self.nat is not None and not self.nat.lets_in(client, reply_from):
            reply_from = None
        with self._lock:
            self.requests.append(RecordedRequest(client, local, request.is_rfc5389, change, reply_from))
        if reply_from is None:
            return
        response = self._response(request, mapped, reply_from)
        self._sockets[reply_from].sendto(bytes(response), client)

    def _reply_source(self, local: Address, change: int) -> Address | None:
        """Where the answer leaves from; None when a change is asked of a one-address server."""
        if not change:
            return local
        if self.alt_host is None:
            return None
        ip = local[0]
        if change & CHANGE_IP:
            ip = self.alt_host if local[0] == self.host else self.host
        port = local[1]
        if change & CHANGE_PORT:
            port = self._ports[1] if local[1] == self._ports[0] else self._ports[0]
        return ip, port

    def _response(self, request: StunMessage, mapped: Address, reply_from: Address) -> StunMessage:
        if self.error is not None:
            attributes = [StunAttribute(ERROR_CODE, encode_error_code(*self.error))]
            return StunMessage(BINDING_ERROR, request.transaction_id, tuple(attributes), request.cookie)
        alternate = self._alternate_of(reply_from)
        if request.is_rfc5389:
            attributes = [
                StunAttribute(XOR_MAPPED_ADDRESS, encode_xor_address(mapped, request.full_transaction_id)),
                StunAttribute(RESPONSE_ORIGIN, encode_address(reply_from)),
            ]
            if not self.xor_only:
                attributes.insert(1, StunAttribute(MAPPED_ADDRESS, encode_address(mapped)))
            if alternate is not None:
                attributes.append(StunAttribute(OTHER_ADDRESS, encode_address(alternate)))
            attributes.append(StunAttribute(SOFTWARE, self.software.encode("utf-8")))
            return StunMessage(BINDING_SUCCESS, request.transaction_id, tuple(attributes), fingerprint=True)
        # RFC 3489 11.2: MAPPED-ADDRESS, SOURCE-ADDRESS, CHANGED-ADDRESS.
        attributes = [
            StunAttribute(MAPPED_ADDRESS, encode_address(mapped)),
            StunAttribute(SOURCE_ADDRESS, encode_address(reply_from)),
        ]
        if alternate is not None:
            attributes.append(StunAttribute(CHANGED_ADDRESS, encode_address(alternate)))
        return StunMessage(BINDING_SUCCESS, request.transaction_id, tuple(attributes), request.cookie)

    def _alternate_of(self, source: Address) -> Address | None:
        """The address differing in both IP and port from ``source`` (RFC 5780 7.3)."""
        if self.alt_host is None:
            return None
        ip = self.alt_host if source[0] == self.host else self.host
        port = self._ports[1] if source[1] == self._ports[0] else self._ports[0]
        return ip, port


def _udp(family: socket.AddressFamily, address: Address) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock
