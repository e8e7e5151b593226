"""The headless commands' argument and config errors (exit 1 with a message),
checked with CliRunner before any reactor is installed; a real call runs as
subprocesses."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from tui_phone.cli import cli
from tui_phone.testing.peers import environment, start_answer, stop, tui_phone_command


def invoke(*args: str):  # noqa: ANN201 - click's Result
    return CliRunner().invoke(cli, list(args), obj={})


def test_call_with_an_unknown_account_exits_1(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[accounts.alice]\nuri = "sip:alice@127.0.0.1"\n')
    result = invoke("--config", str(config), "call", "--account", "bob", "sip:x@127.0.0.1")
    assert result.exit_code == 1
    assert "no account 'bob'" in result.output


def test_call_with_a_bad_config_key_names_file_and_line(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[accounts.alice]\nuri = "sip:alice@127.0.0.1"\ntransprt = "udp"\n')
    result = invoke("--config", str(config), "call", "sip:x@127.0.0.1")
    assert result.exit_code == 1
    assert f"{config}:3" in result.output and "transprt" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["call", "sip:x@[bad"], "bad SIP URI"),
        (["call", "--listen", "nope", "sip:x@127.0.0.1"], "--listen must be HOST:PORT"),
        (["call", "--codecs", "PCMU,nonsense", "sip:x@127.0.0.1"], "codec not available: nonsense"),
        (["call", "--play", "/nonexistent.wav", "sip:x@127.0.0.1"], "cannot play /nonexistent.wav"),
        (["call", "--dtmf", "12x", "sip:x@127.0.0.1"], "--dtmf takes"),
        (["call", "--transport", "tls", "sip:x@127.0.0.1"], "tls needs --tls-cert and --tls-key"),
        (["call", "--tls-cert", "c.pem", "sip:x@127.0.0.1"], "--tls-cert and --tls-key go together"),
        (["call", "--resume-at", "2", "sip:x@127.0.0.1"], "--resume-at needs an earlier --hold-at"),
        (["answer", "--transport", "tls"], "tls needs --tls-cert and --tls-key"),
        (["answer", "--echo", "--play", "x.wav"], "exclude each other"),
        (["register"], "has no registrar"),
    ],
)
def test_argument_errors_exit_1(tmp_path: Path, args: list[str], message: str) -> None:
    missing = tmp_path / "none.toml"  # absent --config: the embedded default is not used
    config = tmp_path / "c.toml"
    config.write_text('[accounts.alice]\nuri = "sip:alice@127.0.0.1"\n')
    if args[0] == "register":
        result = subprocess.run(tui_phone_command(*args, config=config), capture_output=True,
                                text=True, env=environment(), timeout=30, check=False)
        assert result.returncode == 1 and message in result.stdout + result.stderr
        return
    result = invoke("--config", str(config), *args)
    assert result.exit_code == 1, result.output
    assert message in result.output
    _ = missing


def test_call_answered_by_answer_echo_exits_0_with_json(tmp_path: Path) -> None:
    answer = start_answer(tmp_path, "--echo", "--max-calls", "1")
    try:
        call = subprocess.run(
            tui_phone_command("call", f"bob@127.0.0.1:{answer.port}", "--duration", "2",
                              "--dtmf", "12#*", "--json"),
            capture_output=True, text=True, timeout=60, env=environment(), check=False)
        assert call.returncode == 0, call.stderr
        lines = [json.loads(line) for line in call.stdout.splitlines()]
        ended = [line for line in lines if line["event"] == "call_ended"][0]
        assert ended["status"] == 200 and ended["codec"] == "PCMU"
        rtp = ended["rtp"]
        assert set(rtp) == {"tx_packets", "rx_packets", "rx_lost", "loss_pct", "jitter_ms",
                            "max_jitter_ms", "rtt_ms", "mos"}
        # the echo sends back what we sent: about 50 packets in 1 s, none lost
        assert rtp["rx_packets"] >= 40 and rtp["rx_lost"] == 0
        assert answer.process.wait(15) == 0  # --max-calls 1
    finally:
        stop(answer.process)
    heard = [json.loads(line) for line in answer.out.read_text().splitlines() if '"dtmf_received"' in line]
    assert [(e["digit"], e["method"]) for e in heard] == [(d, "rfc4733") for d in "12#*"]


def test_call_refused_486_exits_3_with_status_on_the_last_line(tmp_path: Path) -> None:
    config = tmp_path / "dnd.toml"
    config.write_text('[accounts.bob]\nuri = "sip:bob@127.0.0.1"\n[phone]\ndnd = true\n')
    answer = start_answer(tmp_path, config=config)
    try:
        call = subprocess.run(tui_phone_command("call", f"bob@127.0.0.1:{answer.port}"),
                              capture_output=True, text=True, timeout=60, env=environment(),
                              check=False)
    finally:
        assert stop(answer.process) == 0  # SIGTERM: hang up, exit 0
    assert call.returncode == 3
    assert call.stdout.splitlines()[-1] == "486 Busy Here"
