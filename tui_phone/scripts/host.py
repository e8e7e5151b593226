"""The script host: runs the loaded scripts' handlers and hotkeys for one Phone.

::

    host = ScriptHost(phone, ScriptLoader(["~/my-scripts"]), ui=HeadlessUi(),
                      on_error=lambda script, text: print(script, text))
    host.load()        # the LoadResult: scripts and errors (errors also go to on_error)
    host.attach()      # phone.subscribe(...)
    host.hotkeys()     # [Hotkey(key, description, run, script), ...] for the TUI to bind
    host.run_hotkey("f5")
    host.reload()      # read every file again, swap handlers and hotkeys at once
    host.detach()      # unsubscribe, cancel running async handlers

Handlers run on the reactor, in load order, one event at a time (an event a
handler causes, say ``call_answered`` from ``call.answer()``, is dispatched
after the current one). Nothing a script does can break the phone: an
exception is logged with its traceback and handed to ``on_error(script,
traceback_text)``; an async handler still running after its timeout (default
:data:`DEFAULT_TIMEOUT`, :data:`HOTKEY_TIMEOUT` for hotkeys) is cancelled and reported the same way; a sync
handler blocks the reactor, so one slower than :data:`SLOW_SYNC` is logged and
handed to ``on_warning(script, text)``.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import logging
import time
import traceback
import weakref
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from twisted.internet.defer import (
    CancelledError,
    Deferred,
    TimeoutError,
    succeed,
)
from twisted.python.failure import Failure

from ..events import CallAnswered, DtmfReceived, IncomingCall, PhoneEvent, event_name
from .api import HandlerSpec, HotkeySpec
from .handle import HeadlessUi, ScriptCall, ScriptPhone, UiAdapter, as_deferred
from .loader import LoadedScript, LoadResult, ScriptLoader

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 5.0  # seconds an async handler may run before it is cancelled
# A hotkey is the user's own action and often waits for them (phone.prompt): longer.
HOTKEY_TIMEOUT = 60.0
SLOW_SYNC = 0.5  # seconds a sync handler may block the reactor before we warn

ErrorCallback = Callable[[str, str], None]


class Hotkey(NamedTuple):
    """A bound key: Textual's key name, its description, a zero-argument ``run``
    (what :meth:`ScriptHost.run_hotkey` does) and the script that bound it."""

    key: str
    description: str
    run: Callable[[], Deferred[None]]
    script: str


@dataclasses.dataclass(frozen=True)
class _Active:
    """One consistent generation of scripts; replaced as a whole on reload."""

    scripts: tuple[LoadedScript, ...] = ()
    handles: Mapping[str, ScriptPhone] = dataclasses.field(default_factory=dict)
    handlers: Mapping[str, tuple[tuple[str, HandlerSpec], ...]] = dataclasses.field(
        default_factory=dict)
    hotkeys: Mapping[str, tuple[str, HotkeySpec]] = dataclasses.field(default_factory=dict)


class ScriptHost:
    """Runs user scripts against ``phone`` (a :class:`~tui_phone.phone.Phone`)."""

    def __init__(
        self,
        phone: Any,
        loader: ScriptLoader | None = None,
        *,
        ui: UiAdapter | None = None,
        on_error: ErrorCallback | None = None,
        on_warning: ErrorCallback | None = None,
        reactor: Any = None,
        timeout: float = DEFAULT_TIMEOUT,
        hotkey_timeout: float = HOTKEY_TIMEOUT,
        slow_sync: float = SLOW_SYNC,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.phone = phone
        self.loader = loader if loader is not None else ScriptLoader()
        self.ui: UiAdapter = ui if ui is not None else HeadlessUi()
        self.on_error = on_error
        self.on_warning = on_warning
        self.reactor = reactor if reactor is not None else phone.reactor
        self.timeout = timeout
        self.hotkey_timeout = hotkey_timeout
        self.slow_sync = slow_sync
        self._timer = timer
        self._active = _Active()
        self._wrappers: weakref.WeakKeyDictionary[Any, ScriptCall] = weakref.WeakKeyDictionary()
        self._running: set[Deferred[Any]] = set()
        self._queue: deque[PhoneEvent] = deque()
        self._dispatching = False
        self._unsubscribe: Callable[[], None] | None = None
        self.last_load = LoadResult()

    # -- loading ------------------------------------------------------------------------
    @property
    def scripts(self) -> tuple[LoadedScript, ...]:
        """The scripts in use, in load order."""
        return self._active.scripts

    def load(self) -> LoadResult:
        """Load (or reload) every script and start using the new set at once.

        A script that fails to load is dropped (its old version too) and its
        error is reported through ``on_error``.
        """
        result = self.loader.load()
        handles: dict[str, ScriptPhone] = {}
        handlers: dict[str, list[tuple[str, HandlerSpec]]] = {}
        hotkeys: dict[str, tuple[str, HotkeySpec]] = {}
        for script in result.scripts:
            handles[script.name] = ScriptPhone(self.phone, self, script.name)
            for spec in script.registry.handlers:
                handlers.setdefault(spec.event, []).append((script.name, spec))
            for key, hotkey_spec in script.registry.hotkeys.items():
                if key in hotkeys:
                    owner = hotkeys[key][0]
                    self._report(script.name, f"hotkey {key!r} is already bound by {owner}; "
                                              f"{hotkey_spec.label} is ignored\n")
                    continue
                hotkeys[key] = (script.name, hotkey_spec)
        self._active = _Active(result.scripts, handles,
                               {event: tuple(items) for event, items in handlers.items()}, hotkeys)
        self.last_load = result
        for error in result.errors:
            self._report(error.name, error.traceback)
        log.info("scripts loaded: %s", ", ".join(s.name for s in result.scripts) or "none")
        return result

    reload = load

    def handles(self, event: str) -> bool:
        """True if some script has a handler for ``event`` (canonical name, ``incoming_call``)."""
        return bool(self._active.handlers.get(event))

    # -- attaching ----------------------------------------------------------------------
    def attach(self) -> None:
        """Start receiving the phone's events."""
        if self._unsubscribe is None:
            self._unsubscribe = self.phone.subscribe(self.dispatch)

    def detach(self) -> None:
        """Stop receiving events and cancel the async handlers still running."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for running in list(self._running):
            running.cancel()

    # -- hotkeys ------------------------------------------------------------------------
    def hotkeys(self) -> list[Hotkey]:
        """Every bound key, in load order."""
        return [Hotkey(key, spec.description, functools.partial(self._hotkey_or_none, key), script)
                for key, (script, spec) in self._active.hotkeys.items()]

    def _hotkey_or_none(self, key: str) -> Deferred[None]:
        running = self.run_hotkey(key)
        return running if running is not None else succeed(None)

    def run_hotkey(self, key: str) -> Deferred[None] | None:
        """Run the script bound to ``key``; None if no script binds it.

        The Deferred fires when the function has finished (errors are reported,
        never raised).
        """
        active = self._active
        bound = active.hotkeys.get(key.lower())
        if bound is None:
            return None
        script, spec = bound
        timeout = self.hotkey_timeout if spec.timeout is None else spec.timeout
        return self._run(script, spec.label, spec.func, (active.handles[script],), timeout)

    # -- events -------------------------------------------------------------------------
    def wrap_call(self, call: Any) -> ScriptCall:
        """The one :class:`ScriptCall` for ``call`` (the same object in every handler)."""
        if isinstance(call, ScriptCall):
            return call
        try:
            wrapper = self._wrappers.get(call)
        except TypeError:  # not weak-referenceable: a fresh wrapper each time
            return ScriptCall(call)
        if wrapper is None:
            wrapper = ScriptCall(call)
            self._wrappers[call] = wrapper
        return wrapper

    def dispatch(self, event: PhoneEvent) -> None:
        """Run the handlers of ``event`` (the phone subscription calls this)."""
        self._queue.append(event)
        if self._dispatching:
            return
        self._dispatching = True
        try:
            while self._queue:
                self._dispatch_one(self._queue.popleft())
        finally:
            self._dispatching = False

    def _dispatch_one(self, event: PhoneEvent) -> None:
        active = self._active
        try:
            name = event_name(event)
        except KeyError:
            return
        handlers = active.handlers.get(name)
        if not handlers:
            return
        arguments = self._arguments(event)
        for script, spec in handlers:
            self._run(script, spec.label, spec.func, (active.handles[script], *arguments),
                      spec.timeout)

    def _arguments(self, event: PhoneEvent) -> tuple[Any, ...]:
        """What handlers get after the phone handle (documented in the Scripting section of README.md).

        ``incoming_call``/``call_answered``: the call; ``dtmf``: the call and the
        digit; any other event: the event itself, its ``call`` (if it has one)
        replaced by the call's :class:`ScriptCall`.
        """
        if isinstance(event, IncomingCall | CallAnswered):
            return (self.wrap_call(event.call),)
        if isinstance(event, DtmfReceived):
            return (self.wrap_call(event.call), event.digit)
        call: Any = getattr(event, "call", None)
        if call is not None:
            changed: Any = dataclasses.replace(event, call=self.wrap_call(call))  # type: ignore[arg-type]
            return (changed,)
        return (event,)

    # -- running script code --------------------------------------------------------------
    def run_callable(self, script: str, label: str, func: Callable[..., Any],
                     args: tuple[Any, ...]) -> Deferred[None]:
        """Run ``func(*args)`` for ``script`` with the handlers' protections."""
        return self._run(script, label, func, args, None)

    def _run(self, script: str, label: str, func: Callable[..., Any], args: tuple[Any, ...],
             timeout: float | None) -> Deferred[None]:
        started = self._timer()
        try:
            result = func(*args)
        except Exception as error:  # noqa: BLE001 - a script must not break the phone
            self._report(script, _format(error, skip=1), label)
            return succeed(None)
        elapsed = self._timer() - started
        if elapsed > self.slow_sync:
            self._warn(script, f"{label} blocked the phone for {elapsed:.2f} s; handlers "
                               f"that wait should be async def and await phone.sleep()\n")
        if not inspect.isawaitable(result):
            return succeed(None)
        limit = self.timeout if timeout is None else timeout
        running: Deferred[Any] = as_deferred(result)
        running.addTimeout(limit, self.reactor)
        self._running.add(running)
        done: Deferred[None] = Deferred()

        def finished(outcome: Any) -> None:
            self._running.discard(running)
            if isinstance(outcome, Failure):
                if outcome.check(TimeoutError):
                    self._report(script, f"{label} timed out after {limit:g} s and was "
                                         f"cancelled\n", label)
                elif not outcome.check(CancelledError):
                    self._report(script, _failure_text(outcome), label)
            done.callback(None)

        running.addBoth(finished)
        return done

    def _report(self, script: str, text: str, label: str | None = None) -> None:
        log.error("script %s failed%s:\n%s", script, f" in {label}" if label else "", text)
        if self.on_error is not None:
            try:
                self.on_error(script, text)
            except Exception:
                log.exception("on_error callback failed")

    def _warn(self, script: str, text: str) -> None:
        log.warning("script %s: %s", script, text.rstrip())
        if self.on_warning is not None:
            try:
                self.on_warning(script, text)
            except Exception:
                log.exception("on_warning callback failed")


def _format(error: BaseException, skip: int = 0) -> str:
    """The traceback text of ``error`` without the host's own first ``skip`` frames."""
    tb = error.__traceback__
    for _ in range(skip):
        if tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
    return "".join(traceback.format_exception(type(error), error, tb))


def _failure_text(failure: Failure) -> str:
    error = failure.value
    if isinstance(error, BaseException) and error.__traceback__ is not None:
        return "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return failure.getTraceback()


__all__ = ["DEFAULT_TIMEOUT", "HOTKEY_TIMEOUT", "SLOW_SYNC", "Hotkey", "ScriptHost"]
