"""Parse throughput of tui-phone's SIP parser, side by side with pyVoIP 1.6.8.

Each round parses a message and reads Call-ID, CSeq, the top Via (branch),
From (tag) and To, the work every incoming message costs a user agent. The
messages: a realistic INVITE with SDP, a 200 OK, and RFC 4475 ``wsinv`` (read
from ../shared/testdata when present). Prints figures; never fails on time.

pyVoIP is only used here, for comparison, and is not a project dependency
(CI does not run the benches). Install it into the venv by hand:

    .venv/bin/pip install pyVoIP==1.6.8
    flock /tmp/cpu.lock .venv/bin/python bench/parse.py [--seconds 1.0]

Issue 2's target: the text read of the INVITE at least 5 times faster than
pyVoIP in the same run.
"""

from __future__ import annotations

import argparse
import sys
import timeit
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tui_phone.sip import parse_message  # noqa: E402

INVITE = (
    b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport\r\n"
    b"Max-Forwards: 70\r\n"
    b"To: Bob <sip:bob@biloxi.example.com>\r\n"
    b"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    b"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Contact: <sip:alice@pc33.atlanta.example.com:5060>\r\n"
    b"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY, INFO\r\n"
    b"Supported: replaces, timer\r\n"
    b"User-Agent: tui-phone/0.1\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: 230\r\n"
    b"\r\n"
    b"v=0\r\n"
    b"o=alice 2890844526 2890844526 IN IP4 pc33.atlanta.example.com\r\n"
    b"s=-\r\n"
    b"c=IN IP4 192.0.2.101\r\n"
    b"t=0 0\r\n"
    b"m=audio 49172 RTP/AVP 0 8 101\r\n"
    b"a=rtpmap:0 PCMU/8000\r\n"
    b"a=rtpmap:8 PCMA/8000\r\n"
    b"a=rtpmap:101 telephone-event/8000\r\n"
    b"a=fmtp:101 0-16\r\n"
    b"a=sendrecv\r\n"
)
OK_200 = (
    b"SIP/2.0 200 OK\r\n"
    b"Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport=5060;"
    b"received=192.0.2.101\r\n"
    b"To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
    b"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    b"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Contact: <sip:bob@192.0.2.4>\r\n"
    b"Content-Length: 0\r\n"
    b"\r\n"
)
WSINV_PATH = ROOT.parent / "shared" / "testdata" / "rfc4475" / "wsinv.sip"


def ours_text(data: bytes) -> object:
    """Lazy parse, then the five headers as text (the usual way to read them)."""
    headers = parse_message(data).headers
    return (
        headers.get("Call-ID"),
        headers.get("CSeq"),
        headers.get("Via"),
        headers.get("From"),
        headers.get("To"),
    )


def ours_typed(data: bytes) -> object:
    """Lazy parse, then the five headers parsed into objects (CSeq, Via, name-addrs)."""
    msg = parse_message(data)
    return (msg.call_id, msg.cseq.number, msg.via.branch, msg.from_addr.tag, msg.to_addr.uri)


def ours_validated(data: bytes) -> object:
    """What the transport edge does: parse, validate every core header, then read."""
    msg = parse_message(data, validate=True)
    return (msg.call_id, msg.cseq.number, msg.via.branch, msg.from_addr.tag, msg.to_addr.uri)


def pyvoip_reader() -> Callable[[bytes], object] | None:
    try:
        from pyVoIP import VoIP  # noqa: F401  (pyVoIP.SIP needs VoIP imported first)
        from pyVoIP.SIP import SIPMessage
    except ImportError:
        return None

    def theirs(data: bytes) -> object:
        msg = SIPMessage(data)
        h = msg.headers
        return (h["Call-ID"], h["CSeq"]["check"], h["Via"][0]["branch"], h["From"]["tag"], h["To"])

    return theirs


def rate(func: Callable[[bytes], object], data: bytes, seconds: float) -> float | str:
    try:
        func(data)
    except Exception as exc:  # a comparison library may reject a torture message
        return f"fails ({type(exc).__name__}: {str(exc)[:50]})"
    timer = timeit.Timer(lambda: func(data))
    number, _ = timer.autorange()
    # Many short repeats, keeping the best: on a machine shared with other
    # jobs the best short run is the one least disturbed by them.
    number = max(1, int(number * seconds / 0.2 / 25))
    best = min(timer.repeat(repeat=125, number=number))
    return number / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="rough time per measurement")
    args = parser.parse_args()
    messages = [("INVITE with SDP", INVITE), ("200 OK", OK_200)]
    if WSINV_PATH.exists():
        messages.append(("RFC 4475 wsinv", WSINV_PATH.read_bytes()))
    else:
        print(f"note: {WSINV_PATH} not found; wsinv skipped")
    theirs = pyvoip_reader()
    if theirs is None:
        print("note: pyVoIP not installed (pip install pyVoIP==1.6.8); showing tui-phone only")
    ours = [("text", ours_text), ("typed", ours_typed), ("validated", ours_validated)]
    print(
        "tui-phone, three ways: text = lazy parse + headers.get() of Call-ID, CSeq, Via,"
        " From, To;\n  typed = lazy parse + parsed CSeq, top Via, From and To objects;"
        "\n  validated = parse_message(validate=True) (every core header checked) + typed reads."
        "\npyVoIP: SIPMessage(data) + the same five headers from its dicts.\n"
    )
    print(f"{'message':<16} {'reader':<10} {'msg/s':>10} {'us/msg':>8} {'vs pyVoIP':>10}")
    for name, data in messages:
        b = rate(theirs, data, args.seconds) if theirs else "n/a"
        if isinstance(b, float):
            print(f"{name:<16} {'pyVoIP':<10} {b:10,.0f} {1e6 / b:8.2f} {'1.0x':>10}")
        else:
            print(f"{name:<16} {'pyVoIP':<10} {b}")
        for label, func in ours:
            a = rate(func, data, args.seconds)
            if not isinstance(a, float):
                print(f"{name:<16} {label:<10} {a}")
                continue
            ratio = f"{a / b:9.1f}x" if isinstance(b, float) else "-"
            print(f"{name:<16} {label:<10} {a:10,.0f} {1e6 / a:8.2f} {ratio:>10}")


if __name__ == "__main__":
    main()
