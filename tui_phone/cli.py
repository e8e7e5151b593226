"""The command line: click commands, and the composition root of the phone.

Only the SIP tooling exists so far; the user agent, the headless call commands
and the terminal UI land on top of it (see the project's issues).
"""

from __future__ import annotations

import importlib
import json
import logging
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import click

from . import __version__
from .lazy import lazy_module

# The headless runs pull in the whole phone (Twisted, RTP, codecs); the
# terminal UI paints before it needs them, so they load on first use.
headless: Any = lazy_module("tui_phone.headless")
from .sip import SipParseError, SipRequest, parse_message


class _LazyGroup(click.Group):
    """Commands whose modules load only when the command is used (or listed in --help).

    The doctor and the call history bring their own imports (sqlite3...) that
    neither the terminal phone nor the headless calls need.
    """

    lazy = {"doctor": ("tui_phone.doctor", "doctor_command"),
            "history": ("tui_phone.history", "history_command")}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            module, factory = self.lazy[cmd_name]
            self.add_command(getattr(importlib.import_module(module), factory)(), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=_LazyGroup, invoke_without_command=True)
@click.version_option(__version__, prog_name="tui-phone")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="TOML config file (default: tui-phone/config.toml in the XDG config dir).",
)
@click.option("--theme", default=None, help="Theme name (dark, light); default: [phone] theme.")
@click.option("--scripts", "script_dirs", multiple=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder of user scripts for the terminal phone (repeatable).")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, theme: str | None,
        script_dirs: tuple[Path, ...]) -> None:
    """tui-phone: a keyboard-driven SIP softphone for the terminal.

    With no command it starts the terminal phone (on the embedded local
    account when there is no config file); the commands run it headless.
    """
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path
    if ctx.invoked_subcommand is None:
        from .app import run_tui
        from .config import ConfigError, load_config

        try:
            config = load_config(config_path)
        except ConfigError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(1)
        sys.exit(run_tui(config, theme=theme, scripts=script_dirs))


@cli.command("check-message")
@click.argument("path", type=click.File("rb"))
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
def check_message(path: click.utils.LazyFile, as_json: bool) -> None:
    """Parse one SIP message from PATH ('-' for stdin) and report the verdict.

    Exit 0 when the message is well formed, 2 when it is not (with the status
    a UAS would answer and the exact reason).
    """
    data = path.read()
    try:
        message = parse_message(data, validate=True)
    except SipParseError as error:
        verdict = {"valid": False, "status": error.status, "reason": error.reason}
        click.echo(json.dumps(verdict) if as_json else f"invalid: {error.status} {error.reason}")
        sys.exit(2)
    if isinstance(message, SipRequest):
        summary = {"valid": True, "method": message.method, "uri": str(message.uri)}
    else:
        summary = {"valid": True, "status": message.status, "reason": message.reason}
    summary.update(
        {
            "call_id": message.call_id,
            "cseq": str(message.cseq),
            "from": str(message.from_addr),
            "to": str(message.to_addr),
            "vias": [str(v) for v in message.vias],
            "body_bytes": len(message.body),
        }
    )
    if as_json:
        click.echo(json.dumps(summary))
    else:
        for key, value in summary.items():
            click.echo(f"{key}: {value}")


def _reactor() -> Any:
    """Twisted on a fresh asyncio loop (the Textual UI shares it), installed once."""
    from .loop import install_reactor

    return install_reactor()


