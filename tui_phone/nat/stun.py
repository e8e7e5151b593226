"""STUN client, the I/O edge: learn the public address and the NAT type.

Who does what:

* The public (server-reflexive) address comes from our own RFC 5389 Binding
  transaction (:mod:`tui_phone.nat.stun_message`), because pystun3 2.0.0 only
  reads the RFC 3489 MAPPED-ADDRESS and modern servers answer with
  XOR-MAPPED-ADDRESS.  Retransmissions follow RFC 5389 7.2.1 (RTO, Rc, Rm are
  parameters so tests can shrink them).
* The NAT type comes from pystun3's RFC 3489 tests (``stun.get_nat_type``),
  run on the same socket, but only when the server announced an alternate
  address (CHANGED-ADDRESS or OTHER-ADDRESS) and only over IPv4 (pystun3 is
  IPv4-only).  pystun3 is never called without an explicit server, so it never
  falls back to its built-in list of public servers.

The client uses a plain blocking socket with timeouts; call
:func:`query_stun_deferred` from the reactor to run it in a thread
(``twisted.internet.threads.deferToThread``).
"""

from __future__ import annotations

import logging
import random
import socket
import time
from collections.abc import Callable
from typing import Any

import stun as pystun3  # type: ignore[import-untyped]  # pystun3 ships no type hints
from twisted.internet import threads
from twisted.internet.defer import Deferred

from .errors import StunError, StunErrorResponse, StunParseError
from .nat_type import NatType, StunResult, pystun3_nat_type
from .stun_message import (
    MAGIC_COOKIE,
    BindingAnswer,
    StunMessage,
    binding_request,
    read_binding_answer,
    retransmission_schedule,
)

log = logging.getLogger(__name__)

DEFAULT_RTO = 0.5  # RFC 5389 7.2.1
DEFAULT_TRIES = 7  # Rc
DEFAULT_FINAL_WAIT = 16  # Rm
MAX_DATAGRAM = 2048


