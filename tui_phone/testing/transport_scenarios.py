"""Transport scenarios on a real reactor over loopback; run one per interpreter.

    python -m tui_phone.testing.transport_scenarios NAME '{"arg": 1}' --reactor asyncio

Each ``scenario_NAME(reactor, args)`` coroutine drives two transport layers
(or a layer and a raw peer, or sipp) and returns facts as a JSON-able dict,
which ``main`` prints as the last stdout line. Failures print
``{"error": ..., "traceback": ...}`` and exit 1. Only 127.0.0.1 and ::1 are
ever used. Tests call these through
:func:`tui_phone.testing.scenario_tools.run_scenario`.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import socket
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

from ..loop import install_reactor
from .scenario_tools import Inbox, sip_request, sleep, wait_until

SCENARIO_TIMEOUT = 40.0
SIPP = "/usr/bin/sipp"


def _layer(reactor: Any, name: str, **options: Any) -> tuple[Any, Inbox, Inbox]:
    from ..sip.transport import TransportLayer

    inbox, invalid = Inbox(reactor, f"{name} messages"), Inbox(reactor, f"{name} invalid")
    return TransportLayer(reactor, inbox, invalid, **options), inbox, invalid


def _respond(layer: Any, request: Any, source: Any, status: int = 200) -> Any:
    from ..sip.responses import build_response
    from ..sip.routing import response_target

    response = build_response(request, status, to_tag="scenario")
    response.set_body(b"")
    target = response_target(response.via, source)
    return layer.send(response, target), target


def _free_port(host: str = "127.0.0.1", step: int = 0, kind: int = socket.SOCK_DGRAM) -> int:
    """A port that is free now (and ``port + step`` too, when ``step`` is given)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(100):
        with socket.socket(family, kind) as first:
            first.bind((host, 0))
            port: int = first.getsockname()[1]
            if not step:
                return port
            if port + step > 65535:
                continue
            try:
                with socket.socket(family, kind) as second:
                    second.bind((host, port + step))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


# -- UDP -------------------------------------------------------------------------


async def scenario_udp_request_response(reactor: Any, args: dict[str, Any]) -> dict[str, Any]:
    """A sends OPTIONS to B over UDP with ``sent_by`` in its Via; B answers per 18.2.2."""
    from ..sip.routing import Target, format_host_port

    host = args.get("host", "127.0.0.1")
    a, a_inbox, _ = _layer(reactor, "A")
    b, b_inbox, _ = _layer(reactor, "B")
    a_log, b_log = Inbox(reactor, "A log"), Inbox(reactor, "B log")
    a._on_log, b._on_log = a_log, b_log
    a_addr = a.listen_udp(host, 0)
    b_addr = b.listen_udp(host, 0)
    sent_by = args.get("sent_by", "localhost:9")
    rport = ";rport" if args.get("rport", True) else ""
    request = sip_request(
        "OPTIONS", f"sip:b@{format_host_port(*b_addr)}",
        f"SIP/2.0/UDP {sent_by}{rport};branch=z9hG4bK-udp-1",
    )
    await a.send(request, Target("UDP", f"[{b_addr[0]}]" if ":" in b_addr[0] else b_addr[0],
                                 b_addr[1]))
    received, source = await b_inbox.get()
    sending, target = _respond(b, received, source)
    await sending
    response, response_source = await a_inbox.get()
    await a.stop()
    await b.stop()
    return {
        "a": list(a_addr), "b": list(b_addr),
        "stamped_via": received.headers.get("Via"),
        "source": [source.transport, list(source.remote), list(source.local), source.connection],
        "target": [target.transport, target.host, target.port],
        "response_status": response.status,
        "response_via": response.headers.get("Via"),
        "response_source": list(response_source.remote),
        "a_log": [(e.direction, e.transport, list(e.local), list(e.remote)) for e in a_log.items],
        "b_log": [(e.direction, e.transport, list(e.local), list(e.remote)) for e in b_log.items],
        "log_bytes_match": a_log.items[0].data == request,
    }


