"""What scripts hold: the ``phone`` handle, call wrappers and the UI adapter.

:class:`ScriptPhone` is the ``phone`` argument of every handler and hotkey. It
forwards the :class:`~tui_phone.phone.Phone` API and adds what only makes
sense for scripts: :meth:`~ScriptPhone.notify`, :meth:`~ScriptPhone.prompt`
(both delegated to a :class:`UiAdapter`: the TUI's, or :class:`HeadlessUi`),
:meth:`~ScriptPhone.sleep`, :meth:`~ScriptPhone.call_later` and
:meth:`~ScriptPhone.hotkeys`. Calls reach scripts as :class:`ScriptCall`
wrappers, which add ``remote_user``, ``data`` and ``can(name)`` and forward
everything else to the real call.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from twisted.internet import task
from twisted.internet.defer import Deferred, maybeDeferred, succeed

from ..sip.uri import NameAddress, SipUri, TelUri

if TYPE_CHECKING:
    from .host import Hotkey, ScriptHost

log = logging.getLogger(__name__)


def as_deferred(awaitable: Awaitable[Any]) -> Deferred[Any]:
    """A Deferred for a coroutine, a Deferred or any other awaitable."""
    if isinstance(awaitable, Deferred):
        return awaitable
    if inspect.iscoroutine(awaitable):
        return Deferred.fromCoroutine(awaitable)

    async def wait() -> Any:
        return await awaitable

    return Deferred.fromCoroutine(wait())


class UiAdapter(Protocol):
    """How scripts talk to the user. The TUI implements it; :class:`HeadlessUi` is the fallback."""

    def notify(self, script: str, text: str) -> None:
        """Show ``text`` from ``script`` (a toast in the TUI)."""

    def prompt(self, script: str, question: str) -> Deferred[str | None] | Awaitable[str | None]:
        """Ask the user; the answer, or None when dismissed.

        The Deferred may be cancelled (the handler timed out): close the question.
        An adapter may also have ``place_call(script, uri, account) -> Call``,
        which :meth:`ScriptPhone.call` then uses (raising if the call cannot be made).
        """


class HeadlessUi:
    """No user to talk to: notifications are logged, prompts answer None with a warning.

    Notifications go to the ``tui_phone.scripts.notify`` logger at WARNING, so
    that the CLI's default logging (stderr, WARNING) shows them.
    """

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.log = logger if logger is not None else logging.getLogger("tui_phone.scripts.notify")

    def notify(self, script: str, text: str) -> None:
        """Log ``text``."""
        self.log.warning("[%s] %s", script, text)

    def prompt(self, script: str, question: str) -> Deferred[str | None]:
        """There is no one to ask: None."""
        self.log.warning("[%s] prompt %r: no UI in headless mode, answering None", script, question)
        return succeed(None)


def uri_user(text: str) -> str | None:
    """The user part of a URI or name-addr (``"Bob" <sip:bob@h>`` -> ``bob``), or None."""
    try:
        uri = NameAddress.parse(text).uri
    except ValueError:  # SipParseError and LocalProtocolError alike
        uri = None
    if isinstance(uri, SipUri):
        return uri.user
    if isinstance(uri, TelUri):
        return uri.number
    # Not a URI we parse: take what sits between the scheme and the "@".
    rest = text.strip().strip("<>").split(":", 1)[-1]
    return rest.split("@", 1)[0] if "@" in rest else None


class ScriptCall:
    """A call as scripts see it: the real call's API plus a few conveniences.

    - ``remote_user``: the user part of the remote URI (``alice``), or None;
    - ``data``: a dict scripts may use to keep per-call state (shared by all
      scripts, so pick distinct keys);
    - ``can(name)``: whether the call offers an operation (``transfer``, ``play``);
    - ``raw``: the underlying :class:`~tui_phone.call.Call`.

    Everything else (``answer``, ``reject``, ``hangup``, ``hold``, ``resume``,
    ``send_dtmf``, ``mute``, ``record``, ``stats``, ``state``, ``remote``,
    ``call_id`` ...) is the real call's.
    """

    def __init__(self, call: Any) -> None:
        object.__setattr__(self, "raw", call)
        object.__setattr__(self, "data", {})

    raw: Any
    data: dict[str, Any]

    @property
    def remote_user(self) -> str | None:
        """The user part of the remote URI (``sip:alice@host`` -> ``alice``)."""
        remote = getattr(self.raw, "remote_user", None)
        if isinstance(remote, str):
            return remote
        return uri_user(str(getattr(self.raw, "remote", "")))

    def can(self, name: str) -> bool:
        """True if the call has an operation called ``name`` in this tui-phone version."""
        return callable(getattr(self.raw, name, None))

    def __getattr__(self, name: str) -> Any:
        try:
            return getattr(self.raw, name)
        except AttributeError:
            raise AttributeError(
                f"calls have no {name!r} in this tui-phone version (check with call.can({name!r}))"
            ) from None

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ScriptCall):
            return self.raw is other.raw
        return self.raw is other

    def __hash__(self) -> int:
        return id(self.raw)

    def __repr__(self) -> str:
        return f"<ScriptCall {self.raw!r}>"


class ScriptPhone:
    """The ``phone`` handle of one script.

    Phone API: :meth:`call`, :attr:`calls`, :attr:`accounts`, :meth:`account`,
    :attr:`registrations`, :meth:`register`, :meth:`unregister`, :attr:`dnd`;
    any other Phone attribute is forwarded (``raw`` is the Phone itself).
    Script API: :meth:`notify`, :meth:`prompt`, :meth:`sleep`,
    :meth:`call_later`, :meth:`hotkeys`, :attr:`script`, :attr:`log`.
    """

    def __init__(self, phone: Any, host: ScriptHost, script: str) -> None:
        object.__setattr__(self, "raw", phone)
        object.__setattr__(self, "_host", host)
        object.__setattr__(self, "script", script)
        object.__setattr__(self, "log", logging.getLogger(f"tui_phone.scripts.user.{script}"))

    raw: Any
    script: str
    log: logging.Logger

    # -- the Phone API ----------------------------------------------------------------
    def call(self, uri: str, account: str | None = None) -> ScriptCall:
        """Place a call.

        With a UI adapter that has ``place_call`` (the TUI's), the UI places it,
        as if dialled there: contact names and ``echo`` resolve as they do in the
        dial field, and the call shows in the call list. Otherwise a bare user
        (``"echo"``) is taken at the account's domain.
        """
        place_call = getattr(self._host.ui, "place_call", None)
        if place_call is not None:
            return self._host.wrap_call(place_call(self.script, uri, account))
        target = self._expand(uri, account)
        return self._host.wrap_call(self.raw.call(target, account))

    def _expand(self, uri: str, account: str | None) -> str:
        text = uri.strip()
        if "@" in text or ":" in text or text.startswith("<"):
            return text
        try:
            aor = self.raw.account(account).aor
        except Exception:  # noqa: BLE001 - no account: let Phone.call report the URI
            return text
        port = f":{aor.port}" if getattr(aor, "port", None) else ""
        return f"{text}@{aor.host}{port}"

    @property
    def calls(self) -> list[ScriptCall]:
        """The calls in progress (ringing, connected, on hold)."""
        return [self._host.wrap_call(call) for call in list(self.raw.calls)]

    @property
    def accounts(self) -> Mapping[str, Any]:
        """The configured accounts by name (read-only)."""
        return MappingProxyType(dict(self.raw.config.accounts))

    def account(self, name: str | None = None) -> Any:
        """The account called ``name`` (None: the default one)."""
        return self.raw.account(name)

    @property
    def registrations(self) -> dict[str, str]:
        """Each registering account's state (``registered``, ``failed`` ...)."""
        return {name: str(getattr(reg.state, "value", reg.state))
                for name, reg in self.raw.registrations.items()}

    def register(self, name: str) -> Deferred[Any]:
        """REGISTER account ``name``; fires with the outcome."""
        return self.raw.register(name)  # type: ignore[no-any-return]

    def unregister(self, name: str) -> Deferred[Any]:
        """Remove account ``name``'s binding."""
        return self.raw.unregister(name)  # type: ignore[no-any-return]

    @property
    def dnd(self) -> bool:
        """Do not disturb: incoming calls are refused with 486 before they ring."""
        return bool(self.raw.dnd)

    @dnd.setter
    def dnd(self, value: bool) -> None:
        self.raw.dnd = bool(value)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "dnd":
            object.__setattr__(self, name, value)  # the property setter
            return
        raise AttributeError(f"the phone handle has no settable attribute {name!r}")

    # -- the script API ---------------------------------------------------------------
    def notify(self, text: str) -> None:
        """Tell the user ``text`` (a toast in the TUI, a log line headless)."""
        self._host.ui.notify(self.script, str(text))

    def prompt(self, question: str) -> Deferred[str | None]:
        """Ask the user; fires with the answer, or None (dismissed, or headless)."""

        def ask() -> Any:
            answer = self._host.ui.prompt(self.script, str(question))
            return as_deferred(answer) if isinstance(answer, Awaitable) else answer

        return maybeDeferred(ask)

    def sleep(self, seconds: float) -> Deferred[None]:
        """A Deferred that fires after ``seconds`` on the reactor (``await phone.sleep(2)``)."""
        return task.deferLater(self._host.reactor, seconds, lambda: None)

    def call_later(self, seconds: float, func: Callable[..., Any], *args: Any) -> Any:
        """Run ``func(*args)`` after ``seconds``; its errors are reported like a handler's.

        Returns the reactor's delayed call (``.cancel()`` it to change your mind).
        """
        label = f"{getattr(func, '__qualname__', repr(func))} (call_later)"
        return self._host.reactor.callLater(seconds, self._host.run_callable, self.script,
                                            label, func, args)

    def hotkeys(self) -> list[Hotkey]:
        """Every bound hotkey (all scripts'), as the TUI lists them."""
        return self._host.hotkeys()

    def __repr__(self) -> str:
        return f"<ScriptPhone {self.script}>"


__all__ = ["HeadlessUi", "ScriptCall", "ScriptPhone", "UiAdapter", "as_deferred", "uri_user"]
