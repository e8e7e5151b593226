"""Where SIP messages go: Via stamping, response routing, target selection (pure).

The transport edge (:mod:`tui_phone.sip.transport`) asks this module three
questions and performs the answers:

* ``stamp_via(request, source_host, source_port)``: which ``received`` and
  ``rport`` parameters a request that just arrived gets (RFC 3261 18.2.1,
  RFC 3581 4);
* ``response_target(via, source)``: where a response goes (RFC 3261 18.2.2,
  RFC 3581 4);
* ``resolve_target(uri)``: which transport, host and port a request to a SIP
  URI is sent to, without DNS SRV/NAPTR (a subset of RFC 3263 4).

``error_response_for(data, error)`` builds a stateless error response to a
request that did not parse, when enough of it can be read (RFC 4475 torture
messages).

Hosts in :class:`Target` and :class:`Source` are bare: an IPv6 address has no
brackets (sockets want it so); ``format_host_port`` adds them back for the
wire (RFC 5118 4.1).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass, replace
from typing import NamedTuple

from ._uri_syntax import slot_setters
from .errors import SipError, SipParseError
from .headers import COMPACT_FORMS, split_comma_list
from .message import SIP_VERSION, SipRequest
from .status import reason_phrase
from .uri import NameAddress, SipUri
from .via import Via

UDP = "UDP"
TCP = "TCP"
TLS = "TLS"
TRANSPORTS = (UDP, TCP, TLS)
RELIABLE_TRANSPORTS = frozenset({TCP, TLS})

# RFC 3261 19.1.2: 5060 for sip over UDP and TCP, 5061 for TLS.
DEFAULT_PORT = 5060
DEFAULT_TLS_PORT = 5061

_TAG_RE = re.compile(r";[ \t]*tag[ \t]*=", re.IGNORECASE)
_UNFOLD_RE = re.compile(r"[ \t]*\r?\n[ \t]+")
# The headers a response copies from its request (RFC 3261 8.2.6.2).
_COPIED = ("via", "from", "to", "call-id", "cseq")


class RoutingError(SipError, ValueError):
    """A destination cannot be worked out (unsupported transport, bad URI or Via)."""


class Target(NamedTuple):
    """Where to send a message: transport, host (bare, or a name to resolve), port.

    ``connection`` names the stream connection to use while it is open (a
    response goes back over the connection its request came on, RFC 3261
    18.2.2); ``local`` is the local UDP address to send from (the one the
    request arrived on, so that the response leaves from the address the
    peer sent to, RFC 3581 4). Both are None for a plain address.
    """

    transport: str
    host: str
    port: int
    connection: int | None = None
    local: tuple[str, int] | None = None


@dataclass(frozen=True, slots=True)
class Source:
    """Where a received message came from.

    ``remote`` and ``local`` are ``(host, port)`` with bare hosts;
    ``connection`` is the id of the stream connection (None for UDP).
    """

    transport: str
    remote: tuple[str, int]
    local: tuple[str, int]
    connection: int | None = None

    @property
    def reliable(self) -> bool:
        """True for TCP and TLS (RFC 3261 18: reliable transports)."""
        return self.transport in RELIABLE_TRANSPORTS


_set_source_transport, _set_source_remote, _set_source_local, _set_source_connection = (
    slot_setters(Source, "transport", "remote", "local", "connection")
)


def udp_source(remote: tuple[str, int], local: tuple[str, int]) -> Source:
    """``Source(UDP, remote, local)``, built the parsers' way (every datagram makes one)."""
    source = object.__new__(Source)
    _set_source_transport(source, UDP)
    _set_source_remote(source, remote)
    _set_source_local(source, local)
    _set_source_connection(source, None)
    return source


# -- addresses -----------------------------------------------------------------


def default_port(transport: str) -> int:
    """The port used when a URI or Via has none (RFC 3261 19.1.2, 18.2.2)."""
    return DEFAULT_TLS_PORT if transport.upper() == TLS else DEFAULT_PORT