async def scenario_udp_keepalive(reactor: Any, args: dict[str, Any]) -> dict[str, Any]:
    """A sends CRLF keep-alive datagrams to a raw UDP socket; then stops."""
    from twisted.internet.protocol import DatagramProtocol

    from ..sip.routing import Target

    datagrams: list[bytes] = []

    class Counter(DatagramProtocol):
        def datagramReceived(self, data: bytes, addr: Any) -> None:
            datagrams.append(data)

    port = reactor.listenUDP(0, Counter(), interface="127.0.0.1")
    a, _, _ = _layer(reactor, "A")
    a.listen_udp("127.0.0.1", 0)
    handle = a.start_udp_keepalive(Target("UDP", "127.0.0.1", port.getHost().port), 0.1)
    await wait_until(reactor, lambda: len(datagrams) >= 3, timeout=5)
    handle.stop()
    count = len(datagrams)
    await sleep(reactor, 0.35)
    await a.stop()
    await port.stopListening()
    return {"datagrams": [d.decode() for d in datagrams], "at_stop": count,
            "after_stop": len(datagrams), "active": handle.active}


# -- TCP -------------------------------------------------------------------------


def _tcp_request(a_addr: tuple[str, int], b_addr: tuple[str, int], n: int) -> bytes:
    return sip_request(
        "OPTIONS", f"sip:b@{b_addr[0]}:{b_addr[1]};transport=tcp",
        f"SIP/2.0/TCP {a_addr[0]}:{a_addr[1]};rport;branch=z9hG4bK-tcp-{n}",
        call_id=f"tcp-{n}", cseq=n,
    )


async def scenario_tcp_reuse(reactor: Any, args: dict[str, Any]) -> dict[str, Any]:
    """Connection reuse both ways, responses on the request's connection, and 18.2.2 fallback."""
    from ..sip.routing import Target

    a, a_inbox, _ = _layer(reactor, "A")
    b, b_inbox, _ = _layer(reactor, "B")
    a_addr = a.listen_tcp("127.0.0.1", 0)
    b_addr = b.listen_tcp("127.0.0.1", 0)
    to_b = Target("TCP", *b_addr)
    facts: dict[str, Any] = {}

    # 1: a new connection A -> B; the response comes back on it.
    await a.send(_tcp_request(a_addr, b_addr, 1), to_b)
    request, source = await b_inbox.get()
    sending, target = _respond(b, request, source)
    await sending
    response, response_source = await a_inbox.get()
    facts["first"] = {
        "b_source_connection": source.connection, "target_connection": target.connection,
        "a_response_connection": response_source.connection, "status": response.status,
        "stamped_via": request.headers.get("Via"),
    }
    # 2: the next request reuses it.
    await a.send(_tcp_request(a_addr, b_addr, 2), to_b)
    request, source2 = await b_inbox.get()
    sending, _ = _respond(b, request, source2)
    await sending
    response, response_source2 = await a_inbox.get()
    facts["second"] = {"b_source_connection": source2.connection,
                       "a_response_connection": response_source2.connection}
    # 3: B sends a request to A's ephemeral address: the incoming connection is reused.
    await b.send(_tcp_request(b_addr, a_addr, 3), Target("TCP", *source.remote))
    request3, source3 = await a_inbox.get()
    facts["reverse"] = {"a_source_connection": source3.connection, "method": request3.method}
    facts["connections_before_close"] = {
        "a": [[c.connection_id, c.outgoing] for c in a.connections()],
        "b": [[c.connection_id, c.outgoing] for c in b.connections()],
    }
    # 4: A closes the connection before B answers: B must open one to A's sent-by.
    await a.send(_tcp_request(a_addr, b_addr, 4), to_b)
    request4, source4 = await b_inbox.get()
    await a.close_connection(response_source.connection)
    await wait_until(reactor, lambda: not b.connections())
    sending, target4 = _respond(b, request4, source4)
    await sending
    response4, response_source4 = await a_inbox.get()
    facts["fallback"] = {
        "target": [target4.transport, target4.host, target4.port, target4.connection],
        "a_response_connection": response_source4.connection,
        "a_connections": [[c.connection_id, c.outgoing, list(c.local)] for c in a.connections()],
        "status": response4.status,
    }
    facts["a_addr"], facts["b_addr"] = list(a_addr), list(b_addr)
    await a.stop()
    await b.stop()
    facts["after_stop"] = [len(a.connections()), len(b.connections())]
    return facts


