"""tui-phone doctor: each check, and the whole report as the CLI prints it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import tui_phone
from tui_phone.audio.errors import AudioUnavailable
from tui_phone.config import load_config
from tui_phone.doctor import (
    FAIL,
    OFF,
    OK,
    WARN,
    Report,
    check_audio,
    check_config,
    check_passwords,
    check_stun,
    check_tls,
    check_upnp,
)
from tui_phone.testing.stun_server import NatSimulation, StunServer

ROOT = Path(tui_phone.__file__).resolve().parent.parent


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def _statuses(report: Report) -> dict[str, str]:
    return {check.name: check.status for check in report.checks}


def test_bad_config_fails_with_file_line_and_key(tmp_path: Path) -> None:
    path = _config(tmp_path, '[accounts.alice]\nuri = "sip:alice@127.0.0.1"\ntransport = "sctp"\n')
    report = Report()
    assert check_config(path, report) is None
    (check,) = report.checks
    assert check.status == FAIL
    assert check.detail == f"{path}:3: accounts.alice.transport: must be one of udp, tcp, tls, not 'sctp'"
    assert not report.ok


def test_embedded_default_config_is_ok(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # no config file there
    report = Report()
    config = check_config(None, report)
    assert config is not None
    assert report.checks[0].status == OK
    assert report.checks[0].detail == "none found: embedded default; accounts: local"


def test_audio_without_a_sound_card_is_a_plain_warning() -> None:
    from tui_phone.config import embedded_default

    report = Report()

    def no_card(spec: str, **_: object) -> object:
        raise AudioUnavailable("no audio device: PortAudio found no input device")

    check_audio(embedded_default(), report, chooser=no_card)
    assert report.checks == [
        report.checks[0].__class__("audio", WARN, "no audio device: PortAudio found no input device")
    ]


def test_audio_on_this_machine_says_which_backend() -> None:
    from tui_phone.config import embedded_default

    report = Report()
    check_audio(embedded_default(), report)
    (check,) = report.checks
    assert check.detail.startswith("audio: ")
    assert check.status in (OK, WARN)


def test_tls_settings(tmp_path: Path) -> None:
    path = _config(
        tmp_path,
        '[accounts.a]\nuri = "sip:a@127.0.0.1"\ntransport = "tls"\ntls_verify = false\n',
    )
    report = Report()
    check_tls(load_config(path), report)
    assert _statuses(report) == {"tls a": WARN}
    assert report.checks[0].detail == "certificate verification is OFF (tls_verify = false)"


def test_password_sources_resolve_without_showing_the_secret(tmp_path: Path) -> None:
    path = _config(
        tmp_path,
        '[accounts.a]\nuri = "sip:a@127.0.0.1"\npassword_env = "TUI_PHONE_DOCTOR_UNSET"\n'
        '[accounts.b]\nuri = "sip:b@127.0.0.1"\npassword = "s3cret"\n',
    )
    report = Report()
    check_passwords(load_config(path), report)
    statuses = _statuses(report)
    assert statuses == {"password a": FAIL, "password b": OK}
    assert "TUI_PHONE_DOCTOR_UNSET" in report.checks[0].detail
    assert all("s3cret" not in c.detail for c in report.checks)


def test_stun_off_and_upnp_off_say_so(tmp_path: Path) -> None:
    from tui_phone.config import embedded_default

    report = Report()
    check_stun(embedded_default(), report)
    check_upnp(embedded_default(), report)
    assert _statuses(report) == {"stun": OFF, "upnp": OFF}


def test_stun_against_a_loopback_server_behind_a_symmetric_nat(tmp_path: Path) -> None:
    with StunServer("127.0.0.1", nat=NatSimulation.symmetric("203.0.113.7")) as server:
        host, port = server.address
        path = _config(tmp_path, f'[nat]\nstun_server = "{host}:{port}"\n')
        report = Report()
        check_stun(load_config(path), report)
    stun = report.checks[0]
    assert stun.name == "stun" and stun.status == OK
    assert stun.detail.startswith("public address 203.0.113.7:")
    assert any(c.name == "nat" and c.status == WARN and c.detail.startswith("symmetric NAT")
               for c in report.checks)


def test_stun_without_an_answer_fails_clearly(tmp_path: Path) -> None:
    path = _config(tmp_path, '[nat]\nstun_server = "127.0.0.1:9"\n')
    report = Report()

    def silent(server: object, **_: object) -> object:
        from tui_phone.nat.errors import StunError

        raise StunError("no answer from STUN server 127.0.0.1:9 after 3 tries")

    check_stun(load_config(path), report, query=silent)
    assert report.checks[0].status == FAIL
    assert report.checks[0].detail == "no answer from STUN server 127.0.0.1:9 after 3 tries"


def _doctor(*args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "tui_phone", *args], capture_output=True, text=True,
        timeout=60, env=env, cwd=ROOT,
    )


def test_cli_doctor_json_on_a_machine_without_sound_card_or_gateway(tmp_path: Path) -> None:
    result = _doctor("doctor", "--json", env_extra={"XDG_CONFIG_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    statuses = {c["name"]: c["status"] for c in report["checks"]}
    assert report["ok"] is True
    assert statuses["config"] == OK
    assert statuses["listen udp"] == OK and statuses["listen tcp"] == OK
    assert statuses["upnp"] == OFF and statuses["stun"] == OFF
    audio = next(c for c in report["checks"] if c["name"] == "audio")
    assert audio["detail"].startswith("audio: ")


def test_cli_doctor_with_a_bad_config_exits_1(tmp_path: Path) -> None:
    path = _config(tmp_path, '[accounts.alice]\nuri = "sip:alice@127.0.0.1"\npasword = "x"\n')
    result = _doctor("--config", str(path), "doctor", "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["ok"] is False
    assert report["checks"][0]["detail"] == (
        f"{path}:3: accounts.alice.pasword: unknown key (did you mean 'password'?)"
    )


@pytest.mark.parametrize("flag", ["--json", None])
def test_cli_doctor_registration_failure_is_reported(tmp_path: Path, flag: str | None) -> None:
    # A registrar that does not answer: the REGISTER times out and the check fails.
    path = _config(
        tmp_path,
        '[accounts.alice]\nuri = "sip:alice@127.0.0.1"\nregistrar = "sip:127.0.0.1:9"\n'
        'password = "x"\n[phone]\nlisten = "127.0.0.1:0"\n',
    )
    args = ["--config", str(path), "doctor", "--timeout", "2"] + ([flag] if flag else [])
    result = _doctor(*args)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "registration alice" in result.stdout
    assert "no answer from sip:127.0.0.1:9 in 2 s" in result.stdout
