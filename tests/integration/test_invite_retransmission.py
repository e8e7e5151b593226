"""An INVITE retransmitted after our 200 OK is absorbed (RFC 6026 Accepted), not taken
for a merged request (482): sipp retransmits like this when the 200 is slow to come."""

from __future__ import annotations

import re
import socket
from pathlib import Path

from tui_phone.testing.peers import free_port, start_answer, stop

SDP = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=audio {rtp} RTP/AVP 0\r\n")


def test_late_invite_copy_gets_no_482(tmp_path: Path) -> None:
    answer = start_answer(tmp_path)
    port = answer.port
    statuses: list[int] = []
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            sock.settimeout(0.3)
            me = sock.getsockname()[1]
            body = SDP.format(rtp=free_port(pair=True))
            invite = (f"INVITE sip:x@127.0.0.1:{port} SIP/2.0\r\n"
                      f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bK-late-1;rport\r\n"
                      "Max-Forwards: 70\r\nFrom: <sip:t@127.0.0.1>;tag=late\r\n"
                      f"To: <sip:x@127.0.0.1:{port}>\r\nCall-ID: late-invite@127.0.0.1\r\n"
                      f"CSeq: 1 INVITE\r\nContact: <sip:t@127.0.0.1:{me}>\r\n"
                      f"Content-Type: application/sdp\r\nContent-Length: {len(body)}\r\n\r\n"
                      f"{body}").encode()
            for _ in range(2):  # the original, then the same bytes again once answered
                sock.sendto(invite, ("127.0.0.1", port))
                for _ in range(4):
                    try:
                        data = sock.recv(65535)
                    except TimeoutError:
                        break
                    statuses.append(int(data[8:11]))
            ok = [s for s in statuses if s == 200]
            assert ok, statuses
            to = re.search(rb"^To: (.*)$", data, re.MULTILINE)
            assert to is not None
            tail = (b"From: <sip:t@127.0.0.1>;tag=late\r\nTo: " + to.group(1).strip()
                    + b"\r\nCall-ID: late-invite@127.0.0.1\r\nMax-Forwards: 70\r\n"
                    b"Content-Length: 0\r\n\r\n")
            for method, cseq in ((b"ACK", b"1"), (b"BYE", b"2")):
                sock.sendto(method + f" sip:x@127.0.0.1:{port} SIP/2.0\r\n".encode()
                            + f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bK-late-".encode()
                            + method + b"\r\nCSeq: " + cseq + b" " + method + b"\r\n" + tail,
                            ("127.0.0.1", port))
    finally:
        stop(answer.process)
    assert 482 not in statuses, statuses
