"""``tui-phone doctor``: check the set-up and say plainly what works and what does not.

Checks, in order: the config file (with file and line on error), the audio
backends and devices, TLS support and each account's TLS settings, the
listening ports, each account's registrar (a real REGISTER, then an
un-REGISTER), STUN (public address and NAT type, when a server is
configured) and UPnP (when enabled). Every check gives a status (``ok``,
``warn``, ``fail`` or ``off``) and a one-line detail; the report prints as
text or as one JSON object. The TUI shows the same report in a panel.

Nothing here sends to an address the user did not configure: STUN goes only to
``[nat] stun_server`` and UPnP discovery runs only with ``[nat] upnp = true``.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .audio.errors import AudioError, AudioUnavailable
from .config import Config, ConfigError, load_config, resolve_password
from .sip.routing import TCP, UDP

if TYPE_CHECKING:  # the CLI imports this module at start-up: keep it light
    from twisted.internet.defer import Deferred

    from .events import RegistrationChanged

OK, WARN, FAIL, OFF = "ok", "warn", "fail", "off"


@dataclasses.dataclass(frozen=True, slots=True)
class Check:
    """One line of the report."""

    name: str
    status: str
    detail: str


@dataclasses.dataclass
class Report:
    """Everything the doctor found; ``ok`` unless a check failed."""

    checks: list[Check] = dataclasses.field(default_factory=list)

    def add(self, name: str, status: str, detail: str) -> None:
        """Record one check."""
        self.checks.append(Check(name, status, detail))

    @property
    def ok(self) -> bool:
        """True when no check failed (warnings are fine)."""
        return all(check.status != FAIL for check in self.checks)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``{"ok": ..., "checks": [{"name", "status", "detail"}, ...]}``."""
        return {"ok": self.ok, "checks": [dataclasses.asdict(c) for c in self.checks]}

    def to_json(self) -> str:
        """One line of JSON."""
        return json.dumps(self.to_dict())

    def to_text(self) -> str:
        """Aligned lines, one per check, for people."""
        width = max((len(c.name) for c in self.checks), default=0)
        lines = [f"{c.status.upper():<4}  {c.name:<{width}}  {c.detail}" for c in self.checks]
        lines.append("all checks passed" if self.ok else "some checks failed")
        return "\n".join(lines)


def check_config(path: Path | None, report: Report) -> Config | None:
    """Load the config; a failure is reported with file, line and key."""
    try:
        config = load_config(path)
    except ConfigError as error:
        report.add("config", FAIL, str(error))
        return None
    where = str(config.source) if config.source is not None else "none found: embedded default"
    report.add("config", OK, f"{where}; accounts: {', '.join(config.accounts)}")
    for warning in config.warnings:
        report.add("config", WARN, warning)
    return config


def check_audio(config: Config, report: Report,
                chooser: Callable[..., Any] | None = None) -> None:
    """Which audio backend the phone would use, and why."""
    if chooser is None:
        from .audio.selection import choose_backend as chooser
    spec = config.phone.audio
    try:
        choice = chooser(spec, call_from_thread=lambda f, *a, **k: f(*a, **k))
    except AudioUnavailable as error:
        report.add("audio", WARN if spec == "auto" else FAIL, str(error))
        return
    except AudioError as error:
        report.add("audio", FAIL, str(error))
        return
    summary = choice.summary
    no_card = "no sound card" in summary or choice.backend.name == "null"
    report.add("audio", WARN if no_card and spec in ("auto", "device") else OK, summary)


def check_tls(config: Config, report: Report) -> None:
    """TLS support is installed, and each TLS account's settings make sense."""
    has_tls = importlib.util.find_spec("OpenSSL") is not None
    uses_tls = [a for a in config.accounts.values() if a.transport == "tls"]
    if not has_tls:
        report.add("tls", FAIL if uses_tls else WARN, "pyOpenSSL is missing: no TLS transport")
    elif not uses_tls:
        report.add("tls", OK, "TLS available; no account uses it")
    for account in uses_tls:
        if not account.tls_verify:
            report.add(f"tls {account.name}", WARN,
                       "certificate verification is OFF (tls_verify = false)")
        else:
            ca = account.tls_ca_file or "the system trust store"
            report.add(f"tls {account.name}", OK, f"certificates verified against {ca}")


def check_passwords(config: Config, report: Report) -> None:
    """Every password source resolves (the secret itself is never shown)."""
    for account in config.accounts.values():
        if account.password_source is None:
            continue
        try:
            resolve_password(account)
        except ConfigError as error:
            report.add(f"password {account.name}", FAIL, str(error))
        else:
            report.add(f"password {account.name}", OK, f"from {account.password_source}")


async def check_network(config: Config, report: Report, reactor: Any,
                        phone_factory: Callable[..., Any] | None = None,
                        timeout: float = 10.0) -> None:
    """Listen like the phone does, REGISTER each account, then clean up."""
    from twisted.internet.defer import CancelledError

    from .phone import Phone

    factory = phone_factory or Phone
    phone = factory(config, reactor, audio="null", transports=(UDP, TCP))
    try:
        try:
            await phone.start(register=False)
        except Exception as error:  # a port in use, a bad listen address
            report.add("listen", FAIL, f"could not listen: {error}")
            return
        for transport in (UDP, TCP):
            host, port = phone.local_address(transport)
            report.add(f"listen {transport.lower()}", OK, f"{host}:{port}")
        registrars = [a for a in config.accounts.values() if a.registrar_uri is not None]
        if not registrars:
            report.add("registration", OFF, "no account has a registrar")
        for account in registrars:
            name = f"registration {account.name}"
            waiting: Deferred[RegistrationChanged] = phone.register(account.name)
            timer = reactor.callLater(timeout, waiting.cancel)
            try:
                outcome = await waiting
            except CancelledError:
                report.add(name, FAIL, f"no answer from {account.registrar_uri} in {timeout:g} s")
                continue
            finally:
                if timer.active():
                    timer.cancel()
            if outcome.state == "registered":
                report.add(name, OK,
                           f"registered at {account.registrar_uri} (expires {outcome.expires})")
            else:
                status = f"{outcome.status} " if outcome.status else ""
                report.add(name, FAIL, f"{status}{outcome.reason} from {account.registrar_uri}")
    finally:
        await phone.stop()