def bare_host(host: str) -> str:
    """``host`` without the brackets of an IPv6 reference."""
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def ip_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address ``host`` spells (brackets allowed), or None for a host name.

    An IPv4-mapped IPv6 address (``::ffff:192.0.2.1``, what a dual-stack socket
    reports) is returned as the IPv4 address it maps.
    """
    try:
        address = ipaddress.ip_address(bare_host(host))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def normalize_host(host: str) -> str:
    """A canonical bare host: IP addresses in compressed form, names in lower case."""
    address = ip_address(host)
    return str(address) if address is not None else bare_host(host).lower()


def is_ipv6(host: str) -> bool:
    """True if ``host`` is an IPv6 address (with or without brackets)."""
    return isinstance(ip_address(host), ipaddress.IPv6Address)


def format_host_port(host: str, port: int | None = None) -> str:
    """``host[:port]`` for the wire: IPv6 addresses get brackets (RFC 5118 4.1)."""
    text = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return text if port is None else f"{text}:{port}"


def _same_address(sent_by_host: str, source_host: str) -> bool:
    sent_by = ip_address(sent_by_host)
    return sent_by is not None and sent_by == ip_address(source_host)


# -- RFC 3261 18.2.1 / RFC 3581 4: stamping received requests ------------------


def may_need_stamp(via: Via, source_host: str) -> bool:
    """False when :func:`stamped_via` would change nothing: the sent-by host is
    the source address as the transport writes it (normalized), and no ``rport``
    waits for its value (RFC 3261 18.2.1, RFC 3581 4). Saves parsing both
    addresses again for every request from a peer that fills its Via right.
    """
    if via.host != source_host:
        return True
    return any(value is None and name.lower() == "rport" for name, value in via.params)


def stamped_via(via: Via, source_host: str, source_port: int) -> Via:
    """The top Via of a request received from ``source_host:source_port``, with
    ``received`` and ``rport`` as the server adds them (``via`` itself when none is).

    RFC 3261 18.2.1: ``received`` is added when the sent-by host is a name or
    an address other than the packet's source. RFC 3581 4: an empty ``rport``
    gets the source port, and then ``received`` is added even when it equals
    the sent-by host.
    """
    source = normalize_host(source_host)
    if via.has_param("rport") and via.param("rport") is None:
        return via.with_params(rport=str(source_port), received=source)
    if not _same_address(via.host, source):
        return via.with_params(received=source)
    return via


def stamp_via(request: SipRequest, source_host: str, source_port: int) -> SipRequest:
    """Add ``received`` and fill ``rport`` in the top Via of a received request
    (:func:`stamped_via`). The request is changed in place (its headers only
    when something is added) and returned.
    """
    via = request.via
    stamped = stamped_via(via, source_host, source_port)
    if stamped is not via:
        request.headers.remove_first("Via")
        request.headers.add("Via", str(stamped), first=True)
    return request


# -- RFC 3261 18.2.2 / RFC 3581 4: where responses go --------------------------


def _via_transport(via: Via) -> str:
    transport = via.transport.upper()
    if transport not in TRANSPORTS:
        raise RoutingError(f"unsupported transport {via.transport!r} in Via")
    return transport


def response_target(via: Via, source: Source | None = None) -> Target:
    """Where a response with this top Via goes (RFC 3261 18.2.2, RFC 3581 4).

    ``source`` is where the request came from. Reliable transports: back over
    the request's connection while it is open (``Target.connection``), else to
    the ``received`` address (or the sent-by host) and the sent-by port or the
    transport's default. Unreliable transports: to ``maddr`` if present; else
    to ``received`` and ``rport`` when both are present; else to ``received``
    and the sent-by port (5060 if none); else to the sent-by address.
    """
    transport = _via_transport(via)
    received = via.received
    sent_by_port = via.port if via.port is not None else default_port(transport)
    if transport in RELIABLE_TRANSPORTS:
        connection = None
        if source is not None and source.transport == transport:
            connection = source.connection
        host = received if received is not None else via.host
        return Target(transport, bare_host(host), sent_by_port, connection)
    local = source.local if source is not None and source.transport == UDP else None
    maddr = via.param("maddr")
    if maddr is not None:
        return Target(transport, bare_host(maddr), sent_by_port, None, local)
    if received is not None:
        rport = via.rport
        if rport is not None:
            return Target(transport, bare_host(received), rport, None, local)
        return Target(transport, bare_host(received), sent_by_port, None, local)
    # RFC 3261 18.2.2 sends to sent-by "using the procedures in RFC 3263 5";
    # without SRV that is the host and the port (or the transport's default).
    return Target(transport, bare_host(via.host), sent_by_port, None, local)


def reply_via(via: Via, source: Source | None) -> Via:
    """The Via to route a response by: over UDP when the request came over UDP.

    A Via naming another transport (TCP, SCTP, or an unknown one: RFC 4475
    3.1.1.10) on a datagram is answered on the datagram's transport, from
    where it arrived (RFC 3261 18.2.2 sends responses back the way the
    request came).
    """
    if source is not None and not source.reliable and via.transport.upper() != source.transport:
        return replace(via, transport=source.transport)
    return via


def source_target(source: Source) -> Target:
    """Straight back to where a message came from (over its connection, if any).

    For stateless answers to requests whose Via cannot be parsed, where 18.2.2
    has nothing to work with.
    """
    return Target(
        source.transport,
        source.remote[0],
        source.remote[1],
        source.connection,
        source.local if source.transport == UDP else None,
    )


# -- RFC 3263 4 (without NAPTR/SRV): where requests go --------------------------


def named_transport(uri: SipUri) -> str | None:
    """The transport ``uri`` asks for (``transport=``, or TLS for SIPS), None when it names
    none; raises RoutingError for one we do not have (see :func:`resolve_target`)."""
    if not (uri.is_secure or uri.transport is not None):
        return None
    return resolve_target(uri).transport


def resolve_target(uri: SipUri) -> Target:
    """The transport, host and port for a request to ``uri`` (RFC 3263 4, no DNS).

    Transport: the ``transport`` parameter, else TLS for a SIPS URI, else UDP
    (what RFC 3263 4.1 picks for an IP address or an explicit port, and the
    fallback when NAPTR/SRV are not used); SIPS over ``transport=tcp`` is TLS.
    Host: the ``maddr`` parameter if present, else the URI host (a name is
    left for the edge to resolve). Port: the URI port, else 5060 (5061 for
    TLS, RFC 3263 4.2).
    """
    param = uri.transport
    if param is None:
        transport = TLS if uri.is_secure else UDP
    elif param in ("udp", "tcp", "tls"):
        transport = param.upper()
        if uri.is_secure:
            if transport == UDP:
                raise RoutingError("a SIPS URI cannot use transport=udp (RFC 3261 26.2.2)")
            transport = TLS
    else:
        raise RoutingError(f"unsupported transport {param!r} in {uri}")
    host = uri.maddr if uri.maddr is not None else uri.host
    port = uri.port if uri.port is not None else default_port(transport)
    return Target(transport, bare_host(host), port)


# -- stateless error responses to unparseable requests ---------------------------


def _raw_header_values(data: bytes) -> tuple[str, dict[str, list[str]]]:
    """The start line and the raw values of the copied headers, read leniently."""
    text = data.lstrip(b"\r\n").decode("utf-8", "surrogateescape")
    end = text.find("\r\n\r\n")
    head = text if end < 0 else text[:end]
    head = _UNFOLD_RE.sub(" ", head)
    lines = head.replace("\r\n", "\n").split("\n")
    values: dict[str, list[str]] = {key: [] for key in _COPIED}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            continue
        key = name.strip(" \t").lower()
        key = COMPACT_FORMS.get(key, key)
        if key in values:
            values[key].append(value.strip(" \t"))
    return lines[0], values


def _to_with_tag(to_value: str, tag: str) -> str:
    try:
        has_tag = NameAddress.parse(to_value).tag is not None
    except SipParseError:
        tail = to_value[to_value.rfind(">") + 1:]
        has_tag = _TAG_RE.search(tail) is not None
    return to_value if has_tag else f"{to_value};tag={tag}"


def error_response_for(data: bytes, error: SipParseError) -> bytes | None:
    """A stateless error response to a request that failed to parse, or None.

    The status is ``error.status`` (400, 505, 501, 513 ...). Via, From, To,
    Call-ID and CSeq are copied from the raw bytes (the first value of each
    single-value header, every Via; RFC 3261 8.2.6.2); To gets a tag derived
    from the bytes, so a retransmission gets the same response. Returns None
    (the message is dropped) when one of those headers is missing, for
    responses, and for ACK (RFC 3261 17.2.1: ACK is never answered).
    """
    start, values = _raw_header_values(data)
    if start[:4].upper() == "SIP/":
        return None  # a response: never answered (RFC 3261 18.1.2, RFC 4475 3.1.2.19)
    method = start.split(" ", 1)[0]
    if not method or method == "ACK":
        return None
    if any(not values[key] for key in _COPIED):
        return None
    cseq_method = values["cseq"][0].split()[-1:] or [""]
    if cseq_method[0] == "ACK":
        return None
    tag = hashlib.sha1(data).hexdigest()[:16]
    lines = [f"{SIP_VERSION} {error.status} {reason_phrase(error.status)}"]
    lines += [f"Via: {value}" for value in values["via"]]
    lines.append(f"From: {values['from'][0]}")
    lines.append(f"To: {_to_with_tag(values['to'][0], tag)}")
    lines.append(f"Call-ID: {values['call-id'][0]}")
    lines.append(f"CSeq: {values['cseq'][0]}")
    lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape")


def top_via(data: bytes) -> Via | None:
    """The parsed top Via of raw message bytes, or None when it cannot be parsed."""
    vias = _raw_header_values(data)[1]["via"]
    if not vias:
        return None
    items = split_comma_list(vias[0])
    try:
        return Via.parse(items[0]) if items and items[0] else None
    except SipParseError:
        return None


__all__ = [
    "DEFAULT_PORT",
    "DEFAULT_TLS_PORT",
    "RELIABLE_TRANSPORTS",
    "TCP",
    "TLS",
    "TRANSPORTS",
    "UDP",
    "RoutingError",
    "Source",
    "Target",
    "bare_host",
    "default_port",
    "error_response_for",
    "format_host_port",
    "ip_address",
    "is_ipv6",
    "may_need_stamp",
    "named_transport",
    "normalize_host",
    "reply_via",
    "resolve_target",
    "response_target",
    "source_target",
    "stamp_via",
    "stamped_via",
    "top_via",
    "udp_source",
]
