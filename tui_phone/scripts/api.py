"""The decorators user scripts use, and the registry they fill.

A script is loaded by :mod:`tui_phone.scripts.loader`, which installs a fresh
:class:`Registry` in a context variable while the script's top level runs.
``@on`` and ``@hotkey`` add to whatever registry is installed, so every script
gets its own handlers and nothing is kept in module globals here. Outside a
load (a script imported by its own unit tests, say) the decorators record
nothing and return the function unchanged.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

#: What ``@on`` accepts, mapped to the :func:`tui_phone.events.event_name` it listens to.
EVENT_ALIASES: dict[str, str] = {
    "incoming_call": "incoming_call",
    "call_answered": "call_answered",
    "call_ended": "call_ended",
    "dtmf": "dtmf_received",
    "dtmf_received": "dtmf_received",
    "registration_changed": "registration_changed",
    "call_state_changed": "call_state_changed",
    "call_hold_changed": "call_hold_changed",
    "transfer_progress": "transfer_progress",
    "transfer_completed": "transfer_completed",
    "transfer_failed": "transfer_failed",
    "call_replaced": "call_replaced",
}

#: The arguments each event's handlers get, for documentation and signature checks.
HANDLER_ARGUMENTS: dict[str, tuple[str, ...]] = {
    "incoming_call": ("phone", "call"),
    "call_answered": ("phone", "call"),
    "call_ended": ("phone", "event"),
    "dtmf_received": ("phone", "call", "digit"),
    "registration_changed": ("phone", "event"),
    "call_state_changed": ("phone", "event"),
    "call_hold_changed": ("phone", "event"),
    "transfer_progress": ("phone", "event"),
    "transfer_completed": ("phone", "event"),
    "transfer_failed": ("phone", "event"),
    "call_replaced": ("phone", "event"),
}


class ScriptApiError(ValueError):
    """A script used the API wrongly (unknown event, bad key, wrong handler arity)."""


@dataclass(frozen=True, slots=True)
class HandlerSpec:
    """One ``@on`` handler: the canonical event name, the function, its timeout."""

    event: str
    func: Callable[..., Any]
    timeout: float | None = None

    @property
    def label(self) -> str:
        """How errors name the handler: ``answer_friends (incoming_call)``."""
        return f"{getattr(self.func, '__qualname__', repr(self.func))} ({self.event})"


@dataclass(frozen=True, slots=True)
class HotkeySpec:
    """One ``@hotkey``: the normalised key, what it does, the function, its timeout."""

    key: str
    description: str
    func: Callable[..., Any]
    timeout: float | None = None

    @property
    def label(self) -> str:
        """How errors name the hotkey: ``call_echo (hotkey f5)``."""
        return f"{getattr(self.func, '__qualname__', repr(self.func))} (hotkey {self.key})"


@dataclass
class Registry:
    """The handlers and hotkeys one script declared, in declaration order."""

    handlers: list[HandlerSpec] = field(default_factory=list)
    hotkeys: dict[str, HotkeySpec] = field(default_factory=dict)

    def add_handler(self, spec: HandlerSpec) -> None:
        """Record an ``@on`` handler."""
        self.handlers.append(spec)

    def add_hotkey(self, spec: HotkeySpec) -> None:
        """Record a ``@hotkey``; one script binding a key twice is an error."""
        if spec.key in self.hotkeys:
            raise ScriptApiError(f"hotkey {spec.key!r} is bound twice in this script")
        self.hotkeys[spec.key] = spec


_registry: ContextVar[Registry | None] = ContextVar("tui_phone_script_registry", default=None)


@contextmanager
def collecting(registry: Registry) -> Iterator[Registry]:
    """Make ``@on``/``@hotkey`` record into ``registry`` for the duration of the block."""
    token = _registry.set(registry)
    try:
        yield registry
    finally:
        _registry.reset(token)


def canonical_event(name: str) -> str:
    """The event name ``@on(name)`` listens to (``dtmf`` -> ``dtmf_received``)."""
    try:
        return EVENT_ALIASES[name]
    except KeyError:
        known = ", ".join(sorted(EVENT_ALIASES))
        raise ScriptApiError(f"unknown event {name!r} (known: {known})") from None


def normalize_key(key: str) -> str:
    """Textual's spelling of a key: lower case, no spaces (``Ctrl+T`` -> ``ctrl+t``)."""
    value = "".join(key.split()).lower()
    if not value or value.startswith("+") or value.endswith("+"):
        raise ScriptApiError(f"bad hotkey {key!r}")
    return value


def _check_timeout(timeout: float | None) -> float | None:
    if timeout is not None and not timeout > 0:
        raise ScriptApiError(f"timeout must be a positive number of seconds, not {timeout!r}")
    return timeout


def _check_arity(func: Callable[..., Any], names: tuple[str, ...], what: str) -> None:
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):  # some builtins and C callables have none
        return
    try:
        signature.bind(*names)
    except TypeError:
        wanted = ", ".join(names)
        raise ScriptApiError(
            f"{getattr(func, '__qualname__', func)!s} for {what} must take ({wanted})"
        ) from None


def on(event: str, *, timeout: float | None = None) -> Callable[[F], F]:
    """Run the decorated function when ``event`` happens.

    ``event`` is one of ``incoming_call``, ``call_answered``, ``call_ended``,
    ``dtmf`` (or ``dtmf_received``), ``registration_changed``,
    ``call_state_changed``, ``call_hold_changed``, ``transfer_progress``,
    ``transfer_completed``, ``transfer_failed``, ``call_replaced``. The handler gets the
    ``phone`` handle first and the event's object after it (see
    ``HANDLER_ARGUMENTS``). It may be ``async def``; an async handler is
    cancelled after ``timeout`` seconds (None: the host's default, 5 s).
    """
    name = canonical_event(event)
    _check_timeout(timeout)

    def decorate(func: F) -> F:
        if not callable(func):
            raise ScriptApiError(f"@on({event!r}) decorates a function, not {func!r}")
        _check_arity(func, HANDLER_ARGUMENTS[name], f"@on({event!r})")
        registry = _registry.get()
        if registry is not None:
            registry.add_handler(HandlerSpec(name, func, timeout))
        return func

    return decorate


def hotkey(key: str, *, description: str = "", timeout: float | None = None) -> Callable[[F], F]:
    """Bind ``key`` (Textual's names: ``f5``, ``ctrl+t``) to the decorated ``func(phone)``.

    ``description`` is what the TUI's key list shows (default: the function's
    name). Async functions are cancelled after ``timeout`` seconds (None: the
    host's hotkey default, 60 s, since hotkeys often wait for ``phone.prompt``).
    """
    normalized = normalize_key(key)
    _check_timeout(timeout)

    def decorate(func: F) -> F:
        if not callable(func):
            raise ScriptApiError(f"@hotkey({key!r}) decorates a function, not {func!r}")
        _check_arity(func, ("phone",), f"@hotkey({key!r})")
        registry = _registry.get()
        if registry is not None:
            text = description or getattr(func, "__name__", normalized).replace("_", " ")
            registry.add_hotkey(HotkeySpec(normalized, text, func, timeout))
        return func

    return decorate


__all__ = [
    "EVENT_ALIASES",
    "HANDLER_ARGUMENTS",
    "HandlerSpec",
    "HotkeySpec",
    "Registry",
    "ScriptApiError",
    "canonical_event",
    "collecting",
    "hotkey",
    "normalize_key",
    "on",
]