class _RawClient:
    """A plain TCP client (not SIP-aware): records bytes and the close."""

    def __init__(self) -> None:
        from twisted.internet.protocol import Protocol

        owner = self
        self.data = b""
        self.closed = False
        self.protocol: Any = None

        class Raw(Protocol):
            def connectionMade(self) -> None:
                owner.protocol = self
                socket: Any = self.transport
                socket.setTcpNoDelay(True)

            def dataReceived(self, data: bytes) -> None:
                owner.data += data

            def connectionLost(self, reason: Any = None) -> None:
                owner.closed = True

        self.protocol_class = Raw

    async def connect(self, reactor: Any, host: str, port: int) -> None:
        from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol

        await connectProtocol(TCP4ClientEndpoint(reactor, host, port), self.protocol_class())


async def scenario_tcp_split(reactor: Any, args: dict[str, Any]) -> dict[str, Any]:
    """A raw client writes a request one byte at a time; B frames it and answers."""
    b, b_inbox, _ = _layer(reactor, "B")
    b_addr = b.listen_tcp("127.0.0.1", 0)
    client = _RawClient()
    await client.connect(reactor, *b_addr)
    request = _tcp_request(("127.0.0.1", 9), b_addr, 1)
    for i in range(len(request)):
        client.protocol.transport.write(request[i:i + 1])
        await sleep(reactor, 0.0005)
    message, source = await b_inbox.get()
    sending, _ = _respond(b, message, source)
    await sending
    await wait_until(reactor, lambda: client.data.endswith(b"\r\n\r\n"))
    client.protocol.transport.loseConnection()
    await b.stop()
    return {"bytes": len(request), "method": message.method, "call_id": message.call_id,
            "stamped_via": message.headers.get("Via"), "response": client.data.decode()}


async def scenario_tcp_ping(reactor: Any, args: dict[str, Any]) -> dict[str, Any]:
    """A raw CRLFCRLF ping gets a CRLF pong; A's keep-alives to B get B's pongs."""
    from ..sip.routing import Target

    b, _, _ = _layer(reactor, "B")
    b_addr = b.listen_tcp("127.0.0.1", 0)
    client = _RawClient()
    await client.connect(reactor, *b_addr)
    client.protocol.transport.write(b"\r\n\r\n")
    await wait_until(reactor, lambda: client.data == b"\r\n", timeout=3)
    raw_pong = client.data.decode()
    client.protocol.transport.loseConnection()

    a, _, _ = _layer(reactor, "A")
    a_addr = a.listen_tcp("127.0.0.1", 0)
    handle = a.start_stream_keepalive(Target("TCP", *b_addr), 0.1)
    await a.send(_tcp_request(a_addr, b_addr, 1), Target("TCP", *b_addr))
    await wait_until(reactor, lambda: any(c.pongs_received >= 2 for c in a.connections()))
    info = next(c for c in a.connections() if c.outgoing)
    handle.stop()
    await a.stop()
    await b.stop()
    return {"raw_pong": raw_pong, "pings_sent": info.pings_sent,
            "pongs_received": info.pongs_received}


