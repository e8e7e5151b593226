"""The config file: TOML (stdlib ``tomllib``), XDG paths, validation with line-precise errors.

The file is ``--config FILE``, else ``$XDG_CONFIG_HOME/tui-phone/config.toml``
(``~/.config/...`` when the variable is unset, empty or relative).  A missing
default file means :func:`embedded_default`: one account ``local``
(``sip:tui-phone@127.0.0.1``), no registrar, no password.  A file without
``[accounts]`` gets that same ``local`` account, so a file may set only keys or
a theme.  Every key and its default::

    [accounts.NAME]                 # one table per account, any number
    uri = "sip:alice@example.com"   # required: the address of record (needs a user)
    registrar = "sip:example.com"   # absent: no REGISTER; "default": the URI's domain
    username = "alice"              # auth user; default: the URI's user
    password = "..."                # at most one of password, password_env
    password_env = "SIP_PW"         #   (a variable read when needed) and
    password_cmd = "pass show sip"  #   password_cmd (no shell; first line of stdout)
    transport = "udp"               # udp | tcp | tls (default tls for a sips: URI)
    outbound_proxy = "sip:proxy"    # a SIP URI; default none
    codecs = ["PCMU", "PCMA", "G722", "opus"]  # preference order; also L16; any case
    dtmf_mode = "rfc4733"           # rfc4733 | info
    tls_verify = true
    tls_ca_file = "ca.pem"          # must exist; default: the system's CAs
    display_name = "Alice"
    register_expires = 600          # seconds, at least 60
    srtp = "off"                    # off | optional | mandatory
    local_port = 0                  # the SIP port `call`/`register` with this account
                                    # listen on without --listen; 0 picks a free port
    default = false                 # the account used when none is named

    [phone]
    listen = "127.0.0.1:0"          # HOST:PORT ([::1]:5060 for IPv6); port 0: any free port
    rtp_port_range = [20000, 30000] # even start (RFC 3550 11), start < end
    user_agent = "tui-phone/VERSION"
    dnd = false
    audio = "auto"                  # auto, null, wav:IN[,OUT], tone[:NAME|HZ], device[:NAME]
    theme = "dark"                  # a themes/NAME.tcss
    history_db = "history.sqlite"   # default: none (no call history on disk)
    rtp_timeout = 60                # hang up after this many seconds with no RTP/RTCP
                                    # from the peer (paused while on hold); 0: never

    [keys]                          # action = key, e.g. hangup = "ctrl+h"; an unknown
                                    # action is kept, with a warning
    [nat]
    stun_server = ""                # HOST[:PORT] (port 3478); "" is off
    upnp = false
    upnp_ssdp_target = ""           # HOST:PORT: search this gateway by unicast SSDP
                                    # instead of multicast discovery; "" (default) is off

    [contacts]
    path = "contacts.toml"          # default: none

Paths may start with ``~``; relative ones are relative to the config file.
Enumerations (transport, srtp...) are case-insensitive and stored lower case.
Every problem is reported, sorted by line, as ``FILE:LINE: KEY: REASON``; the
line finding and typed reads are :mod:`tui_phone.tomlcheck`.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shlex
import subprocess
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from . import __version__
from .sip.errors import SipError
from .sip.uri import SipUri
from .tomlcheck import (
    MISSING,
    KeyPath,
    Report,
    Table,
    dotted_key,
    key_lines,
    suggestion,
    syntax_message,
    type_name,
)

CommandRunner = Callable[[Sequence[str], float], "subprocess.CompletedProcess[str]"]

CONFIG_DIR_NAME = "tui-phone"
CONFIG_FILE_NAME = "config.toml"
EMBEDDED_SOURCE = "<embedded default config>"
EMBEDDED_DEFAULT_TOML = """\
# The config used when there is no config file: a local account that never registers.
[accounts.local]
uri = "sip:tui-phone@127.0.0.1"
"""
TRANSPORTS = ("udp", "tcp", "tls")
DTMF_MODES = ("rfc4733", "info")
SRTP_MODES = ("off", "optional", "mandatory")
CODECS = ("PCMU", "PCMA", "G722", "L16", "opus")
DEFAULT_CODECS = ("PCMU", "PCMA", "G722", "opus")
PASSWORD_KEYS = ("password", "password_env", "password_cmd")
PASSWORD_CMD_TIMEOUT = 5.0  # seconds
DEFAULT_REGISTER_EXPIRES = 600
MIN_REGISTER_EXPIRES = 60
STUN_PORT = 3478  # RFC 5389 9
AUDIO_SPEC_HELP = "auto, null, wav:IN[,OUT], tone[:NAME|HZ] or device[:NAME|INDEX]"
# Actions the TUI binds; [keys] may name others (kept, with a warning).
KNOWN_ACTIONS = frozenset({
    "answer", "reject", "hangup", "dial", "redial", "hold", "mute", "transfer",
    "attended_transfer", "conference", "record", "dnd", "dtmf", "next_call",
    "previous_call", "switch_account", "contacts", "history", "log", "stats",
    "ladder", "help", "quit",
})

_ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_THEME_RE = re.compile(r"[A-Za-z0-9_-]+\Z")
_HOSTNAME_RE = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*"
                          r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?\Z")


class ConfigError(ValueError):
    """A config that cannot be used; the message names the file, the line and the key.

    ``problems`` holds every problem found, one message each; ``str()`` of the
    error joins them with newlines (so one problem is exactly its message).
    """

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.problems = tuple(problems) or (message,)


class PasswordError(ConfigError):
    """A password source that failed when the secret was needed (never shows the secret)."""


@dataclass(frozen=True, kw_only=True, repr=False)
class Account:
    """One ``[accounts.NAME]`` table, validated by :func:`load_config`.

    URIs are kept as written; the properties parse them.  ``repr()`` hides the password.
    """

    name: str
    uri: str
    registrar: str | None = None
    username: str | None = None
    password: str | None = None
    password_env: str | None = None
    password_cmd: str | None = None
    transport: str = "udp"
    outbound_proxy: str | None = None
    codecs: tuple[str, ...] = DEFAULT_CODECS
    dtmf_mode: str = "rfc4733"
    tls_verify: bool = True
    tls_ca_file: Path | None = None
    display_name: str | None = None
    register_expires: int = DEFAULT_REGISTER_EXPIRES
    srtp: str = "off"
    local_port: int = 0
    default: bool = False
    password_origin: str = field(default="", compare=False)  # "FILE:LINE" for errors

    def __repr__(self) -> str:
        shown = (
            f"{f.name}=<hidden>" if f.name == "password" and self.password is not None
            else f"{f.name}={getattr(self, f.name)!r}"
            for f in fields(self) if f.name != "password_origin"
        )
        return f"Account({', '.join(shown)})"

    @property
    def aor(self) -> SipUri:
        """The address of record: ``uri`` without URI parameters or headers."""
        return SipUri.parse(self.uri).replace(params={}, headers=())

    @property
    def auth_username(self) -> str:
        """The digest user name: ``username``, else the user part of the URI."""
        return self.username if self.username is not None else self.aor.user or ""

    @property
    def registrar_uri(self) -> SipUri | None:
        """Where to REGISTER (``"default"``: the URI's domain and port), or None: never."""
        if self.registrar is None:
            return None
        if self.registrar == "default":
            aor = self.aor
            return SipUri(scheme=aor.scheme, host=aor.host, port=aor.port)
        return SipUri.parse(self.registrar)

    @property
    def outbound_proxy_uri(self) -> SipUri | None:
        """The outbound proxy, parsed, or None."""
        return None if self.outbound_proxy is None else SipUri.parse(self.outbound_proxy)

    @property
    def password_source(self) -> str | None:
        """Which of ``password``, ``password_env``, ``password_cmd`` is set, or None (no auth)."""
        return next((key for key in PASSWORD_KEYS if getattr(self, key) is not None), None)


@dataclass(frozen=True, kw_only=True)
class PhoneSettings:
    """The ``[phone]`` table."""

    listen: tuple[str, int] = ("127.0.0.1", 0)
    rtp_port_range: tuple[int, int] = (20000, 30000)
    user_agent: str = f"tui-phone/{__version__}"
    dnd: bool = False
    audio: str = "auto"
    theme: str = "dark"
    history_db: Path | None = None
    rtp_timeout: int = 60  # seconds without a packet from the peer before hanging up; 0: never


@dataclass(frozen=True, kw_only=True)
class NatSettings:
    """The ``[nat]`` table; ``stun_server`` is ``(host, port)`` or None (off);
    ``upnp_ssdp_target`` is the gateway's unicast SSDP ``(host, port)`` or None
    (multicast discovery through miniupnpc)."""

    stun_server: tuple[str, int] | None = None
    upnp: bool = False
    upnp_ssdp_target: tuple[str, int] | None = None


@dataclass(frozen=True)
class Config:
    """A loaded config: ``source`` is None for the embedded default; ``warnings`` are
    ``FILE:LINE: KEY: REASON`` lines worth showing the user."""

    accounts: dict[str, Account]
    phone: PhoneSettings
    keys: dict[str, str]
    nat: NatSettings
    source: Path | None
    warnings: list[str]
    contacts_file: Path | None = None

    def account(self, name: str | None = None) -> Account:
        """The account called ``name``; None: the ``default = true`` one, else the first."""
        where = EMBEDDED_SOURCE if self.source is None else str(self.source)
        if name is None:
            for account in self.accounts.values():
                if account.default:
                    return account
            first = next(iter(self.accounts.values()), None)
            if first is None:
                raise ConfigError(f"no accounts in {where}")
            return first
        try:
            return self.accounts[name]
        except KeyError:
            names = ", ".join(self.accounts)
            raise ConfigError(f"no account {name!r} in {where} (accounts: {names})") from None


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/tui-phone/config.toml``, else under ``~/.config``."""
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME", "")
    # XDG Base Directory spec: a relative path in the variable is invalid and ignored.
    root = Path(base) if base and Path(base).is_absolute() else _home(env) / ".config"
    return root / CONFIG_DIR_NAME / CONFIG_FILE_NAME


def embedded_default() -> Config:
    """The config used when the default config file does not exist."""
    return parse_config(EMBEDDED_DEFAULT_TOML)


def load_config(path: Path | None, *, env: Mapping[str, str] | None = None) -> Config:
    """Load and validate ``path`` (None: the default path, or the embedded default).

    Raises :class:`ConfigError` for a missing or unreadable ``path``, bad TOML
    and every invalid key or value.
    """
    env = os.environ if env is None else env
    if path is None:
        path = default_config_path(env)
        if not path.exists():
            return embedded_default()
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    config = parse_config(text, source=path, env=env)
    return _warn_if_readable(config, path)


def _warn_if_readable(config: Config, path: Path) -> Config:
    """Warn (as ssh does) when a file holding a password is readable by other users."""
    try:
        shared = path.stat().st_mode & 0o077
    except OSError:
        return config
    extra = [f"{account.password_origin}: {dotted_key(('accounts', name, 'password'))}: "
             f"the file can be read by other users (chmod 600 it, or use password_env "
             f"or password_cmd)"
             for name, account in config.accounts.items()
             if account.password is not None and shared]
    return replace(config, warnings=config.warnings + extra) if extra else config


def parse_config(
    text: str, *, source: Path | None = None, env: Mapping[str, str] | None = None
) -> Config:
    """Validate the TOML ``text`` of a config; ``source`` names it in messages and
    anchors relative paths (None: the embedded default, paths relative to the cwd)."""
    env = os.environ if env is None else env
    name = EMBEDDED_SOURCE if source is None else str(source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(syntax_message(name, text, str(exc))) from None
    base = None if source is None else source.absolute().parent
    report = Report(name, key_lines(text), base, _home(env))
    top = Table(report, (), data)
    accounts = _accounts(report, top.table("accounts"))
    phone = _phone(report, top.table("phone"))
    keys = _keys(report, top.table("keys"))
    nat = _nat(report, top.table("nat"))
    contacts = Table(report, ("contacts",), top.table("contacts"))
    contacts_file = contacts.file_path("path")
    contacts.finish()
    top.finish()
    if report.problems:
        messages = report.error_messages()
        raise ConfigError("\n".join(messages), messages)
    if not accounts:
        accounts = dict(embedded_default().accounts)
    return Config(accounts, phone, keys, nat, source, report.warning_messages(), contacts_file)


def run_command(argv: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` without a shell and capture its output (the default password runner)."""
    return subprocess.run(
        list(argv), capture_output=True, text=True, encoding="utf-8", timeout=timeout,
        stdin=subprocess.DEVNULL, check=False,
    )


def resolve_password(
    account: Account, env: Mapping[str, str] | None = None, run: CommandRunner = run_command
) -> str | None:
    """The account's secret, read now from its source; None when it has no password.

    Raises :class:`PasswordError` naming the variable or the command's failure.
    """
    source = account.password_source
    if source is None or source == "password":
        return account.password
    where = f"{account.password_origin}: " if account.password_origin else ""
    prefix = f"{where}{dotted_key(('accounts', account.name, source))}: "
    if source == "password_env":
        env = os.environ if env is None else env
        variable = account.password_env
        value = env.get(variable or "")
        if value is None:
            raise PasswordError(f"{prefix}the environment variable {variable} is not set")
        if not value:
            raise PasswordError(f"{prefix}the environment variable {variable} is empty")
        return value
    argv = shlex.split(account.password_cmd or "")
    try:
        result = run(argv, PASSWORD_CMD_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise PasswordError(
            f"{prefix}the command timed out after {PASSWORD_CMD_TIMEOUT:g} seconds") from None
    except OSError as exc:
        raise PasswordError(f"{prefix}cannot run {argv[0]!r}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise PasswordError(f"{prefix}the command printed something that is not UTF-8") from None
    if result.returncode != 0:
        status = (f"was killed by signal {-result.returncode}" if result.returncode < 0
                  else f"exited with status {result.returncode}")
        detail = next((line.strip() for line in (result.stderr or "").splitlines()
                       if line.strip()), "")
        raise PasswordError(f"{prefix}the command {status}" + (f": {detail}" if detail else ""))
    secret = (result.stdout or "").split("\n", 1)[0].strip()
    if not secret:
        raise PasswordError(f"{prefix}the command printed no password")
    return secret


def _home(env: Mapping[str, str]) -> Path:
    return Path(env["HOME"]) if env.get("HOME") else Path.home()


def _sip_uri(report: Report, path: KeyPath, text: str) -> SipUri | None:
    try:
        return SipUri.parse(text)
    except SipError as exc:  # the value is not shown: it may hold a password
        report.error(path, f"invalid SIP URI: {exc}")
        return None


def _uri_key(table: Table, key: str) -> tuple[str, SipUri] | None:
    """The text and the parsed SIP URI of ``key``, or None when absent or invalid."""
    text = table.string(key)
    uri = None if text is None else _sip_uri(table.report, table.prefix + (key,), text)
    return None if text is None or uri is None else (text, uri)


def _accounts(report: Report, data: dict[str, Any]) -> dict[str, Account]:
    accounts: dict[str, Account] = {}
    default_name: str | None = None
    for name, value in data.items():
        if not isinstance(value, dict):
            report.error(("accounts", name), f"must be a table, not {type_name(value)}")
            continue
        account = _account(report, name, Table(report, ("accounts", name), value))
        if account is None:
            continue
        if account.default and default_name is not None:
            report.error(("accounts", name, "default"), "only one account can be the default "
                         f"({dotted_key(('accounts', default_name))} already is)")
        elif account.default:
            default_name = name
        accounts[name] = account
    return accounts


def _account(report: Report, name: str, table: Table) -> Account | None:
    path = table.prefix
    uri = _uri_key(table, "uri")
    if "uri" not in table.data:
        report.error(path, "missing key 'uri'")
    elif uri is not None and uri[1].user is None:
        report.error(path + ("uri",), "must have a user part (sip:USER@HOST)")
    elif uri is not None and uri[1].password is not None:
        report.error(path + ("uri",), "must not hold a password (use password, password_env "
                                      "or password_cmd)")
    registrar = table.string("registrar")
    if registrar is not None and registrar.lower() == "default":
        registrar = "default"
    elif registrar is not None:
        parsed = _sip_uri(report, path + ("registrar",), registrar)
        if parsed is not None and parsed.user is not None:
            report.error(path + ("registrar",), "must not have a user part (RFC 3261 10.2)")
    username = table.line_text("username")
    passwords = {key: table.string(key) for key in PASSWORD_KEYS}
    _check_password_sources(report, table, passwords)
    secure = uri is not None and uri[1].is_secure
    transport = table.choice("transport", TRANSPORTS, "tls" if secure else "udp")
    if secure and transport != "tls":
        report.error(path + ("transport",), f"a sips: URI needs tls, not {transport!r}")
    proxy = _uri_key(table, "outbound_proxy")
    account = Account(
        name=name,
        uri=uri[0] if uri else "",
        registrar=registrar,
        username=username,
        password=passwords["password"],
        password_env=passwords["password_env"],
        password_cmd=passwords["password_cmd"],
        transport=transport,
        outbound_proxy=proxy[0] if proxy else None,
        codecs=_codecs(report, table),
        dtmf_mode=table.choice("dtmf_mode", DTMF_MODES, "rfc4733"),
        tls_verify=table.flag("tls_verify", True),
        tls_ca_file=table.file_path("tls_ca_file", must_exist=True),
        display_name=table.line_text("display_name"),
        register_expires=table.integer("register_expires", DEFAULT_REGISTER_EXPIRES,
                                       MIN_REGISTER_EXPIRES),
        srtp=table.choice("srtp", SRTP_MODES, "off"),
        local_port=table.integer("local_port", 0, 0, 65535),
        default=table.flag("default", False),
        password_origin=next((report.where(path + (key,)) for key in PASSWORD_KEYS
                              if passwords[key] is not None), ""),
    )
    table.finish()
    return account if uri is not None else None


def _check_password_sources(report: Report, table: Table,
                            passwords: dict[str, str | None]) -> None:
    path = table.prefix
    present = sorted((key for key in PASSWORD_KEYS if key in table.data),
                     key=lambda key: report.line_of(path + (key,)) or 0)
    for key in present[1:]:
        report.error(path + (key,), f"conflicts with {present[0]} (set only one of "
                                    "password, password_env, password_cmd)")
    variable = passwords["password_env"]
    if variable is not None and not _ENV_NAME_RE.match(variable):
        report.error(path + ("password_env",),
                     f"must be an environment variable name, not {variable!r}")
    command = passwords["password_cmd"]
    if command is not None:
        try:
            shlex.split(command)
        except ValueError as exc:
            report.error(path + ("password_cmd",), f"cannot split into words: {exc}")


def _codecs(report: Report, table: Table) -> tuple[str, ...]:
    names = table.value("codecs", list, "an array")
    if names is MISSING:
        return DEFAULT_CODECS
    path = table.prefix + ("codecs",)
    if not names:
        report.error(path, "must name at least one codec")
    by_folded = {codec.lower(): codec for codec in CODECS}
    chosen: list[str] = []
    for index, name in enumerate(names):
        codec = by_folded.get(name.lower()) if isinstance(name, str) else None
        if not isinstance(name, str):
            report.error(path + (index,), f"must be a string, not {type_name(name)}")
        elif codec is None:
            report.error(path + (index,),
                         f"unknown codec {name!r} (known: {', '.join(CODECS)})")
        elif codec in chosen:
            report.error(path + (index,), f"{codec} is listed twice")
        else:
            chosen.append(codec)
    return tuple(chosen) or DEFAULT_CODECS


def _host_port(report: Report, path: KeyPath, text: str,
               default_port: int | None) -> tuple[str, int] | None:
    """``HOST:PORT`` (``[IPv6]:PORT``); ``default_port`` None: the port is required."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        valid = _is_ip(host, version=6)
        port_text = rest[1:] if rest.startswith(":") else (None if rest else "")
    else:
        host, colon, port_text = text.rpartition(":")
        if not colon:
            host, port_text = text, ""
        # All-numeric labels must make an IPv4 address, not a host name.
        valid = _is_ip(host, version=4) or (
            bool(_HOSTNAME_RE.match(host)) and not host.replace(".", "").isdigit())
    if port_text == "" and default_port is not None:
        port_text = str(default_port)
    if not valid or not port_text or not port_text.isdigit():
        shape = "HOST:PORT" if default_port is None else "HOST[:PORT]"
        report.error(path, f"must be {shape}, not {text!r}")
        return None
    port = int(port_text)
    low = 0 if default_port is None else 1
    if not low <= port <= 65535:
        report.error(path, f"port must be between {low} and 65535, not {port}")
        return None
    return host, port


def _is_ip(text: str, version: int) -> bool:
    try:
        return ipaddress.ip_address(text).version == version
    except ValueError:
        return False


def _phone(report: Report, data: dict[str, Any]) -> PhoneSettings:
    table = Table(report, ("phone",), data)
    defaults = PhoneSettings()
    listen_text = table.string("listen")
    listen = None if listen_text is None else _host_port(
        report, ("phone", "listen"), listen_text, None)
    ports = _port_range(report, table.value("rtp_port_range", list, "an array"))
    user_agent = table.line_text("user_agent")
    dnd = table.flag("dnd", defaults.dnd)
    audio = table.string("audio")
    if audio is not None and not _is_audio_spec(audio):
        report.error(("phone", "audio"), f"must be {AUDIO_SPEC_HELP}, not {audio!r}")
        audio = None
    theme = table.string("theme")
    if theme is not None and not _THEME_RE.match(theme):
        report.error(("phone", "theme"),
                     f"must be a theme name (letters, digits, '-', '_'), not {theme!r}")
        theme = None
    history_db = table.file_path("history_db")
    rtp_timeout = table.integer("rtp_timeout", defaults.rtp_timeout, 0, 86400)
    table.finish()
    return PhoneSettings(
        listen=listen or defaults.listen, rtp_port_range=ports or defaults.rtp_port_range,
        user_agent=user_agent or defaults.user_agent, dnd=dnd,
        audio=audio or defaults.audio, theme=theme or defaults.theme, history_db=history_db,
        rtp_timeout=rtp_timeout,
    )


def _port_range(report: Report, value: Any) -> tuple[int, int] | None:
    path: KeyPath = ("phone", "rtp_port_range")
    if value is MISSING:
        return None
    if len(value) != 2 or not all(type(port) is int for port in value):
        report.error(path, "must be [START, END], two integers")
        return None
    start, end = value
    if not (1 <= start <= 65535 and 1 <= end <= 65535):
        report.error(path, f"ports must be between 1 and 65535, not [{start}, {end}]")
    elif start % 2:
        report.error(path, f"the start must be even (RFC 3550 11), not {start}")
    elif start >= end:
        report.error(path, f"the start must be below the end, not [{start}, {end}]")
    else:
        return start, end
    return None


def _is_audio_spec(spec: str) -> bool:
    """The shape of an audio spec (the audio package checks the files, tones and devices)."""
    kind, colon, argument = spec.strip().partition(":")
    kind = kind.lower()
    if kind in ("auto", "null"):
        return not colon
    if kind == "wav":
        return bool(argument.partition(",")[0].strip())
    if kind == "device":
        return not colon or bool(argument.strip())
    return kind == "tone"


def _keys(report: Report, data: dict[str, Any]) -> dict[str, str]:
    keys: dict[str, str] = {}
    bound: dict[str, str] = {}
    for action, key in data.items():
        path = ("keys", action)
        if not isinstance(key, str):
            report.error(path, f"must be a string, not {type_name(key)}")
            continue
        if not key.strip():
            report.error(path, "must not be empty")
            continue
        if action not in KNOWN_ACTIONS:
            report.warn(path, "unknown action" + suggestion(action, sorted(KNOWN_ACTIONS)))
        if key in bound:
            report.warn(path, f"{key!r} is also bound to {bound[key]}")
        bound.setdefault(key, action)
        keys[action] = key
    return keys


def _nat(report: Report, data: dict[str, Any]) -> NatSettings:
    table = Table(report, ("nat",), data)
    stun_text = table.string("stun_server", empty_ok=True)
    stun = None
    if stun_text is not None and stun_text.strip():
        stun = _host_port(report, ("nat", "stun_server"), stun_text.strip(), STUN_PORT)
    upnp = table.flag("upnp", False)
    target_text = table.string("upnp_ssdp_target", empty_ok=True)
    target = None
    if target_text is not None and target_text.strip():
        target = _host_port(report, ("nat", "upnp_ssdp_target"), target_text.strip(), None)
        if target is not None and target[1] == 0:
            report.error(("nat", "upnp_ssdp_target"), "port must be between 1 and 65535, not 0")
            target = None
    table.finish()
    return NatSettings(stun_server=stun, upnp=upnp, upnp_ssdp_target=target)