def format_server(host: str, port: int) -> str:
    """``host:port``, with IPv6 literals in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class StunClient:
    """Ask one STUN server for our public address and classify the NAT.

    ``source`` is the local ``(ip, port)`` to send from (port 0: any); without
    it the client binds to the local address the OS would route to the server.
    ``classify_timeout`` is pystun3's per-try socket timeout (it tries 4 times
    per test).  ``rng`` draws transaction ids; ``clock`` measures time.
    """

    def __init__(
        self,
        server: tuple[str, int],
        *,
        source: tuple[str, int] | None = None,
        rto: float = DEFAULT_RTO,
        tries: int = DEFAULT_TRIES,
        final_wait: int = DEFAULT_FINAL_WAIT,
        classify: bool = True,
        classify_timeout: float = 0.5,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.server = server
        self.source = source
        self.rto = rto
        self.tries = tries
        self.final_wait = final_wait
        self.classify = classify
        self.classify_timeout = classify_timeout
        self._rng = rng if rng is not None else random.SystemRandom()
        self._clock = clock

    @property
    def server_text(self) -> str:
        """The server as ``host:port`` for messages."""
        return format_server(*self.server)

    def query(self) -> StunResult:
        """Run the Binding transaction (and the NAT tests); raise :class:`StunError`."""
        family, address = self._resolve()
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            local = self.source if self.source is not None else (_route_source(family, address), 0)
            try:
                sock.bind(local)
            except OSError as exc:
                raise StunError(f"cannot bind the STUN socket to {format_server(*local)}: {exc.strerror}") from exc
            local_ip, local_port = sock.getsockname()[:2]
            message, rtt = self._transact(sock, address)
            answer = read_binding_answer(message)
            if answer.error is not None:
                raise StunErrorResponse(answer.error[0], answer.error[1], self.server_text)
            if answer.mapped is None:
                raise StunError(f"STUN server {self.server_text} answered without a mapped address")
            nat_type, detail = self._nat_type(sock, family, address, answer, (local_ip, local_port))
        return StunResult(
            public_ip=answer.mapped[0],
            public_port=answer.mapped[1],
            nat_type=nat_type,
            server=self.server_text,
            rtt=rtt,
            local_ip=local_ip,
            local_port=local_port,
            detail=detail,
        )

    def _resolve(self) -> tuple[socket.AddressFamily, Any]:
        host, port = self.server
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
        except socket.gaierror as exc:
            raise StunError(f"cannot resolve STUN server {host}: {exc.strerror}") from exc
        family, _, _, _, address = infos[0]
        return family, address

    def _transact(self, sock: socket.socket, address: Any) -> tuple[StunMessage, float]:
        """Send a Binding request with retransmissions; return the answer and RTT."""
        request = binding_request(self._rng)
        data = bytes(request)
        sends, give_up = retransmission_schedule(self.rto, self.tries, self.final_wait)
        deadlines = sends[1:] + [give_up]
        start = self._clock()
        for deadline in deadlines:
            try:
                sock.sendto(data, address)
            except OSError as exc:
                raise StunError(f"cannot send to STUN server {self.server_text}: {exc.strerror}") from exc
            sent_at = self._clock()
            answer = self._wait_for(sock, request, start + deadline)
            if answer is not None:
                # RTT from the latest transmission (ambiguous after a retransmission, as in TCP).
                return answer, self._clock() - sent_at
        raise StunError(f"no answer from STUN server {self.server_text} after {self.tries} tries")

    def _wait_for(self, sock: socket.socket, request: StunMessage, until: float) -> StunMessage | None:
        while (remaining := until - self._clock()) > 0:
            sock.settimeout(remaining)
            try:
                packet, _ = sock.recvfrom(MAX_DATAGRAM)
            except (socket.timeout, BlockingIOError):
                return None
            except OSError as exc:
                raise StunError(f"STUN socket error talking to {self.server_text}: {exc.strerror}") from exc
            try:
                message = StunMessage.parse(packet)
            except StunParseError as exc:
                log.debug("ignoring a bad datagram on the STUN socket: %s", exc)
                continue
            if message.cookie == MAGIC_COOKIE and message.transaction_id == request.transaction_id:
                return message
        return None

    def _nat_type(
        self,
        sock: socket.socket,
        family: socket.AddressFamily,
        address: Any,
        answer: BindingAnswer,
        local: tuple[str, int],
    ) -> tuple[NatType, str]:
        assert answer.mapped is not None
        behind_nat = answer.mapped != local
        if not self.classify:
            return NatType.UNKNOWN, "NAT type tests are turned off"
        if family != socket.AF_INET:
            if not behind_nat:
                return NatType.OPEN_INTERNET, "no NAT (filtering is not tested over IPv6)"
            return NatType.UNKNOWN, "NAT type tests are IPv4-only (pystun3)"
        if answer.other_address is None:
            if not behind_nat:
                return NatType.OPEN_INTERNET, "no NAT (the server offers no filtering tests)"
            return NatType.UNKNOWN, (
                f"STUN server {self.server_text} offers no RFC 3489 NAT tests (no CHANGED-ADDRESS)"
            )
        return self._classify_with_pystun3(sock, address, local)

    def _classify_with_pystun3(self, sock: socket.socket, address: Any, local: tuple[str, int]) -> tuple[NatType, str]:
        sock.settimeout(self.classify_timeout)
        try:
            name, _ = pystun3.get_nat_type(sock, local[0], local[1], stun_host=address[0], stun_port=address[1])
        except (OSError, KeyError, TypeError, ValueError, IndexError) as exc:
            # pystun3 trips over answers it does not expect (unknown message types, no CHANGED-ADDRESS).
            return NatType.UNKNOWN, f"pystun3 NAT tests failed: {type(exc).__name__}: {exc}"
        nat_type = pystun3_nat_type(name)
        if nat_type is NatType.BLOCKED:
            return NatType.UNKNOWN, f"STUN server {self.server_text} does not answer RFC 3489 requests"
        if nat_type is NatType.UNKNOWN:
            return NatType.UNKNOWN, f"pystun3: {name}"
        return nat_type, ""


def _route_source(family: socket.AddressFamily, address: Any) -> str:
    """The local address the OS would use towards ``address`` (connect() sends nothing for UDP)."""
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(address)
        except OSError as exc:
            raise StunError(f"no route to STUN server {format_server(*address[:2])}: {exc.strerror}") from exc
        return str(probe.getsockname()[0])


def query_stun(server: tuple[str, int] | None, **options: Any) -> StunResult:
    """Query ``server`` (``None``, from ``stun_server = ""``, means off) with :class:`StunClient`."""
    if server is None:
        return StunResult.disabled()
    return StunClient(server, **options).query()


def query_stun_deferred(server: tuple[str, int] | None, **options: Any) -> Deferred[StunResult]:
    """:func:`query_stun` in the reactor's thread pool; fires with the result or a StunError."""
    return threads.deferToThread(query_stun, server, **options)