async def scenario_tcp_framing_error(reactor: Any, args: dict[str, Any]) -> dict[str, Any]:
    """A framed-but-invalid message goes to on_invalid; a broken Content-Length closes."""
    b, b_inbox, b_invalid = _layer(reactor, "B")
    b_addr = b.listen_tcp("127.0.0.1", 0)
    client = _RawClient()
    await client.connect(reactor, *b_addr)
    bad_version = _tcp_request(("127.0.0.1", 9), b_addr, 1).replace(b"SIP/2.0\r\n", b"SIP/3.0\r\n", 1)
    client.protocol.transport.write(bad_version)
    _data, error, source = await b_invalid.get()
    still_open = len(b.connections())
    broken = _tcp_request(("127.0.0.1", 9), b_addr, 2).replace(
        b"Content-Length: 0", b"Content-Length: -5")
    client.protocol.transport.write(broken)
    await wait_until(reactor, lambda: client.closed, timeout=3)
    await wait_until(reactor, lambda: not b.connections(), timeout=3)
    await b.stop()
    return {"invalid_reason": str(error), "invalid_status": error.status,
            "invalid_transport": source.transport, "open_after_invalid": still_open,
            "closed": client.closed, "messages": len(b_inbox.items)}


async def scenario_connect_refused(reactor: Any, args: dict[str, Any]) -> dict[str, Any]:
    """TCP and TLS sends to a port nobody listens on fail with ConnectionFailedError."""
    from ..sip.routing import Target
    from ..sip.transport import TransportError

    closed = _free_port(kind=socket.SOCK_STREAM)
    a, _, _ = _layer(reactor, "A")
    results: dict[str, Any] = {"port": closed}
    for transport in ("TCP", "TLS"):
        try:
            await a.send(_tcp_request(("127.0.0.1", 9), ("127.0.0.1", closed), 1),
                         Target(transport, "127.0.0.1", closed))
        except TransportError as error:
            results[transport] = [type(error).__name__, str(error)]
        else:
            results[transport] = ["sent", ""]
    await a.stop()
    return results


# -- TLS -------------------------------------------------------------------------


async def scenario_tls(reactor: Any, args: dict[str, Any]) -> dict[str, Any]:
    """A sends OPTIONS to B over TLS; ``cert`` picks B's certificate (test CA or rogue)."""
    from ..sip.routing import Target, format_host_port
    from ..sip.transport import TlsClientConfig, TransportError
    from .certs import make_test_pki

    folder = Path(tempfile.mkdtemp(prefix="tui-phone-tls-"))
    try:
        pki = make_test_pki(folder)
        listen_host = args.get("listen", "127.0.0.1")
        b, b_inbox, _ = _layer(reactor, "B")
        cert, key = ((pki.server_cert, pki.server_key) if args.get("cert", "ca") == "ca"
                     else (pki.rogue_cert, pki.rogue_key))
        b_addr = b.listen_tls(listen_host, 0, cert, key)
        tls = TlsClientConfig(verify=args.get("verify", True), ca_file=pki.ca_cert,
                              server_name=args.get("server_name"))
        a, a_inbox, _ = _layer(reactor, "A")
        a_addr = a.listen_tls(listen_host, 0, pki.server_cert, pki.server_key)
        host = args.get("host", b_addr[0])
        request = sip_request(
            "OPTIONS", f"sips:b@{format_host_port(host, b_addr[1])}",
            f"SIP/2.0/TLS {format_host_port(*a_addr)};rport;branch=z9hG4bK-tls-1")
        result: dict[str, Any] = {"b": list(b_addr)}
        try:
            await a.send(request, Target("TLS", host, b_addr[1]), tls=tls)
        except TransportError as error:
            result["error_type"] = type(error).__name__
            result["error_message"] = str(error)
        else:
            received, source = await b_inbox.get()
            sending, _ = _respond(b, received, source)
            await sending
            response, response_source = await a_inbox.get()
            result.update({
                "source_transport": source.transport, "status": response.status,
                "same_connection": [c.connection_id for c in a.connections()]
                == [response_source.connection],
                "stamped_via": received.headers.get("Via"),
            })
        await a.stop()
        await b.stop()
        return result
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- sipp --------------------------------------------------------------------------