def _run(body: Callable[[Any], Coroutine[Any, Any, int]],
         interrupted: int | None = None) -> None:
    """Run ``body(reactor)`` on the reactor and exit with the status it returns
    (``interrupted`` when a signal stopped the reactor first)."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(name)s %(levelname)s %(message)s")
    from twisted.internet.defer import Deferred

    reactor = _reactor()
    status = [headless.EXIT_USAGE if interrupted is None else interrupted]

    async def main(reactor: Any) -> None:
        try:
            status[0] = await body(reactor)
        except Exception as error:  # noqa: BLE001 - report anything as a clean exit 1
            logging.getLogger(__name__).debug("failed", exc_info=True)
            click.echo(f"error: {error}", err=True)
            status[0] = headless.EXIT_USAGE
        finally:
            if reactor.running:
                reactor.stop()

    reactor.callWhenRunning(lambda: Deferred.fromCoroutine(main(reactor)))
    reactor.run()
    sys.stdout.flush()
    sys.exit(status[0])


def _prepared(ctx: click.Context, account: str | None, **options: Any) -> tuple[Any, Any]:
    try:
        return headless.prepare(ctx.obj.get("config_path"), account, **options)
    except headless.UsageError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(headless.EXIT_USAGE)


def _listen(text: str | None) -> tuple[str, int] | None:
    try:
        return headless.parse_listen(text)
    except headless.UsageError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(headless.EXIT_USAGE)


def _tls_files(transport: str, cert: str | None, key: str | None) -> tuple[str, str] | None:
    if (cert is None) != (key is None):
        click.echo("error: --tls-cert and --tls-key go together", err=True)
        sys.exit(headless.EXIT_USAGE)
    files = None if cert is None or key is None else (cert, key)
    try:
        headless.check_tls(transport, files)
    except headless.UsageError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(headless.EXIT_USAGE)
    return files if transport.lower() == "tls" else None


@cli.command("call")
@click.argument("uri")
@click.option("--account", default=None, help="Account name from the config.")
@click.option("--listen", default=None, help="HOST:PORT to listen on (default: any port).")
@click.option("--transport", type=click.Choice(["udp", "tcp", "tls"], case_sensitive=False))
@click.option("--codecs", default=None, help="Comma-separated, in preference order.")
@click.option("--duration", type=click.FloatRange(min=0), default=10.0, show_default=True,
              help="Hang up this many seconds after the answer.")
@click.option("--play", type=click.Path(dir_okay=False), default=None, help="WAV file to send.")
@click.option("--record", type=click.Path(dir_okay=False), default=None,
              help="Record the call to this stereo WAV (left sent, right received).")
@click.option("--dtmf", default=None, help="DTMF digits to send after the answer.")
@click.option("--hold-at", type=click.FloatRange(min=0), default=None,
              help="Put the call on hold this many seconds after the answer.")
@click.option("--resume-at", type=click.FloatRange(min=0), default=None,
              help="Take it off hold this many seconds after the answer.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--sip-trace", is_flag=True, help="Also print every SIP message.")
@click.option("--tls-cert", type=click.Path(dir_okay=False), default=None,
              help="PEM certificate of our TLS listener (with --transport tls).")
@click.option("--tls-key", type=click.Path(dir_okay=False), default=None,
              help="PEM private key of that certificate.")
@click.pass_context
def call_command(ctx: click.Context, uri: str, account: str | None, listen: str | None,
                 transport: str | None, codecs: str | None, duration: float, play: str | None,
                 record: str | None, dtmf: str | None, hold_at: float | None,
                 resume_at: float | None, as_json: bool, sip_trace: bool,
                 tls_cert: str | None, tls_key: str | None) -> None:
    """Place one call to URI (sip:user@host:port or user@host) and hang up after --duration.

    Exit 0 when the call was answered and ended normally, 3 when it failed (the
    SIP status and reason are the last line), 1 for bad arguments or config.
    """
    from .phone import PhoneError, parse_target

    config, chosen = _prepared(ctx, account, transport=transport, codecs=codecs, wavs=(play,))
    tls = _tls_files(chosen.transport, tls_cert, tls_key)
    address = _listen(listen)
    try:
        parse_target(uri)
    except PhoneError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(headless.EXIT_USAGE)
    if dtmf and any(d not in "0123456789*#ABCDabcd" for d in dtmf):
        click.echo(f"error: --dtmf takes 0-9, *, #, A-D, not {dtmf!r}", err=True)
        sys.exit(headless.EXIT_USAGE)
    if resume_at is not None and (hold_at is None or resume_at <= hold_at):
        click.echo("error: --resume-at needs an earlier --hold-at", err=True)
        sys.exit(headless.EXIT_USAGE)
    out = headless.Output(as_json, click.echo, sip_trace=sip_trace)
    _run(lambda reactor: headless.run_call(
        reactor, config, chosen, uri, listen=address, duration=duration, play=play,
        record=record, dtmf=dtmf, out=out, hold_at=hold_at, resume_at=resume_at, tls=tls))


@cli.command("answer")
@click.option("--account", default=None, help="Account name from the config.")
@click.option("--listen", default=None, help="HOST:PORT (UDP and TCP) to listen on.")
@click.option("--echo", is_flag=True, help="Send back what is received.")
@click.option("--play", type=click.Path(dir_okay=False), default=None, help="WAV file to send.")
@click.option("--record", "record_dir", type=click.Path(file_okay=False), default=None,
              help="Record every call into this folder.")
@click.option("--max-calls", type=click.IntRange(min=1), default=None,
              help="Exit after this many calls ended.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--sip-trace", is_flag=True, help="Also print every SIP message.")
@click.option("--transport", type=click.Choice(["udp", "tcp", "tls"], case_sensitive=False),
              default=None, help="tls: listen on UDP and TLS (default: UDP and TCP).")
@click.option("--tls-cert", type=click.Path(dir_okay=False), default=None,
              help="PEM certificate of our TLS listener.")
@click.option("--tls-key", type=click.Path(dir_okay=False), default=None,
              help="PEM private key of that certificate.")
@click.option("--scripts", "script_dirs", multiple=True,
              type=click.Path(exists=True, file_okay=False),
              help="Run the scripts in this folder (repeatable); they decide which calls "
                   "to answer when one handles incoming_call.")
@click.pass_context
def answer_command(ctx: click.Context, account: str | None, listen: str | None, echo: bool,
                   play: str | None, record_dir: str | None, max_calls: int | None,
                   as_json: bool, sip_trace: bool, transport: str | None,
                   tls_cert: str | None, tls_key: str | None,
                   script_dirs: tuple[str, ...]) -> None:
    """Auto-answer every incoming call until interrupted or --max-calls calls ended."""
    if echo and play:
        click.echo("error: --echo and --play exclude each other", err=True)
        sys.exit(headless.EXIT_USAGE)
    config, _chosen = _prepared(ctx, account, wavs=(play,))
    tls = _tls_files(transport or "udp", tls_cert, tls_key)
    address = _listen(listen)
    if record_dir is not None:
        Path(record_dir).mkdir(parents=True, exist_ok=True)
    out = headless.Output(as_json, click.echo, sip_trace=sip_trace)

    async def body(reactor: Any) -> int:
        from twisted.internet.defer import Deferred

        from .loop import settle_heap

        done: Deferred[None] = Deferred()
        phone = headless.start_answering(
            reactor, config, listen=address, echo=echo, play=play, record_dir=record_dir,
            max_calls=max_calls, out=out,
            on_done=lambda: None if done.called else done.callback(None), tls=tls,
            scripts=script_dirs)
        reactor.addSystemEventTrigger("before", "shutdown", phone.stop)
        await phone.start()
        settle_heap()
        host, port = phone.local_address()
        kinds = "UDP and TLS" if tls else "UDP and TCP"
        out.line(f"listening on {host}:{port} ({kinds})", event="listening", host=host,
                 port=port)
        await done
        return headless.EXIT_OK

    _run(body, interrupted=headless.EXIT_OK)


@cli.command("register")
@click.option("--account", default=None, help="Account name from the config.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_context
def register_command(ctx: click.Context, account: str | None, as_json: bool) -> None:
    """REGISTER an account once and report (exit 0 registered, 3 failed)."""
    config, chosen = _prepared(ctx, account)
    out = headless.Output(as_json, click.echo)
    _run(lambda reactor: headless.run_register(reactor, config, chosen, out=out))


def main() -> None:
    """Console-script entry point."""
    cli(obj={})
