"""The headless runs behind ``tui-phone call``, ``answer`` and ``register``.

:func:`prepare` checks everything that can be checked before the network
(config, account, URI, codecs, WAV files), raising :class:`UsageError` with a
clear message (exit 1). The ``run_*`` coroutines then drive a
:class:`~tui_phone.phone.Phone` on the reactor and return the exit status:
0 success, 3 a SIP failure (its status and reason are the last line printed).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twisted.internet.defer import Deferred

from .audio.errors import AudioError
from .audio.wav import WavSource
from .config import Account, Config, ConfigError, load_config
from .events import (
    CallAnswered,
    CallEnded,
    CallHoldChanged,
    DtmfReceived,
    IncomingCall,
    PhoneEvent,
    RegistrationChanged,
    SipMessageLogged,
    event_to_dict,
)
from .loop import settle_heap
from .media import sdp_codecs
from .phone import Phone, PhoneError, parse_target
from .sip.routing import TCP, TLS, UDP, RoutingError, named_transport
from .sip.transport.base import TlsClientConfig
from .sip.uri import SipUri

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_USAGE = 1
EXIT_SIP_FAILURE = 3
DTMF_DELAY = 0.5  # seconds after the answer before --dtmf digits go out

TlsFiles = tuple[str, str]  # (certificate, key) PEM files
# The events `call` and `answer` print (SipMessageLogged only with --sip-trace).
PRINTED = (CallAnswered, CallEnded, RegistrationChanged, CallHoldChanged, DtmfReceived,
           SipMessageLogged)


class UsageError(Exception):
    """Bad arguments or config: exit 1 with this message."""


@dataclasses.dataclass
class Output:
    """Prints events as text or JSON lines."""

    as_json: bool
    echo: Callable[[str], None]
    sip_trace: bool = False  # also print every SIP message sent and received

    def event(self, event: PhoneEvent) -> None:
        if isinstance(event, SipMessageLogged) and not self.sip_trace:
            return
        if self.as_json:
            self.echo(json.dumps(event_to_dict(event)))
            return
        if isinstance(event, CallAnswered):
            self.echo(f"answered {event.remote} ({event.codec})")
        elif isinstance(event, CallEnded):
            rtp = event.rtp
            self.echo(f"ended {event.remote}: {event.status} {event.reason}, "
                      f"{event.duration_s:.1f} s, {event.codec}, tx {rtp.tx_packets} "
                      f"rx {rtp.rx_packets} lost {rtp.rx_lost} jitter {rtp.jitter_ms} ms")
        elif isinstance(event, IncomingCall):
            self.echo(f"incoming call from {event.remote}")
        elif isinstance(event, CallHoldChanged):
            self.echo(f"hold: local {event.local}, remote {event.remote}")
        elif isinstance(event, DtmfReceived):
            self.echo(f"dtmf {event.digit} ({event.method})")
        elif isinstance(event, SipMessageLogged):
            text = event.data.decode("utf-8", "replace")
            self.echo(f"{event.direction} {event.transport} {event.remote}\n{text}")
        elif isinstance(event, RegistrationChanged):
            status = "" if event.status is None else f": {event.status} {event.reason}"
            self.echo(f"registration {event.account} {event.state}{status}")

    def kinds(self, *kinds: type[PhoneEvent]) -> tuple[type[PhoneEvent], ...]:
        """``kinds``, and SipMessageLogged when the SIP trace is on: what a run
        subscribes to (without the trace the phone builds no message events)."""
        return (*kinds, SipMessageLogged) if self.sip_trace else kinds

    def line(self, text: str, **fields: Any) -> None:
        self.echo(json.dumps(fields) if self.as_json else text)


def parse_listen(text: str | None) -> tuple[str, int] | None:
    """``HOST:PORT`` (``[v6]:PORT``) or None."""
    if text is None:
        return None
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not host or int(port) > 65535:
        raise UsageError(f"--listen must be HOST:PORT, not {text!r}")
    return host.strip("[]"), int(port)


def prepare(config_path: Path | None, account_name: str | None, *,
            transport: str | None = None, codecs: str | None = None,
            wavs: tuple[str | None, ...] = ()) -> tuple[Config, Account]:
    """Load the config and the chosen account, with the command-line overrides."""
    try:
        config = load_config(config_path)
        account = config.account(account_name)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    changes: dict[str, Any] = {}
    if transport is not None:
        changes["transport"] = transport.lower()
    if codecs is not None:
        names = tuple(name.strip() for name in codecs.split(",") if name.strip())
        if not names:
            raise UsageError("--codecs needs at least one codec")
        known = {codec.name.lower() for codec in sdp_codecs(names)}
        missing = [name for name in names if name.lower() not in known]
        if missing:
            raise UsageError(f"codec not available: {', '.join(missing)}")
        changes["codecs"] = names
    if changes:
        account = dataclasses.replace(account, **changes)
    for wav in wavs:
        if wav is None:
            continue
        try:
            WavSource(wav, 8000, 160).close()
        except (AudioError, OSError) as error:
            raise UsageError(f"cannot play {wav}: {error}") from None
    config = dataclasses.replace(config, accounts={account.name: account})
    return config, account


def _transports(account: Account, target: SipUri | None = None) -> tuple[str, ...]:
    """UDP, and the account's stream transport; for a call also the one its first hop's
    URI names (``;transport=tcp``, ``sips:``), so that Via and Contact can name it."""
    kinds = [UDP]
    wanted = [account.transport.upper()]
    if target is not None:
        try:
            named = named_transport(account.outbound_proxy_uri or target)
        except RoutingError:
            named = None  # Phone.call says what is wrong with it
        if named is not None:
            wanted.append(named)
    kinds += [kind for kind in dict.fromkeys(wanted) if kind in (TCP, TLS)]
    return tuple(kinds)


def _account_listen(account: Account) -> tuple[str, int]:
    """Where ``call`` and ``register`` listen without ``--listen``: the account's
    ``local_port`` (0: any free port) on 127.0.0.1."""
    return "127.0.0.1", account.local_port


def check_tls(transport: str, certificate: TlsFiles | None) -> None:
    """TLS needs our own certificate: the Via and Contact name a TLS listener."""
    if transport.lower() == "tls" and certificate is None:
        raise UsageError("--transport tls needs --tls-cert and --tls-key (our TLS listener)")
    if certificate is not None:
        for path in certificate:
            if not Path(path).is_file():
                raise UsageError(f"no such file: {path}")


def _use_tls(phone: Phone, account: Account, certificate: TlsFiles | None) -> None:
    """Our TLS listener's certificate, and how the account checks servers'."""
    phone.ua.tls_certificate = certificate
    ca_file = None if account.tls_ca_file is None else str(account.tls_ca_file)
    phone.ua.tls_client = TlsClientConfig(verify=account.tls_verify, ca_file=ca_file)


async def run_call(reactor: Any, config: Config, account: Account, uri: str, *,
                   listen: tuple[str, int] | None, duration: float, play: str | None,
                   record: str | None, dtmf: str | None, out: Output,
                   hold_at: float | None = None, resume_at: float | None = None,
                   tls: TlsFiles | None = None) -> int:
    """Place one call; hang up after ``duration`` seconds (or when the peer does).

    ``hold_at`` and ``resume_at`` (seconds after the answer) put the call on
    hold and take it off hold again by re-INVITE.
    """
    try:
        target = parse_target(uri)
    except PhoneError as error:
        out.line(f"error: {error}", event="error", message=str(error))
        return EXIT_USAGE
    transports = _transports(account, target)
    if TLS in transports and tls is None:
        message = f"calling {target} needs TLS: give --tls-cert and --tls-key (our TLS listener)"
        out.line(f"error: {message}", event="error", message=message)
        return EXIT_USAGE
    phone = Phone(config, reactor, audio=f"wav:{play}" if play else "null",
                  listen=listen or _account_listen(account), transports=transports)
    _use_tls(phone, account, tls)
    ended: Deferred[CallEnded] = Deferred()

    def on_event(event: PhoneEvent) -> None:
        if isinstance(event, PRINTED):
            out.event(event)
        if isinstance(event, CallAnswered):
            reactor.callLater(duration, event.call.hangup)
            if dtmf:
                reactor.callLater(DTMF_DELAY, _send_dtmf, event.call, dtmf)
            if hold_at is not None:
                reactor.callLater(hold_at, _midcall, event.call, "hold")
            if resume_at is not None:
                reactor.callLater(resume_at, _midcall, event.call, "resume")
        elif isinstance(event, CallEnded) and not ended.called:
            ended.callback(event)

    phone.subscribe(on_event, out.kinds(CallAnswered, CallEnded, RegistrationChanged,
                                        CallHoldChanged, DtmfReceived))
    outcome = await phone.start()
    failed = [event for event in outcome if event.state != "registered"]
    if failed:
        await phone.stop()
        event = failed[0]
        out.line(f"{event.status} {event.reason}", event="failed", status=event.status,
                 reason=event.reason)
        return EXIT_SIP_FAILURE
    settle_heap()
    call = phone.call(target, account.name)
    if record:
        call.record(record)
    result = await ended
    await call.finished
    await phone.stop()
    if result.answered and result.status == 200:
        return EXIT_OK
    out.line(f"{result.status} {result.reason}", event="failed", status=result.status,
             reason=result.reason)
    return EXIT_SIP_FAILURE


def _midcall(call: Any, action: str) -> None:
    try:
        getattr(call, action)()
    except Exception as error:  # noqa: BLE001 - report, keep the call
        log.warning("cannot %s: %s", action, error)


def _send_dtmf(call: Any, digits: str) -> None:
    try:
        call.send_dtmf(digits)
    except Exception as error:  # noqa: BLE001 - report, keep the call
        log.warning("cannot send DTMF: %s", error)


async def run_register(reactor: Any, config: Config, account: Account, *, out: Output) -> int:
    """REGISTER once, report, un-REGISTER."""
    if account.registrar_uri is None:
        out.line(f"error: account {account.name!r} has no registrar", event="error",
                 message="no registrar")
        return EXIT_USAGE
    phone = Phone(config, reactor, listen=_account_listen(account), transports=_transports(account))
    phone.subscribe(lambda e: out.event(e) if isinstance(e, RegistrationChanged)
                    and e.state in ("registered", "failed") else None, (RegistrationChanged,))
    outcome = await phone.start()
    await phone.stop()
    event = outcome[0] if outcome else None
    if event is not None and event.state == "registered":
        return EXIT_OK
    status = event.status if event is not None else 408
    reason = event.reason if event is not None else "Request Timeout"
    out.line(f"{status} {reason}", event="failed", status=status, reason=reason)
    return EXIT_SIP_FAILURE


def start_answering(reactor: Any, config: Config, *, listen: tuple[str, int] | None,
                    echo: bool, play: str | None, record_dir: str | None,
                    max_calls: int | None, out: Output,
                    on_done: Callable[[], None], tls: TlsFiles | None = None,
                    scripts: tuple[str, ...] = ()) -> Phone:
    """Auto-answer every call; ``on_done`` runs after ``max_calls`` calls ended.

    Listens on UDP and TCP, or on UDP and TLS when ``tls`` names our certificate.
    With ``scripts`` (folders), the user scripts run on this phone; when one of
    them handles ``incoming_call`` the scripts decide which calls to answer.
    Headless runs do not load the user's own scripts folder.
    """
    host, port = listen if listen is not None else config.phone.listen
    phone = Phone(config, reactor, audio=f"wav:{play}" if play else "null", echo=echo,
                  listen=(host, port), transports=(UDP, TLS) if tls else (UDP, TCP))
    _use_tls(phone, config.account(None), tls)
    ended = 0
    auto_answer = True
    if scripts:
        from .scripts.host import ScriptHost
        from .scripts.loader import ScriptLoader

        def script_failed(script: str, text: str) -> None:
            out.line(f"script {script} failed:\n{text.rstrip()}", event="script_error",
                     script=script, traceback=text)

        host = ScriptHost(phone, ScriptLoader(scripts, include_default=False),
                          on_error=script_failed)
        host.load()
        host.attach()
        auto_answer = not host.handles("incoming_call")

    def on_event(event: PhoneEvent) -> None:
        nonlocal ended
        if isinstance(event, IncomingCall):
            if record_dir is not None:
                safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in event.call_id)
                event.call.record(str(Path(record_dir) / f"{safe}.wav"))
        if isinstance(event, PRINTED):
            out.event(event)
        if isinstance(event, CallEnded):
            ended += 1
            if max_calls is not None and ended >= max_calls:
                reactor.callLater(0.2, on_done)

    # The phone answers (at once, before IncomingCall, when it can), unless a script decides.
    phone.auto_answer = auto_answer
    phone.subscribe(on_event, out.kinds(IncomingCall, CallAnswered, CallEnded,
                                        RegistrationChanged, CallHoldChanged, DtmfReceived))
    return phone


__all__ = ["check_tls", "EXIT_OK", "EXIT_SIP_FAILURE", "EXIT_USAGE", "Output", "UsageError", "parse_listen",
           "prepare", "run_call", "run_register", "start_answering"]
