"""A call whose target URI names its transport: Via, Contact and the connection agree.

RFC 3261 18.1.1: the Via's sent-protocol is the transport the request goes
over; RFC 3263 4.1: a ``transport`` parameter in the URI chooses it. The
callee here is a bare TCP socket in the test that reads the INVITE and
refuses it, so what tui-phone wrote is checked byte for byte.
"""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

from tui_phone.sip.framing import StreamFramer
from tui_phone.sip.message import SipRequest, parse_message
from tui_phone.testing.peers import environment, tui_phone_command


def read_message(connection: socket.socket) -> SipRequest:
    """The first SIP message on a stream, framed as our TCP transport frames it."""
    framer = StreamFramer()
    while True:
        chunk = connection.recv(65535)
        assert chunk, "connection closed before a whole message"
        messages = [event for event in framer.feed(chunk) if isinstance(event, SipRequest)]
        if messages:
            return messages[0]


def refusal(invite: SipRequest) -> bytes:
    """486 Busy Here to ``invite``."""
    headers = "".join(f"{name}: {value}\r\n" for name, value in invite.headers
                      if name.lower() in ("via", "from", "to", "call-id", "cseq"))
    return f"SIP/2.0 486 Busy Here\r\n{headers}Content-Length: 0\r\n\r\n".encode()


def test_transport_tcp_in_the_uri_goes_over_tcp_with_a_tcp_via_and_contact() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        server.settimeout(20)
        port = server.getsockname()[1]
        call = subprocess.Popen(
            tui_phone_command("call", f"sip:bob@127.0.0.1:{port};transport=tcp", "--duration", "1"),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=environment())
        try:
            connection, _ = server.accept()
            with connection:
                connection.settimeout(20)
                invite = read_message(connection)
                connection.sendall(refusal(invite))
                output, _ = call.communicate(timeout=30)
        finally:
            if call.poll() is None:
                call.kill()
    assert invite.method == "INVITE"
    assert invite.via.transport == "TCP", invite.headers.get("Via")
    assert (invite.contacts[0].uri.transport, invite.contacts[0].uri.port) == ("tcp", invite.via.port)
    assert call.returncode == 3 and output.decode().splitlines()[-1] == "486 Busy Here"


def test_a_transport_the_phone_cannot_use_is_a_clear_error() -> None:
    result = subprocess.run(
        tui_phone_command("call", "sip:bob@127.0.0.1:5999;transport=sctp"),
        capture_output=True, text=True, timeout=30, env=environment(), check=False)
    assert result.returncode != 0
    assert "unsupported transport 'sctp'" in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_the_accounts_local_port_is_where_the_call_listens(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as callee, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        callee.bind(("127.0.0.1", 0))
        callee.settimeout(20)
        probe.bind(("127.0.0.1", 0))
        local_port = probe.getsockname()[1]
        probe.close()  # free again, for the phone
        config = tmp_path / "fixed.toml"
        config.write_text(f'[accounts.a]\nuri = "sip:alice@127.0.0.1"\nlocal_port = {local_port}\n')
        call = subprocess.Popen(
            tui_phone_command("call", "--account", "a",
                              f"sip:bob@127.0.0.1:{callee.getsockname()[1]}", config=config),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=environment())
        try:
            data, source = callee.recvfrom(65535)
            invite = parse_message(data)
            assert isinstance(invite, SipRequest)
            callee.sendto(refusal(invite), source)
            output, _ = call.communicate(timeout=30)
        finally:
            if call.poll() is None:
                call.kill()
    assert source[1] == local_port and invite.via.port == local_port
    assert invite.contacts[0].uri.port == local_port
    assert call.returncode == 3 and output.decode().splitlines()[-1] == "486 Busy Here"