def check_stun(config: Config, report: Report,
               query: Callable[..., Any] | None = None) -> None:
    """Public address and NAT type from the configured STUN server."""
    from .nat.nat_type import describe_nat
    from .nat.stun import query_stun

    server = config.nat.stun_server
    if server is None:
        report.add("stun", OFF, "no STUN server configured ([nat] stun_server)")
        return
    try:
        result = (query or query_stun)(server, tries=3)
    except Exception as error:  # StunError and socket errors: the detail says which
        report.add("stun", FAIL, str(error))
        return
    report.add("stun", OK, f"public address {result.public_ip}:{result.public_port}, "
                           f"NAT type {result.nat_type}")
    for warning in describe_nat(result):
        report.add("nat", WARN, warning)


def check_upnp(config: Config, report: Report) -> None:
    """UPnP port mapping: only probed when enabled (discovery multicasts to the LAN)."""
    if not config.nat.upnp:
        report.add("upnp", OFF, "UPnP disabled ([nat] upnp = false); no gateway probed")
        return
    from .nat.upnp import UpnpError, UpnpMapper

    mapper = UpnpMapper("0.0.0.0", [], search_s=2.0)
    try:
        mapper.start()
    except UpnpError as error:
        report.add("upnp", WARN, str(error))
        return
    try:
        report.add("upnp", OK, mapper.status().describe())
    finally:
        mapper.stop()


def live_report(config: Config, phone: Any) -> Report:
    """The doctor's report for a phone that is already running (the TUI's panel).

    It sends nothing: listening addresses, registrations and NAT come from the
    running phone instead of a new REGISTER or STUN query.
    """
    report = Report()
    where = str(config.source) if config.source is not None else "none found: embedded default"
    report.add("config", OK, f"{where}; accounts: {', '.join(config.accounts)}")
    for warning in config.warnings:
        report.add("config", WARN, warning)
    check_audio(config, report)
    check_tls(config, report)
    check_passwords(config, report)
    for transport in phone.transports:
        try:
            host, port = phone.local_address(transport)
        except Exception as error:  # noqa: BLE001 - not listening on it (yet)
            report.add(f"listen {transport.lower()}", FAIL, str(error))
        else:
            report.add(f"listen {transport.lower()}", OK, f"{host}:{port}")
    registrars = [a for a in config.accounts.values() if a.registrar_uri is not None]
    if not registrars:
        report.add("registration", OFF, "no account has a registrar")
    for account in registrars:
        registration = phone.registrations.get(account.name)
        state = "not started" if registration is None else str(registration.state)
        status = getattr(registration, "last_status", None)
        detail = f"{state} at {account.registrar_uri}"
        if status is not None:
            detail += f" (last {status} {getattr(registration, 'last_reason', '')})".rstrip()
        good = state == "registered"
        report.add(f"registration {account.name}", OK if good else
                   WARN if state in ("registering", "not started") else FAIL, detail)
    if phone.nat is None:
        report.add("nat", OFF, "no STUN server and no UPnP configured ([nat])")
    else:
        status = phone.nat.status
        status = status() if callable(status) else status
        lines = status.describe()
        report.add("nat", OK, "; ".join(lines))
        for warning in status.warnings:
            report.add("nat", WARN, warning)
    return report


async def run_doctor(config_path: Path | None, reactor: Any, *, network: bool = True,
                     timeout: float = 10.0) -> Report:
    """Every check, in order; the network checks are skipped when the config is bad."""
    report = Report()
    config = check_config(config_path, report)
    if config is None:
        return report
    check_audio(config, report)
    check_tls(config, report)
    check_passwords(config, report)
    if network:
        await check_network(config, report, reactor, timeout=timeout)
    check_stun(config, report)
    check_upnp(config, report)
    return report


def doctor_command() -> Any:
    """The ``tui-phone doctor`` click command (registered by the CLI)."""
    import click

    @click.command("doctor")
    @click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
    @click.option("--timeout", default=10.0, show_default=True, help="Seconds to wait per registrar.")
    @click.pass_context
    def doctor(ctx: click.Context, as_json: bool, timeout: float) -> None:
        """Check config, audio, TLS, ports, registrations, STUN and UPnP, and report.

        Exit 0 when nothing failed, 3 when a check failed, 1 when the config is bad.
        """
        from .cli import _run

        config_path = (ctx.obj or {}).get("config_path")

        async def body(reactor: Any) -> int:
            report = await run_doctor(config_path, reactor, timeout=timeout)
            config_failed = bool(report.checks) and report.checks[0].name == "config" and (
                report.checks[0].status == FAIL
            )
            click.echo(report.to_json() if as_json else report.to_text())
            if config_failed:
                return 1
            return 0 if report.ok else 3

        _run(body)

    return doctor
