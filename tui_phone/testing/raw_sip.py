"""Send raw SIP datagrams and report the answers: the sender of the RFC 4475 torture test.

``python -m tui_phone.testing.raw_sip HOST PORT FILE...`` sends each file as
one UDP datagram, from the port its top Via names (5060 when it names none:
that is where an RFC 3261 18.2.2 response goes once ``received`` is added), and
prints one JSON line per file: ``{"name", "statuses"}``, every status received
within the wait. It then sends OPTIONS and prints ``{"name": "OPTIONS",
"statuses": [...]}``. Only ever run it inside a network namespace: the files
name outside addresses.
"""

from __future__ import annotations

import json
import re
import socket
import sys
import time
from pathlib import Path

WAIT = 0.4  # seconds to collect answers for one message
_VIA = re.compile(rb"^(?:Via|v)[ \t]*:[ \t]*SIP[ \t]*/[ \t]*2\.0[ \t]*/[ \t]*\w+[ \t]+"
                  rb"(\[[^\]]+\]|[^\s:;,]+)(?:[ \t]*:[ \t]*(\d+))?", re.IGNORECASE | re.MULTILINE)


def reply_port(data: bytes) -> int:
    """The sent-by port of the first Via (5060 by default, RFC 3261 18.2.2)."""
    head = data.split(b"\r\n\r\n", 1)[0]
    match = _VIA.search(head)
    if match is None or match.group(2) is None:
        return 5060
    return int(match.group(2))


def _header(message: bytes, *names: bytes) -> bytes | None:
    head = message.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n")[1:]:
        name, sep, value = line.partition(b":")
        if sep and name.strip().lower() in names:
            return value.strip()
    return None


def _acknowledge(sock: socket.socket, request: bytes, response: bytes,
                 destination: tuple[str, int]) -> None:
    """ACK a final response to an INVITE (and BYE a 2xx), so the UAS stops retransmitting.

    Built from the response's own Via, From, To, Call-ID and CSeq (RFC 3261
    17.1.1.3); good enough for a test peer, which is all this is.
    """
    status = int(response[8:11])
    cseq = _header(response, b"cseq") or b""
    if not cseq.upper().endswith(b"INVITE"):
        return
    number = cseq.split()[0]
    uri = request.split(b" ", 2)[1]
    fields = {name: _header(response, name.lower(), short) for name, short in (
        (b"Via", b"v"), (b"From", b"f"), (b"To", b"t"), (b"Call-ID", b"i"))}
    if any(value is None for value in fields.values()):
        return
    via = fields[b"Via"]
    if status < 300:
        via = b"SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK-ack-" + number
    common = (b"From: " + fields[b"From"] + b"\r\nTo: " + fields[b"To"] + b"\r\nCall-ID: "
              + fields[b"Call-ID"] + b"\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
    sock.sendto(b"ACK " + uri + b" SIP/2.0\r\nVia: " + via + b"\r\nCSeq: " + number
                + b" ACK\r\n" + common, destination)
    if status < 300:
        sock.sendto(b"BYE " + uri + b" SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK-bye-"
                    + number + b"\r\nCSeq: " + str(int(number) + 1).encode() + b" BYE\r\n"
                    + common, destination)


def exchange(host: str, port: int, data: bytes, wait: float = WAIT) -> list[int]:
    """Send ``data`` once; the status codes of the responses to it seen within ``wait``.

    Responses for another Call-ID (retransmissions meant for an earlier
    message) are not counted.
    """
    statuses: list[int] = []
    call_id = _header(data, b"call-id", b"i")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", reply_port(data)))
        except OSError:
            sock.bind(("127.0.0.1", 5060))
        sock.sendto(data, (host, port))
        deadline = time.monotonic() + wait
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                answer = sock.recv(65535)
            except (TimeoutError, ConnectionRefusedError):
                continue
            match = re.match(rb"SIP/2\.0 (\d{3}) ", answer)
            if not match:
                continue
            if call_id is not None and _header(answer, b"call-id", b"i") != call_id:
                continue
            statuses.append(int(match.group(1)))
            if int(match.group(1)) >= 200:
                _acknowledge(sock, data, answer, (host, port))
    return statuses


def options(host: str, port: int) -> bytes:
    return (f"OPTIONS sip:{host}:{port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;"
            "branch=z9hG4bK-after-torture\r\nMax-Forwards: 70\r\n"
            f"To: <sip:{host}:{port}>\r\nFrom: <sip:probe@127.0.0.1>;tag=after\r\n"
            "Call-ID: after-torture@127.0.0.1\r\nCSeq: 1 OPTIONS\r\n"
            "Content-Length: 0\r\n\r\n").encode()


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    host, port, files = args[0], int(args[1]), args[2:]
    for name in files:
        path = Path(name)
        statuses = exchange(host, port, path.read_bytes())
        print(json.dumps({"name": path.stem, "statuses": statuses}), flush=True)
    print(json.dumps({"name": "OPTIONS", "statuses": exchange(host, port, options(host, port))}),
          flush=True)


if __name__ == "__main__":
    main()
