"""A tiny UAS on :class:`~tui_phone.sip.transport.TransportLayer`, for peer tests (sipp).

It answers INVITE with 180 and 200 (with a fixed SDP answer), ignores ACK and
answers everything else with 200, statelessly: enough for sipp's built-in
``uac`` scenario, and it records what it saw so tests can check the Via
stamping and the response routing.
"""

from __future__ import annotations

from typing import Any

from ..sip.message import SipRequest, SipResponse
from ..sip.responses import build_response
from ..sip.routing import UDP, Source, Target, format_host_port, response_target
from ..sip.transport import TransportLayer

SDP_ANSWER = (
    "v=0\r\n"
    "o=tinyuas 1 1 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "c=IN IP4 127.0.0.1\r\n"
    "t=0 0\r\n"
    "m=audio 9 RTP/AVP 0\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
)


class TinyUas:
    """Answers requests on a UDP listener; ``seen`` and ``sent`` record the traffic."""

    def __init__(self, reactor: Any) -> None:
        self.layer = TransportLayer(reactor, self.on_message, self.on_invalid)
        self.seen: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []
        self.invalid: list[str] = []
        self.errors: list[str] = []

    def listen(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, int]:
        """Open the UDP listener; returns its address."""
        return self.layer.listen_udp(host, port)

    def on_message(self, message: SipRequest | SipResponse, source: Source) -> None:
        """Answer a request (responses are not expected and are ignored)."""
        if not isinstance(message, SipRequest):
            return
        self.seen.append({
            "method": message.method,
            "via": message.headers.get("Via"),
            "source": list(source.remote),
        })
        if message.method == "ACK":
            return
        if message.method == "INVITE":
            self._respond(message, source, 180)
            self._respond(message, source, 200, SDP_ANSWER.encode())
        else:
            self._respond(message, source, 200)

    def on_invalid(self, data: bytes, error: Exception, source: Source) -> None:
        """Record what did not parse."""
        self.invalid.append(str(error))

    def _respond(self, request: SipRequest, source: Source, status: int, body: bytes = b"") -> None:
        response = build_response(request, status, to_tag="tinyuas")
        if status == 200 and request.method == "INVITE":
            host, port = self.layer.local_address(UDP)
            response.headers.add("Contact", f"<sip:uas@{format_host_port(host, port)}>")
            response.set_body(body, "application/sdp")
        else:
            response.set_body(b"")
        target: Target = response_target(response.via, source)
        self.sent.append({"status": status, "method": request.method, "target": list(target[:3])})
        sending = self.layer.send(response, target)
        sending.addErrback(lambda failure: self.errors.append(failure.getErrorMessage()))
