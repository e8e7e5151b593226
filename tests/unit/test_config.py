"""Tests of tui_phone.config: the schema, defaults, XDG paths, line-precise errors, passwords."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from textwrap import dedent

import pytest

from tui_phone import __version__
from tui_phone.config import (
    DEFAULT_CODECS,
    PASSWORD_CMD_TIMEOUT,
    Account,
    Config,
    ConfigError,
    NatSettings,
    PasswordError,
    PhoneSettings,
    default_config_path,
    embedded_default,
    load_config,
    parse_config,
    resolve_password,
)
from tui_phone.sip.uri import SipUri

EXAMPLE = """\
[accounts.alice]
uri = "sip:alice@127.0.0.1"        # address of record
registrar = "sip:127.0.0.1:5090"   # optional; absent = no REGISTER
username = "alice"                 # optional; default: the URI's user
password = "alicepw"               # or password_env = "VAR", or password_cmd = "pass show sip"
transport = "udp"                  # udp | tcp | tls
"""
PYTHON = shlex.quote(sys.executable)


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text)


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(dedent(text), encoding="utf-8")
    path.chmod(0o600)
    return path


def load(tmp_path: Path, text: str) -> Config:
    return load_config(write(tmp_path, text), env={"HOME": str(tmp_path)})


def error(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={"HOME": str(tmp_path)})
    return str(info.value).replace(str(path), "FILE")


def account_error(tmp_path: Path, body: str) -> str:
    """The error for an [accounts.alice] table whose uri is on line 2 and ``body`` from line 3."""
    return error(tmp_path, '[accounts.alice]\nuri = "sip:alice@example.com"\n' + dedent(body))


def alice(tmp_path: Path, body: str = "") -> Account:
    config = load(tmp_path, '[accounts.alice]\nuri = "sip:alice@example.com"\n' + dedent(body))
    return config.accounts["alice"]


# --- the example, defaults and the embedded default -------------------------------------------


def test_the_example_loads(tmp_path: Path) -> None:
    config = load(tmp_path, EXAMPLE)
    account = config.account(None)
    assert account.name == "alice"
    assert account.uri == "sip:alice@127.0.0.1"
    assert account.registrar == "sip:127.0.0.1:5090"
    assert account.registrar_uri == SipUri(host="127.0.0.1", port=5090)
    assert account.username == "alice"
    assert account.auth_username == "alice"
    assert account.password == "alicepw"
    assert account.password_source == "password"
    assert account.transport == "udp"
    assert str(account.aor) == "sip:alice@127.0.0.1"
    assert config.warnings == []
    assert config.source == tmp_path / "config.toml"


def test_account_defaults(tmp_path: Path) -> None:
    account = alice(tmp_path)
    assert account == Account(name="alice", uri="sip:alice@example.com")
    assert account.registrar is None and account.registrar_uri is None
    assert account.username is None and account.auth_username == "alice"
    assert account.password_source is None
    assert account.transport == "udp"
    assert account.outbound_proxy is None and account.outbound_proxy_uri is None
    assert account.codecs == DEFAULT_CODECS == ("PCMU", "PCMA", "G722", "opus")
    assert account.dtmf_mode == "rfc4733"
    assert account.tls_verify is True and account.tls_ca_file is None
    assert account.display_name is None
    assert account.register_expires == 600
    assert account.srtp == "off"
    assert account.local_port == 0
    assert account.default is False


def test_phone_nat_keys_defaults(tmp_path: Path) -> None:
    config = load(tmp_path, EXAMPLE)
    assert config.phone == PhoneSettings()
    assert config.phone.listen == ("127.0.0.1", 0)
    assert config.phone.rtp_port_range == (20000, 30000)
    assert config.phone.user_agent == f"tui-phone/{__version__}"
    assert config.phone.dnd is False
    assert config.phone.audio == "auto"
    assert config.phone.theme == "dark"
    assert config.phone.history_db is None
    assert config.nat == NatSettings(stun_server=None, upnp=False)
    assert config.keys == {}
    assert config.contacts_file is None


def test_every_key_set(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("x")
    config = load(tmp_path, """\
        [accounts.work]
        uri = "sips:bob@example.com;transport=tls"
        registrar = "default"
        username = "bob-auth"
        password_env = "WORK_PW"
        transport = "TLS"
        outbound_proxy = "sips:proxy.example.com;lr"
        codecs = ["opus", "g722", "pcmu", "l16"]
        dtmf_mode = "INFO"
        tls_verify = false
        tls_ca_file = "ca.pem"
        display_name = "Bob B."
        register_expires = 60
        srtp = "Mandatory"
        local_port = 5070
        default = true

        [phone]
        listen = "[::1]:5062"
        rtp_port_range = [40000, 40100]
        user_agent = "Acme/1"
        dnd = true
        audio = "wav:in.wav,out.wav"
        theme = "light-2"
        history_db = "~/calls.sqlite"
        rtp_timeout = 0

        [keys]
        hangup = "ctrl+h"

        [nat]
        stun_server = "stun.example.org:19302"
        upnp = true

        [contacts]
        path = "people.toml"
        """)
    work = config.account(None)
    assert work.registrar_uri == SipUri(scheme="sips", host="example.com")
    assert str(work.aor) == "sips:bob@example.com"
    assert work.auth_username == "bob-auth"
    assert work.transport == "tls" and work.dtmf_mode == "info" and work.srtp == "mandatory"
    assert work.codecs == ("opus", "G722", "PCMU", "L16")
    assert work.outbound_proxy_uri == SipUri.parse("sips:proxy.example.com;lr")
    assert work.tls_verify is False and work.tls_ca_file == tmp_path / "ca.pem"
    assert (work.display_name, work.register_expires, work.local_port) == ("Bob B.", 60, 5070)
    assert config.phone == PhoneSettings(
        listen=("::1", 5062), rtp_port_range=(40000, 40100), user_agent="Acme/1", dnd=True,
        audio="wav:in.wav,out.wav", theme="light-2", history_db=tmp_path / "calls.sqlite",
        rtp_timeout=0,
    )
    assert config.keys == {"hangup": "ctrl+h"}
    assert config.nat == NatSettings(stun_server=("stun.example.org", 19302), upnp=True)
    assert config.contacts_file == tmp_path / "people.toml"


def test_embedded_default() -> None:
    config = embedded_default()
    assert config.source is None
    assert list(config.accounts) == ["local"]
    local = config.account(None)
    assert local.uri == "sip:tui-phone@127.0.0.1"
    assert local.registrar is None and local.registrar_uri is None
    assert local.password_source is None
    assert resolve_password(local) is None
    assert config.phone == PhoneSettings() and config.nat == NatSettings()
    assert config.keys == {} and config.warnings == []


def test_a_file_without_accounts_gets_the_local_account(tmp_path: Path) -> None:
    config = load(tmp_path, '[phone]\ntheme = "light"\n')
    assert config.accounts == embedded_default().accounts
    assert config.phone.theme == "light"


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xef\xbb\xbf" + EXAMPLE.encode())
    assert load_config(path).account().name == "alice"


# --- paths -------------------------------------------------------------------------------------


def test_default_config_path_follows_xdg() -> None:
    env = {"XDG_CONFIG_HOME": "/xdg", "HOME": "/home/u"}
    assert default_config_path(env) == Path("/xdg/tui-phone/config.toml")


@pytest.mark.parametrize("xdg", [None, "", "relative/dir"])
def test_default_config_path_falls_back_to_dot_config(xdg: str | None) -> None:
    env = {"HOME": "/home/u"} if xdg is None else {"HOME": "/home/u", "XDG_CONFIG_HOME": xdg}
    assert default_config_path(env) == Path("/home/u/.config/tui-phone/config.toml")


def test_no_default_file_means_the_embedded_default(tmp_path: Path) -> None:
    config = load_config(None, env={"XDG_CONFIG_HOME": str(tmp_path), "HOME": str(tmp_path)})
    assert config == embedded_default()


def test_the_default_file_is_loaded_when_present(tmp_path: Path) -> None:
    (tmp_path / "tui-phone").mkdir()
    path = write(tmp_path / "tui-phone", EXAMPLE)
    config = load_config(None, env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert config.source == path and list(config.accounts) == ["alice"]


def test_an_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=r"^.*nope\.toml: no such file$") as info:
        load_config(path)
    assert str(info.value) == f"{path}: no such file"


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert str(info.value) == f"{tmp_path}: cannot read: Is a directory"
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'# caf\xe9\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}: not UTF-8 text (byte 5)"


def test_relative_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    path = write(tmp_path / "sub", '[phone]\nhistory_db = "h.db"\n[contacts]\npath = "../c.toml"\n')
    config = load_config(path)
    assert config.phone.history_db == tmp_path / "sub" / "h.db"
    assert config.contacts_file == tmp_path / "sub" / ".." / "c.toml"


# --- TOML syntax ---------------------------------------------------------------------------------


def test_toml_syntax_errors_name_the_line(tmp_path: Path) -> None:
    assert error(tmp_path, '[accounts.alice]\nuri = "sip:a@b"\ntransport = udp\n') == (
        "FILE:3: invalid TOML: invalid value (column 13)")
    assert error(tmp_path, "[phone]\n[keys]\n[phone]\n") == (
        "FILE:3: invalid TOML: cannot declare phone twice (column 7)")


# --- account errors --------------------------------------------------------------------------------


def test_a_bad_transport(tmp_path: Path) -> None:
    text = '[accounts.alice]\nuri = "sip:alice@127.0.0.1"\nusername = "alice"\ntransport = "sctp"\n'
    assert error(tmp_path, text) == (
        "FILE:4: accounts.alice.transport: must be one of udp, tcp, tls, not 'sctp'")


def test_a_misspelt_key_gets_a_suggestion(tmp_path: Path) -> None:
    text = dedent("""\
        # alice's account
        [accounts.alice]
        uri = "sip:alice@127.0.0.1"

        username = "alice"
        transport = "udp"
        pasword = "alicepw"
        """)
    assert error(tmp_path, text) == (
        "FILE:7: accounts.alice.pasword: unknown key (did you mean 'password'?)")


def test_an_unknown_key_without_a_close_match(tmp_path: Path) -> None:
    assert account_error(tmp_path, "zzz = 1\n") == "FILE:3: accounts.alice.zzz: unknown key"


def test_unknown_top_level_tables(tmp_path: Path) -> None:
    assert error(tmp_path, "[phnoe]\ndnd = true\n") == (
        "FILE:1: phnoe: unknown key (did you mean 'phone'?)")
    assert error(tmp_path, "\n\nverbose = true\n") == "FILE:3: verbose: unknown key"


@pytest.mark.parametrize(("body", "message"), [
    ('register_expires = "600"', "register_expires: must be an integer, not a string"),
    ("local_port = true", "local_port: must be an integer, not a boolean"),
    ("tls_verify = 1", "tls_verify: must be a boolean, not an integer"),
    ("default = 1979-05-27", "default: must be a boolean, not a date"),
    ("display_name = 1.5", "display_name: must be a string, not a float"),
    ('codecs = "PCMU"', "codecs: must be an array, not a string"),
    ("username = { a = 1 }", "username: must be a string, not a table"),
    ("register_expires = 30", "register_expires: must be at least 60, not 30"),
    ("local_port = 70000", "local_port: must be between 0 and 65535, not 70000"),
    ("local_port = -1", "local_port: must be between 0 and 65535, not -1"),
    ('dtmf_mode = "inband"', "dtmf_mode: must be one of rfc4733, info, not 'inband'"),
    ('srtp = "on"', "srtp: must be one of off, optional, mandatory, not 'on'"),
    ('username = ""', "username: must not be empty"),
    ('display_name = "Eve\\r\\nVia: x"', "display_name: must not contain control characters"),
    ('registrar = "sip:alice@example.com"',
     "registrar: must not have a user part (RFC 3261 10.2)"),
    ('registrar = "example.com"', "registrar: invalid SIP URI: missing or invalid URI scheme"),
    ('outbound_proxy = "http://proxy"', ("outbound_proxy: invalid SIP URI: "
                                        "unsupported URI scheme 'http'")),
    ('tls_ca_file = "/no/such/ca.pem"', "tls_ca_file: no such file: /no/such/ca.pem"),
    ("codecs = []", "codecs: must name at least one codec"),
    ('password_env = "MY PW"', ("password_env: must be an environment variable name, "
                               "not 'MY PW'")),
    ("password_cmd = \"pass show 'sip\"", ("password_cmd: cannot split into words: "
                                         "No closing quotation")),
])
def test_bad_account_values(tmp_path: Path, body: str, message: str) -> None:
    assert account_error(tmp_path, body + "\n") == f"FILE:3: accounts.alice.{message}"


@pytest.mark.parametrize(("uri", "message"), [
    ("alice@example.com", "invalid SIP URI: missing or invalid URI scheme"),
    ("tel:+15551234", "invalid SIP URI: unsupported URI scheme 'tel'"),
    ("sip:alice@exa mple.com", "invalid SIP URI: URI contains whitespace"),
    ("sip:example.com", "must have a user part (sip:USER@HOST)"),
    ("sip:alice:secret@example.com",
     "must not hold a password (use password, password_env or password_cmd)"),
])
def test_bad_uris(tmp_path: Path, uri: str, message: str) -> None:
    text = f'[accounts.alice]\n\nuri = "{uri}"\n'
    assert error(tmp_path, text) == f"FILE:3: accounts.alice.uri: {message}"
    assert "secret" not in error(tmp_path, text.replace("sip:alice:", "alice:"))


def test_a_missing_uri_is_reported_at_the_table(tmp_path: Path) -> None:
    assert error(tmp_path, '\n[accounts.alice]\nusername = "a"\n') == (
        "FILE:2: accounts.alice: missing key 'uri'")


def test_accounts_must_be_tables(tmp_path: Path) -> None:
    assert error(tmp_path, "accounts = 3\n") == "FILE:1: accounts: must be a table, not an integer"
    assert error(tmp_path, '[accounts]\nalice = "sip:alice@h"\n') == (
        "FILE:2: accounts.alice: must be a table, not a string")


def test_codec_errors_point_at_the_element(tmp_path: Path) -> None:
    body = 'codecs = [\n  "PCMU",\n  "speex",   # not ours\n  "pcmu",\n  7,\n]\n'
    assert account_error(tmp_path, body).splitlines() == [
        ("FILE:5: accounts.alice.codecs[1]: unknown codec 'speex' "
        "(known: PCMU, PCMA, G722, L16, opus)"),
        "FILE:6: accounts.alice.codecs[2]: PCMU is listed twice",
        "FILE:7: accounts.alice.codecs[3]: must be a string, not an integer",
    ]


def test_codecs_are_case_insensitive_and_keep_their_order(tmp_path: Path) -> None:
    assert alice(tmp_path, 'codecs = ["OPUS", "pcma"]\n').codecs == ("opus", "PCMA")


def test_registrar_forms(tmp_path: Path) -> None:
    text = '[accounts.a]\nuri = "sip:a@example.com:5070;user=phone"\nregistrar = "Default"\n'
    account = load(tmp_path, text).accounts["a"]
    assert account.registrar == "default"
    assert account.registrar_uri == SipUri(host="example.com", port=5070)
    assert str(account.aor) == "sip:a@example.com:5070"


def test_sips_means_tls(tmp_path: Path) -> None:
    text = '[accounts.s]\nuri = "sips:s@example.com"\n'
    assert load(tmp_path, text).accounts["s"].transport == "tls"
    assert error(tmp_path, text + 'transport = "tcp"\n') == (
        "FILE:3: accounts.s.transport: a sips: URI needs tls, not 'tcp'")


def test_password_sources_are_exclusive(tmp_path: Path) -> None:
    body = 'password_cmd = "pass sip"\nusername = "x"\npassword = "p"\npassword_env = "PW"\n'
    assert account_error(tmp_path, body).splitlines() == [
        ("FILE:5: accounts.alice.password: conflicts with password_cmd "
        "(set only one of password, password_env, password_cmd)"),
        ("FILE:6: accounts.alice.password_env: conflicts with password_cmd "
        "(set only one of password, password_env, password_cmd)"),
    ]


def test_only_one_default_account(tmp_path: Path) -> None:
    text = dedent("""\
        [accounts.a]
        uri = "sip:a@h"
        default = true
        [accounts.b]
        uri = "sip:b@h"
        default = true
        """)
    assert error(tmp_path, text) == (
        "FILE:6: accounts.b.default: only one account can be the default (accounts.a already is)")


def test_every_problem_is_reported_in_line_order(tmp_path: Path) -> None:
    text = dedent("""\
        [phone]
        dnd = "yes"
        [accounts.alice]
        uri = "sip:alice@h"
        transport = "sctp"
        [nat]
        upnp = "no"
        """)
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.problems == (
        f"{path}:2: phone.dnd: must be a boolean, not a string",
        f"{path}:5: accounts.alice.transport: must be one of udp, tcp, tls, not 'sctp'",
        f"{path}:7: nat.upnp: must be a boolean, not a string",
    )
    assert str(info.value) == "\n".join(info.value.problems)


def test_key_lines_follow_quoted_dotted_and_inline_forms(tmp_path: Path) -> None:
    text = dedent('''\
        notes = """
        [accounts.fake]
        transport = "sctp"
        """
        [accounts."work phone"]
        uri = "sip:w@h"
        srtp = "maybe"
        [accounts]
        bob.uri = "sip:bob@h"
        bob.dtmf_mode = "sip-info"
        carol = { uri = "sip:carol@h", local_port = -5 }
        dave = { uri = "sip:dave@h", codecs = [
            "PCMU", "speex"] }
        ''')
    problems = error(tmp_path, text).splitlines()
    assert problems == [
        "FILE:1: notes: unknown key",
        ("FILE:7: accounts.\"work phone\".srtp: must be one of off, optional, mandatory, "
        "not 'maybe'"),
        "FILE:10: accounts.bob.dtmf_mode: must be one of rfc4733, info, not 'sip-info'",
        "FILE:11: accounts.carol.local_port: must be between 0 and 65535, not -5",
        ("FILE:13: accounts.dave.codecs[1]: unknown codec 'speex' "
        "(known: PCMU, PCMA, G722, L16, opus)"),
    ]


def test_config_account_lookup(tmp_path: Path) -> None:
    text = '[accounts.a]\nuri = "sip:a@h"\n[accounts.b]\nuri = "sip:b@h"\n'
    config = load(tmp_path, text)
    assert config.account(None).name == "a"
    assert config.account("b").name == "b"
    with pytest.raises(ConfigError) as info:
        config.account("x")
    assert str(info.value) == f"no account 'x' in {tmp_path / 'config.toml'} (accounts: a, b)"
    config = load(tmp_path, text + "default = true\n")
    assert config.account().name == "b"
    with pytest.raises(ConfigError, match=r"^no account 'x' in <embedded default config> "
                                          r"\(accounts: local\)$"):
        embedded_default().account("x")


# --- [phone], [keys], [nat], [contacts] ---------------------------------------------------------


@pytest.mark.parametrize(("listen", "expected"), [
    ("127.0.0.1:5070", ("127.0.0.1", 5070)),
    ("0.0.0.0:5060", ("0.0.0.0", 5060)),
    ("localhost:0", ("localhost", 0)),
    ("[::1]:5060", ("::1", 5060)),
])
def test_listen(tmp_path: Path, listen: str, expected: tuple[str, int]) -> None:
    assert load(tmp_path, f'[phone]\nlisten = "{listen}"\n').phone.listen == expected


@pytest.mark.parametrize(("listen", "message"), [
    ("127.0.0.1", "must be HOST:PORT, not '127.0.0.1'"),
    ("::1:5060", "must be HOST:PORT, not '::1:5060'"),
    ("[::1]", "must be HOST:PORT, not '[::1]'"),
    ("bad host:5060", "must be HOST:PORT, not 'bad host:5060'"),
    ("127.0.0.300:5060", "must be HOST:PORT, not '127.0.0.300:5060'"),
    ("127.0.0.1:http", "must be HOST:PORT, not '127.0.0.1:http'"),
    ("127.0.0.1:65536", "port must be between 0 and 65535, not 65536"),
])
def test_bad_listen(tmp_path: Path, listen: str, message: str) -> None:
    assert error(tmp_path, f'[phone]\nlisten = "{listen}"\n') == f"FILE:2: phone.listen: {message}"


@pytest.mark.parametrize(("ports", "message"), [
    ("[20001, 30000]", "the start must be even (RFC 3550 11), not 20001"),
    ("[30000, 20000]", "the start must be below the end, not [30000, 20000]"),
    ("[20000, 20000]", "the start must be below the end, not [20000, 20000]"),
    ("[0, 100]", "ports must be between 1 and 65535, not [0, 100]"),
    ("[20000, 70000]", "ports must be between 1 and 65535, not [20000, 70000]"),
    ("[20000]", "must be [START, END], two integers"),
    ('[20000, "30000"]', "must be [START, END], two integers"),
    ("20000", "must be an array, not an integer"),
])
def test_bad_rtp_port_range(tmp_path: Path, ports: str, message: str) -> None:
    assert error(tmp_path, f"[phone]\n\nrtp_port_range = {ports}\n") == (
        f"FILE:3: phone.rtp_port_range: {message}")


@pytest.mark.parametrize(("value", "message"), [
    ("-1", "must be between 0 and 86400, not -1"),
    ("1.5", "must be an integer, not a float"),
    ('"60"', "must be an integer, not a string"),
])
def test_bad_rtp_timeout(tmp_path: Path, value: str, message: str) -> None:
    assert error(tmp_path, f"[phone]\nrtp_timeout = {value}\n") == f"FILE:2: phone.rtp_timeout: {message}"


@pytest.mark.parametrize("spec", ["auto", "NULL", "wav:in.wav", "wav:in.wav,out.wav", "tone",
                                  "tone:1000", "tone:busy", "device", "device:USB Audio"])
def test_audio_specs(tmp_path: Path, spec: str) -> None:
    assert load(tmp_path, f'[phone]\naudio = "{spec}"\n').phone.audio == spec


@pytest.mark.parametrize("spec", ["alsa", "null:x", "wav:", "wav:,out.wav", "device:", "auto:1"])
def test_bad_audio_specs(tmp_path: Path, spec: str) -> None:
    assert error(tmp_path, f'[phone]\naudio = "{spec}"\n') == (
        "FILE:2: phone.audio: must be auto, null, wav:IN[,OUT], tone[:NAME|HZ] or "
        f"device[:NAME|INDEX], not {spec!r}")


def test_bad_phone_values(tmp_path: Path) -> None:
    text = '[phone]\ntheme = "../etc/x"\nuser_agent = "a\\nb"\nhistory_db = ""\nthme = "x"\n'
    assert error(tmp_path, text).splitlines() == [
        "FILE:2: phone.theme: must be a theme name (letters, digits, '-', '_'), not '../etc/x'",
        "FILE:3: phone.user_agent: must not contain control characters",
        "FILE:4: phone.history_db: must not be empty",
        "FILE:5: phone.thme: unknown key (did you mean 'theme'?)",
    ]


def test_keys(tmp_path: Path) -> None:
    text = dedent("""\
        [keys]
        hangup = "ctrl+h"
        hangpu = "x"
        launch_rockets = "ctrl+r"
        mute = "ctrl+h"
        """)
    config = load(tmp_path, text)
    assert config.keys == {"hangup": "ctrl+h", "hangpu": "x", "launch_rockets": "ctrl+r",
                           "mute": "ctrl+h"}
    source = tmp_path / "config.toml"
    assert config.warnings == [
        f"{source}:3: keys.hangpu: unknown action (did you mean 'hangup'?)",
        f"{source}:4: keys.launch_rockets: unknown action",
        f"{source}:5: keys.mute: 'ctrl+h' is also bound to hangup",
    ]


def test_bad_keys(tmp_path: Path) -> None:
    assert error(tmp_path, '[keys]\nhangup = ""\nmute = 3\nhold = "  "\n').splitlines() == [
        "FILE:2: keys.hangup: must not be empty",
        "FILE:3: keys.mute: must be a string, not an integer",
        "FILE:4: keys.hold: must not be empty",
    ]
    assert error(tmp_path, "keys = [1]\n") == "FILE:1: keys: must be a table, not an array"


@pytest.mark.parametrize(("server", "expected"), [
    ("", None),
    ("stun.example.org", ("stun.example.org", 3478)),
    ("stun.example.org:19302", ("stun.example.org", 19302)),
    ("192.0.2.1:3479", ("192.0.2.1", 3479)),
    ("[2001:db8::1]", ("2001:db8::1", 3478)),
])
def test_stun_server(tmp_path: Path, server: str, expected: tuple[str, int] | None) -> None:
    assert load(tmp_path, f'[nat]\nstun_server = "{server}"\n').nat.stun_server == expected


@pytest.mark.parametrize(("server", "message"), [
    ("stun:example.org", "must be HOST[:PORT], not 'stun:example.org'"),
    ("example.org:0", "port must be between 1 and 65535, not 0"),
])
def test_bad_stun_server(tmp_path: Path, server: str, message: str) -> None:
    assert error(tmp_path, f'[nat]\nstun_server = "{server}"\n') == (
        f"FILE:2: nat.stun_server: {message}")


def test_contacts_table(tmp_path: Path) -> None:
    assert error(tmp_path, '[contacts]\nfile = "c.toml"\n') == "FILE:2: contacts.file: unknown key"
    assert error(tmp_path, "[contacts]\npath = 1\n") == (
        "FILE:2: contacts.path: must be a string, not an integer")


# --- passwords -------------------------------------------------------------------------------------


def test_repr_hides_the_password(tmp_path: Path) -> None:
    config = load(tmp_path, EXAMPLE)
    account = config.account()
    assert "alicepw" not in repr(account)
    assert "password=<hidden>" in repr(account)
    assert "alicepw" not in repr(config) and "alicepw" not in str(config)
    assert resolve_password(account) == "alicepw"


def test_password_type_errors_do_not_show_the_value(tmp_path: Path) -> None:
    message = account_error(tmp_path, 'password = ["hunter2"]\n')
    assert message == "FILE:3: accounts.alice.password: must be a string, not an array"


def test_password_env(tmp_path: Path) -> None:
    account = alice(tmp_path, '\npassword_env = "SIP_PW"\n')
    where = f"{tmp_path / 'config.toml'}:4"
    assert resolve_password(account, env={"SIP_PW": "s3cret"}) == "s3cret"
    with pytest.raises(PasswordError) as info:
        resolve_password(account, env={})
    assert str(info.value) == (
        f"{where}: accounts.alice.password_env: the environment variable SIP_PW is not set")
    with pytest.raises(PasswordError) as info:
        resolve_password(account, env={"SIP_PW": ""})
    assert str(info.value) == (
        f"{where}: accounts.alice.password_env: the environment variable SIP_PW is empty")
    assert isinstance(info.value, ConfigError)


def test_password_env_defaults_to_the_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUI_PHONE_TEST_PW", "from-env")
    account = alice(tmp_path, 'password_env = "TUI_PHONE_TEST_PW"\n')
    assert resolve_password(account) == "from-env"


def test_password_cmd_runs_a_real_command(tmp_path: Path) -> None:
    command = f"{PYTHON} -c \"print(' secret '); print('second line')\""
    account = alice(tmp_path, f"password_cmd = {toml_string(command)}\n")
    assert account.password_source == "password_cmd"
    assert resolve_password(account) == "secret"


def test_password_cmd_uses_no_shell(tmp_path: Path) -> None:
    command = f"{PYTHON} -c \"import sys; print(sys.argv[1])\" '$HOME;exit 1'"
    assert resolve_password(alice(tmp_path, f"password_cmd = {toml_string(command)}\n")) == (
        "$HOME;exit 1")


def test_a_failing_password_cmd(tmp_path: Path) -> None:
    command = (f"{PYTHON} -c \"import sys; print('leaked?'); "
               "sys.stderr.write('\\n  vault is locked\\nmore\\n'); sys.exit(3)\"")
    account = alice(tmp_path, f"password_cmd = {toml_string(command)}\n")
    with pytest.raises(PasswordError) as info:
        resolve_password(account)
    assert str(info.value) == (
        f"{tmp_path / 'config.toml'}:3: accounts.alice.password_cmd: "
        "the command exited with status 3: vault is locked")
    assert "leaked" not in str(info.value)


def test_a_password_cmd_that_cannot_run(tmp_path: Path) -> None:
    account = alice(tmp_path, 'password_cmd = "tui-phone-no-such-command --x"\n')
    with pytest.raises(PasswordError) as info:
        resolve_password(account)
    assert str(info.value).endswith(
        "accounts.alice.password_cmd: cannot run 'tui-phone-no-such-command': "
        "No such file or directory")


def test_a_password_cmd_that_prints_nothing(tmp_path: Path) -> None:
    account = alice(tmp_path, f"password_cmd = {toml_string(PYTHON + ' -c print()')}\n")
    with pytest.raises(PasswordError, match=r": the command printed no password$"):
        resolve_password(account)


def _fake_runner(
    outcome: subprocess.CompletedProcess[str] | BaseException, seen: list[object]
) -> object:
    def run(argv: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str]:
        seen.append((list(argv), timeout))
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome
    return run


def test_password_cmd_timeout_and_signals(tmp_path: Path) -> None:
    account = alice(tmp_path, "password_cmd = \"pass show 'sip/my account'\"\n")
    prefix = f"{tmp_path / 'config.toml'}:3: accounts.alice.password_cmd: "
    seen: list[object] = []
    timeout = subprocess.TimeoutExpired(["pass"], PASSWORD_CMD_TIMEOUT)
    with pytest.raises(PasswordError) as info:
        resolve_password(account, run=_fake_runner(timeout, seen))  # type: ignore[arg-type]
    assert str(info.value) == prefix + "the command timed out after 5 seconds"
    assert seen == [(["pass", "show", "sip/my account"], 5.0)]
    killed = subprocess.CompletedProcess(["pass"], -9, "", "")
    with pytest.raises(PasswordError) as info:
        resolve_password(account, run=_fake_runner(killed, seen))  # type: ignore[arg-type]
    assert str(info.value) == prefix + "the command was killed by signal 9"
    fine = subprocess.CompletedProcess(["pass"], 0, "pw\r\nline2\n", "")
    assert resolve_password(account, run=_fake_runner(fine, seen)) == "pw"  # type: ignore[arg-type]


def test_a_password_in_a_shared_file_gets_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path, EXAMPLE)
    assert load_config(path).warnings == []
    path.chmod(0o644)
    assert load_config(path).warnings == [
        (f"{path}:5: accounts.alice.password: the file can be read by other users "
        "(chmod 600 it, or use password_env or password_cmd)")]
    env_only = write(tmp_path, '[accounts.a]\nuri = "sip:a@h"\npassword_env = "X"\n', "b.toml")
    env_only.chmod(0o644)
    assert load_config(env_only).warnings == []


def test_parse_config_without_a_file() -> None:
    config = parse_config('[accounts.x]\nuri = "sip:x@h"\n', env={"HOME": "/home/u"})
    assert config.source is None and config.account().name == "x"
    with pytest.raises(ConfigError) as info:
        parse_config("[phone]\ndnd = 1\n")
    assert str(info.value) == (
        "<embedded default config>:2: phone.dnd: must be a boolean, not an integer")


def test_the_config_is_frozen(tmp_path: Path) -> None:
    config = load(tmp_path, EXAMPLE)
    with pytest.raises(AttributeError):
        config.account().transport = "tcp"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        config.phone.dnd = True  # type: ignore[misc]
    assert load(tmp_path, EXAMPLE) == config