# sipp's built-in uac, but with ';rport' and a Via sent-by that is wrong on
# purpose (port 9): the responses reach sipp only if received/rport are used.
_RPORT_UAC = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="uac with rport">
  <send retrans="500"><![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] localhost:9;rport;branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: [service] <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
  ]]></send>
  <recv response="100" optional="true"></recv>
  <recv response="180" optional="true"></recv>
  <recv response="200" rtd="true">
    <action>
      <ereg regexp="received=127\\.0\\.0\\.1" search_in="hdr" header="Via:" check_it="true" assign_to="1"/>
      <ereg regexp="rport=[0-9]+" search_in="hdr" header="Via:" check_it="true" assign_to="2"/>
    </action>
  </recv>
  <send><![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] localhost:9;rport;branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: [service] <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0
  ]]></send>
  <send retrans="500"><![CDATA[
      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] localhost:9;rport;branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: [service] <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0
  ]]></send>
  <recv response="200"></recv>
  <Reference variables="1,2"/>
</scenario>
"""


async def scenario_sipp_uac(reactor: Any, args: dict[str, Any]) -> dict[str, Any]:
    """sipp places one call to :class:`TinyUas` (built-in ``uac``, or the rport variant)."""
    from twisted.internet.utils import getProcessOutputAndValue

    from .uas import TinyUas

    if not Path(SIPP).exists():
        return {"skipped": f"{SIPP} is not installed"}
    folder = Path(tempfile.mkdtemp(prefix="tui-phone-sipp-"))
    try:
        uas = TinyUas(reactor)
        host, port = uas.listen("127.0.0.1", 0)
        sipp_port, media_port = _free_port(), _free_port(step=2)
        command = [f"{host}:{port}", "-m", "1", "-p", str(sipp_port), "-mp", str(media_port),
                   "-i", "127.0.0.1", "-mi", "127.0.0.1", "-ci", "127.0.0.1", "-nostdin",
                   "-recv_timeout", "5000", "-timeout", "20s", "-timeout_error",
                   "-trace_err", "-error_file", str(folder / "errors.log"),
                   "-trace_msg", "-message_file", str(folder / "messages.log")]
        if args.get("scenario", "builtin") == "builtin":
            command += ["-sn", "uac"]
        else:
            (folder / "uac_rport.xml").write_text(_RPORT_UAC)
            command += ["-sf", str(folder / "uac_rport.xml")]
        _out, _err, code = await getProcessOutputAndValue(SIPP, command, path=str(folder))
        await uas.layer.stop()
        errors = (folder / "errors.log").read_text(errors="replace") if (
            folder / "errors.log").exists() else ""
        return {"sipp_rc": code, "sipp_port": sipp_port, "uas": [host, port], "seen": uas.seen,
                "sent": uas.sent, "send_errors": uas.errors, "invalid": uas.invalid,
                "sipp_errors": errors[-2000:]}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- running ---------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    """Run one scenario on the chosen reactor and print its result as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("args", nargs="?", default="{}")
    parser.add_argument("--reactor", choices=("asyncio", "default"), default="asyncio")
    options = parser.parse_args(argv)
    scenario = globals().get(f"scenario_{options.name}")
    if scenario is None:
        parser.error(f"unknown scenario {options.name!r}")
    if options.reactor == "asyncio":
        install_reactor()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from twisted.internet import task
    from twisted.internet.defer import Deferred

    outcome: dict[str, Any] = {}

    async def run(reactor: Any) -> None:
        try:
            coroutine = scenario(reactor, json.loads(options.args))
            running = Deferred.fromCoroutine(coroutine)
            running.addTimeout(SCENARIO_TIMEOUT, reactor)
            outcome.update(await running)
            outcome["reactor"] = type(reactor).__module__
        except BaseException as error:  # noqa: BLE001 - report everything, timeouts too
            outcome["error"] = f"{type(error).__name__}: {error}"
            outcome["traceback"] = traceback.format_exc()

    try:
        task.react(lambda reactor: Deferred.fromCoroutine(run(reactor)))
    except SystemExit as done:
        sys.stdout.write(json.dumps(outcome, default=str) + "\n")
        sys.stdout.flush()
        raise SystemExit(1 if "error" in outcome else 0) from done


if __name__ == "__main__":
    main()
