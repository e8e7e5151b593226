"""A lossy SIP relay for the loss interop test: an ImpairmentRelay that record-routes.

``python -m tui_phone.testing.sip_relay TARGET_PORT LOSS SEED`` listens on a
free loopback port, prints ``relay on 127.0.0.1:PORT`` and relays every
datagram between the client and ``127.0.0.1:TARGET_PORT``, dropping ``LOSS``
of them in each direction (seeded). It adds a ``Record-Route`` naming itself
to the initial INVITEs it forwards, so that the whole dialog (ACK, BYE and
their responses) goes through it and not only the INVITE transaction.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from .impairment import Address, ImpairmentProfile, ImpairmentRelay

_TO_TAG = re.compile(rb"^(?:To|t)[ \t]*:[^\r\n]*;[ \t]*tag[ \t]*=", re.IGNORECASE | re.MULTILINE)


class RecordRouteRelay(ImpairmentRelay):
    """Adds ``Record-Route: <sip:relay;lr>`` to initial INVITEs (RFC 3261 16.6 step 4)."""

    def datagram_received(self, datagram: bytes, source: Address) -> None:
        if source != self.target and datagram.startswith(b"INVITE "):
            head, sep, body = datagram.partition(b"\r\n\r\n")
            if sep and not _TO_TAG.search(head):
                host, port = self.address
                line, rest = head.split(b"\r\n", 1)
                record = f"Record-Route: <sip:{host}:{port};lr>".encode()
                datagram = line + b"\r\n" + record + b"\r\n" + rest + sep + body
        super().datagram_received(datagram, source)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    target_port, loss, seed = int(args[0]), float(args[1]), int(args[2])
    from twisted.internet import reactor

    profile = ImpairmentProfile(loss=loss)
    relay = RecordRouteRelay(("127.0.0.1", target_port), profile, backward=profile, seed=seed,
                             reactor=reactor)
    host, port = relay.start()

    def report() -> None:
        print(f"relay on {host}:{port}", flush=True)

    def counters(*_: Any) -> None:
        print(f"forward {relay.forward.counters} backward {relay.backward.counters}", flush=True)

    reactor.callWhenRunning(report)  # type: ignore[attr-defined]
    reactor.addSystemEventTrigger("before", "shutdown", counters)  # type: ignore[attr-defined]
    reactor.run()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
