"""validate() skips the duplicate checks when no header name repeats and counts
CRs and LFs instead of joining lines: the same faults are still found, with the
same reasons, whether or not some other header repeats."""

from __future__ import annotations

import pytest

from tui_phone.sip.errors import SipParseError
from tui_phone.sip.message import parse_message

HEAD = ("INVITE sip:bob@127.0.0.1 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-1\r\n"
        "From: <sip:alice@127.0.0.1>;tag=a\r\nTo: <sip:bob@127.0.0.1>\r\n"
        "Call-ID: c@test\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@127.0.0.1:5099>\r\n")
SECOND_VIA = "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-2\r\n"


def message(extra: str, *, repeat_via: bool, drop: str | None = None) -> bytes:
    head = HEAD + (SECOND_VIA if repeat_via else "")
    if drop is not None:
        head = "".join(line + "\r\n" for line in head.split("\r\n")[:-1]
                       if not line.startswith(drop))
    return (head + extra + "Content-Length: 0\r\n\r\n").encode()


@pytest.mark.parametrize("repeat_via", [False, True])
@pytest.mark.parametrize(("extra", "drop", "reason"), [
    ("Call-ID: other@test\r\n", None, "duplicate Call-ID header"),
    ("From: <sip:eve@127.0.0.1>;tag=e\r\n", None, "duplicate From header"),
    ("Max-Forwards: 70\r\nMax-Forwards: 69\r\n", None, "duplicate Max-Forwards header"),
    ("Content-Length: 5\r\n", None, "conflicting Content-Length values"),
    ("", "To:", "missing To header"),
    ("", "CSeq:", "missing CSeq header"),
    ("X-Odd: a\rb\r\n", None, "bare CR or LF in the header section"),
    ("X-Odd: a\nb\r\n", None, "bare CR or LF in the header section"),
])
def test_the_same_fault_is_found_either_way(repeat_via: bool, extra: str, drop: str | None,
                                            reason: str) -> None:
    data = message(extra, repeat_via=repeat_via, drop=drop)
    with pytest.raises(SipParseError) as raised:
        parse_message(data, validate=True)
    assert str(raised.value) == reason


@pytest.mark.parametrize("repeat_via", [False, True])
def test_a_good_request_passes_and_keeps_its_vias(repeat_via: bool) -> None:
    request = parse_message(message("Content-Length: 0\r\n", repeat_via=repeat_via),
                            validate=True)
    assert len(request.vias) == (2 if repeat_via else 1)
