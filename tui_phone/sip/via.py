"""The Via header (RFC 3261 20.42, 18.2.1; RFC 3581 rport; RFC 5118 IPv6)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ._uri_syntax import slot_setters
from .errors import SipParseError

MAGIC_COOKIE = "z9hG4bK"  # RFC 3261 8.1.1.7

_new = object.__new__

_TOKEN_RE = re.compile(r"[A-Za-z0-9.!%*_+`'~-]+\Z")
# RFC 3261 25.1 host (hostname / IPv4address / IPv6reference, loosely), as the
# careful path checks it.
# A label is alphanumeric runs joined by hyphens: the same language as
# alphanum [ *( alphanum / "-" ) alphanum ], written so the regex engine does
# not back off at the end of every label.
_LABEL = r"[A-Za-z0-9]+(?:-+[A-Za-z0-9]+)*"
_HOST = rf"(?:{_LABEL}(?:\.{_LABEL})*\.?|\[[0-9A-Fa-f:.]+\])"
# The usual shape, written by nearly every stack: no spaces. It accepts only
# what the careful path accepts (same host rule; a port above 65535 goes there
# for its error) and gives the same Via.
_FAST_RE = re.compile(
    rf"SIP/2\.0/([A-Za-z0-9.!%*_+`'~-]+) ({_HOST})(?::([0-9]{{1,5}}))?"
    r"((?:;[A-Za-z0-9.!%*_+`'~-]+(?:=[A-Za-z0-9.!%*_+`'~:\[\]-]*)?)*)\Z"
)
# Any legal spacing (SWS around "/", ":", ";" and "=", RFC 3261 25.1).
_SLOW_RE = re.compile(
    r"\s*([^\s/]+)\s*/\s*([^\s/]+)\s*/\s*([^\s/;]+)\s+"
    r"(\[[^\]\s]*\]|[^\s;:\[\]]+)(?:\s*:\s*([0-9]+))?\s*(;.*)?\Z",
    re.S,
)
_HOST_RE = re.compile(_HOST + r"\Z")


def _parse_params(text: str, whole: str) -> tuple[tuple[str, str | None], ...]:
    params: list[tuple[str, str | None]] = []
    for raw in text.split(";")[1:]:
        name, eq, value = raw.partition("=")
        name = name.strip()
        if not name or not _TOKEN_RE.match(name):
            raise SipParseError(f"malformed Via {whole!r}: empty or invalid parameter")
        if eq:
            value = value.strip()
            if not value:
                raise SipParseError(f"malformed Via {whole!r}: parameter {name} has no value")
            params.append((name, value))
        else:
            params.append((name, None))
    return tuple(params)


@dataclass(frozen=True, slots=True)
class Via:
    """One Via value: ``SIP/2.0/UDP host:port;branch=...;received=...;rport``."""

    transport: str
    host: str
    port: int | None = None
    params: tuple[tuple[str, str | None], ...] = ()
    protocol: str = "SIP/2.0"
    raw: str | None = field(default=None, compare=False, repr=False)

    @classmethod
    def parse(cls, text: str) -> Via:
        """Parse one Via value (the header layer splits comma lists)."""
        m = _FAST_RE.match(text)
        if m is not None:
            transport, host, port, rest = m.groups()
            port_number = int(port) if port else None
            if port_number is not None and port_number > 65535:
                return cls._parse_slow(text)  # raises "port out of range"
            if rest:
                # The regex checked every name (a token) and the value
                # characters; only an empty value ("branch=") is left to reject.
                if "=;" in rest or rest[-1] == "=":
                    _parse_params(rest, text)  # raises with the exact reason
                items = []
                for item in rest[1:].split(";"):
                    name, eq, value = item.partition("=")
                    items.append((name, value if eq else None))
                params = tuple(items)
            else:
                params = ()
            via = _new(Via)
            _set_via_transport(via, transport.upper())
            _set_via_host(via, host)
            _set_via_port(via, port_number)
            _set_via_params(via, params)
            _set_via_protocol(via, "SIP/2.0")
            _set_via_raw(via, text)
            return via
        return cls._parse_slow(text)

    @classmethod
    def _parse_slow(cls, text: str) -> Via:
        m = _SLOW_RE.match(text)
        if m is None:
            raise SipParseError(f"malformed Via {text!r}")
        name, version, transport, host, port, rest = m.groups()
        if not (_TOKEN_RE.match(name) and _TOKEN_RE.match(version) and _TOKEN_RE.match(transport)):
            raise SipParseError(f"malformed Via {text!r}: bad sent-protocol")
        if not _HOST_RE.match(host):
            raise SipParseError(f"malformed Via {text!r}: bad host {host!r}")
        port_number = None
        if port is not None:
            port_number = int(port)
            if port_number > 65535:
                raise SipParseError(f"malformed Via {text!r}: port {port} out of range")
        params = _parse_params(rest, text) if rest else ()
        protocol = f"{name.upper()}/{version}"
        return cls(transport.upper(), host, port_number, params, protocol, text)

    def param(self, name: str) -> str | None:
        """The value of a parameter (case-insensitive name), or None."""
        low = name.lower()
        for key, value in self.params:
            if key.lower() == low:
                return value
        return None

    def has_param(self, name: str) -> bool:
        """Whether the parameter is present (with or without a value)."""
        low = name.lower()
        return any(key.lower() == low for key, _ in self.params)

    @property
    def branch(self) -> str | None:
        """The branch parameter (transaction id, RFC 3261 8.1.1.7)."""
        return self.param("branch")

    @property
    def received(self) -> str | None:
        """The received parameter added by the server (RFC 3261 18.2.1)."""
        return self.param("received")

    @property
    def rport(self) -> int | None:
        """The rport value filled in by the server (RFC 3581 4), else None."""
        value = self.param("rport")
        if value is None or not value.isdigit():
            return None
        return int(value)

    @property
    def sent_by(self) -> tuple[str, int | None]:
        """(host, port) as written by the sender."""
        return self.host, self.port

    def with_params(self, **changes: str | None) -> Via:
        """A copy with parameters added or replaced (``rport=""`` writes a bare rport)."""
        params = list(self.params)
        for name, value in changes.items():
            stored = None if value == "" else value
            for i, (key, _old) in enumerate(params):
                if key.lower() == name.lower():
                    params[i] = (key, stored)
                    break
            else:
                params.append((name, stored))
        return Via(self.transport, self.host, self.port, tuple(params), self.protocol)

    def __str__(self) -> str:
        if self.raw is not None:
            return self.raw
        sent_by = self.host if self.port is None else f"{self.host}:{self.port}"
        params = "".join(f";{k}" if v is None else f";{k}={v}" for k, v in self.params)
        return f"{self.protocol}/{self.transport} {sent_by}{params}"


# Building parsed values on the hot path (fields checked by the parser).
(
    _set_via_transport,
    _set_via_host,
    _set_via_port,
    _set_via_params,
    _set_via_protocol,
    _set_via_raw,
) = slot_setters(Via, "transport", "host", "port", "params", "protocol", "raw")
