"""The command line: click commands, and the composition root of the phone.

Only the SIP tooling exists so far; the user agent, the headless call commands
and the terminal UI land on top of it (see the project's issues).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import __version__
from .sip import SipParseError, SipRequest, parse_message


@click.group(invoke_without_command=True)
@click.version_option(__version__, prog_name="tui-phone")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="TOML config file (default: tui-phone/config.toml in the XDG config dir).",
)
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None) -> None:
    """tui-phone: a keyboard-driven SIP softphone for the terminal."""
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())
        click.echo(
            "\nThe terminal UI is not built yet: this release has the SIP core only."
            "\nTry: tui-phone check-message FILE"
        )


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


def main() -> None:
    """Console-script entry point."""
    cli(obj={})
