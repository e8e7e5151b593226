"""TLS settings for SIP over TLS (RFC 3261 26.2.1, RFC 5922): client and server options.

Clients verify the server's certificate by default, through Twisted's
``optionsForClientTLS`` (the chain against a trust root, then the host name or
IP address with ``service_identity``). Turning verification off is an explicit
per-account choice that is logged as a warning on every connection.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from twisted.internet.ssl import (
    Certificate,
    CertificateOptions,
    PrivateCertificate,
    optionsForClientTLS,
    platformTrust,
    trustRootFromCertificates,
)
from twisted.protocols.tls import TLSMemoryBIOFactory
from twisted.python.failure import Failure

from .base import TlsClientConfig, logger

_PEM_CERT_RE = re.compile(
    rb"-----BEGIN CERTIFICATE-----\r?\n.+?\r?\n-----END CERTIFICATE-----", re.DOTALL
)


def _certificates(path: str | Path) -> list[Certificate]:
    data = Path(path).read_bytes()
    blocks = _PEM_CERT_RE.findall(data)
    if not blocks:
        raise ValueError(f"no PEM certificate in {path}")
    return [Certificate.loadPEM(block) for block in blocks]


def client_tls_options(host: str, config: TlsClientConfig) -> Any:
    """A client connection creator for a TLS connection to ``host``.

    With ``config.verify`` the server must present a certificate that chains
    to the trust root and names ``config.server_name`` or ``host``.
    """
    name = config.server_name or host
    if not config.verify:
        logger.warning("TLS certificate verification is off for %s (account setting)", name)
        # CertificateOptions() does not verify the peer.
        return CertificateOptions()
    if config.ca_file is None:
        trust = platformTrust()
    else:
        trust = trustRootFromCertificates(_certificates(config.ca_file))
    return optionsForClientTLS(name, trustRoot=trust)


def server_tls_options(cert: str | Path, key: str | Path) -> CertificateOptions:
    """Server TLS options from PEM files: ``cert`` (leaf first, then its chain) and ``key``."""
    chain = _certificates(cert)
    leaf = PrivateCertificate.loadPEM(chain[0].dumpPEM() + Path(key).read_bytes())
    return CertificateOptions(
        privateKey=leaf.privateKey.original,
        certificate=leaf.original,
        extraCertChain=[c.original for c in chain[1:]],
    )


def describe_tls_failure(reason: Failure) -> tuple[bool, str]:
    """``(is_verification_failure, text)`` for why a TLS handshake failed.

    OpenSSL reports chain errors as ``certificate verify failed``;
    ``service_identity`` reports a name mismatch as a VerificationError.
    """
    error = reason.value
    if type(error).__name__ == "VerificationError":
        mismatches = getattr(error, "errors", None) or [error]
        return True, "the certificate does not name the server: " + "; ".join(
            str(mismatch) for mismatch in mismatches
        )
    args = getattr(error, "args", ())
    if args and isinstance(args[0], list):
        # OpenSSL.SSL.Error: a list of (library, function, reason) tuples.
        texts = [str(entry[-1]) for entry in args[0] if isinstance(entry, tuple) and entry]
        text = "; ".join(t for t in texts if t) or str(error)
        return "certificate verify failed" in text, text
    return False, str(error) or type(error).__name__


def wrap_server(factory: Any, cert: str | Path, key: str | Path) -> TLSMemoryBIOFactory:
    """``factory`` behind a TLS server layer with this certificate and key."""
    options: Any = server_tls_options(cert, key)
    return TLSMemoryBIOFactory(options, False, factory)


def wrap_client(factory: Any, host: str, config: TlsClientConfig) -> TLSMemoryBIOFactory:
    """``factory`` behind a TLS client layer that checks the server per ``config``."""
    return TLSMemoryBIOFactory(client_tls_options(host, config), True, factory)
