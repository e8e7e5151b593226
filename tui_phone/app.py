"""The Textual app: dial input, calls, live RTP stats, SIP ladder, status bar.

The app talks to the phone only through the :class:`~tui_phone.phone.Phone`
API (``call``, ``calls``, ``subscribe``, ``start``/``stop``, ``local_address``)
and its :class:`~tui_phone.call.Call` objects, so tests can hand it a fake.

Start-up order (:func:`run_tui`): create an asyncio loop and run the app on
it with ``App.run(loop=...)``; after the first paint the app calls ``setup``,
which installs Twisted's ``asyncioreactor`` on that running loop, *then*
imports the reactor and builds the Phone.  Importing the reactor first would
install Twisted's default reactor, whose sockets nobody polls; building the
phone after the first paint keeps start-up to the first screen near 0.5 s.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Input

from .app_scripts import ScriptsMixin
from .call_control import CallControlMixin
from .call_view import state_label, stats_sample
from .contacts import Contact, load_contacts, resolve
from .events import (
    CallEnded,
    CallHoldChanged,
    CallReplaced,
    CallStateChanged,
    IncomingCall,
    NatStatusChanged,
    PhoneEvent,
    RegistrationChanged,
    SipMessageLogged,
)
from .history import History
from .keymap import ACTIONS, FOOTER_ACTIONS, PRIORITY_ACTIONS
from .screens.help import HelpScreen
from .widgets.banner import Banner
from .widgets.call_list import CallList, CallRow
from .widgets.dialpad import Dialpad
from .widgets.ladder import Ladder, LadderEntry
from .widgets.rtp_stats import REFRESH_S, RtpStats
from .widgets.status_bar import PhoneStatus, StatusBar, nat_status_line

log = logging.getLogger(__name__)

THEMES_DIR = Path(__file__).parent / "themes"
TEXTUAL_THEMES = {"dark": "textual-dark", "light": "textual-light"}
ECHO_TARGET = "echo"

@dataclass(frozen=True, slots=True)
class PhoneSetup:
    """What a ``setup`` callable gives the app once it has built the phone."""

    phone: Any
    echo: Any
    audio_line: str


def theme_path(name: str) -> Path:
    """The ``.tcss`` file of theme ``name`` (shipped in ``tui_phone/themes``)."""
    path = THEMES_DIR / f"{name}.tcss"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in THEMES_DIR.glob("*.tcss")))
        raise ValueError(f"unknown theme {name!r} (themes: {known})")
    return path


class PhoneApp(CallControlMixin, ScriptsMixin, App[None]):
    """The terminal phone.

    ``phone`` is a started-or-not :class:`~tui_phone.phone.Phone` (the app calls
    ``start``/``stop``); ``echo`` an optional
    :class:`~tui_phone.echo_service.EchoService` that ``echo`` dials; ``clock``
    gives wall time for history rows; ``script_dirs`` (None: no scripts) the
    ``--scripts`` folders, loaded with the user's default folder if ``user_scripts``.
    """

    CSS_PATH = "app.tcss"
    TITLE = "tui-phone"
    BINDINGS: ClassVar[list[BindingType]] = [Binding(key, action, description, id=action, show=action in FOOTER_ACTIONS,
                        priority=action in PRIORITY_ACTIONS)
                for action, key, description in ACTIONS]

    def __init__(
        self,
        phone: Any = None,
        *,
        config: Any = None,
        setup: Callable[[], PhoneSetup] | None = None,
        audio_line: str = "audio: null",
        echo: Any = None,
        history: History | None = None,
        contacts: list[Contact] | None = None,
        keys: dict[str, str] | None = None,
        theme: str = "dark",
        clock: Callable[[], float] = time.time,
        recordings_dir: Path | None = None,
        nat_line: str = "nat: off",
        refresh_s: float = REFRESH_S,
        script_dirs: Sequence[Path | str] | None = None,
        user_scripts: bool = True,
    ) -> None:
        super().__init__(css_path=[Path(__file__).parent / "app.tcss", theme_path(theme)])
        self.phone = phone
        self.config = config if config is not None else phone.config
        self._setup = setup
        self.echo = echo
        self.history = history
        self.contacts = contacts or []
        self.clock = clock
        self.audio_line = audio_line
        self.nat_line = nat_line
        self.recordings_dir = recordings_dir
        self.theme_name = theme
        self.refresh_s = refresh_s
        self.keys = {action: key for action, key, _ in ACTIONS} | dict(keys or {})
        self.configured_keys = dict(keys or {})  # set in [keys]: these win over script keys
        account = self.config.account(None)
        self.account_name: str = account.name
        self.registration = "no registrar" if account.registrar_uri is None else "registering"
        self.calls: dict[str, Any] = {}
        self.muted: set[str] = set()
        self.recording: set[str] = set()
        self.stats_for: str | None = None
        self._stopping = False
        self._unsubscribe: Callable[[], None] | None = None
        self._init_call_control()
        self._init_scripts(script_dirs, user_scripts)
        if keys:
            self.set_keymap({action: key for action, key in keys.items()})
        self.theme = TEXTUAL_THEMES.get(theme, "textual-dark")

    # -- layout -----------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Dialpad()
        yield CallList()
        yield Banner()
        yield RtpStats()
        yield Ladder()
        yield StatusBar()
        yield Footer()

    async def on_mount(self) -> None:
        self.query_one("#dial-input", Input).focus()
        self._refresh_status()
        self.set_interval(self.refresh_s, self._tick)
        if self.phone is None:
            # Build the phone (Twisted, the SIP and RTP stack) after the first paint:
            # the screen shows at once and the imports happen behind it.
            self.call_after_refresh(self._build_phone)
        else:
            self._attach_phone()

    def _build_phone(self) -> None:
        assert self._setup is not None
        try:
            ready = self._setup()
        except Exception as error:
            log.exception("phone setup failed")
            self.notify(f"phone did not start: {error}", severity="error", timeout=10)
            return
        self.phone, self.echo, self.audio_line = ready.phone, ready.echo, ready.audio_line
        self._attach_phone()

    def _attach_phone(self) -> None:
        self._unsubscribe = self.phone.subscribe(self._on_phone_event)
        try:
            self._start_scripts()
        except Exception as error:  # a broken script setup must not stop the phone
            log.exception("scripts did not start")
            self.notify(f"scripts did not start: {error}", severity="error", timeout=10)
        self._refresh_completions()
        self._refresh_status()
        self._start_phone()

    @work(exclusive=True, group="start")
    async def _start_phone(self) -> None:
        try:
            if self.echo is not None:
                await _wait(self.echo.start())
            await _wait(self.phone.start())
        except Exception as error:
            log.exception("phone start failed")
            self.notify(f"phone did not start: {error}", severity="error", timeout=10)
        self._refresh_status()

    # -- phone events -----------------------------------------------------------------
    def _on_phone_event(self, event: PhoneEvent) -> None:
        """Called by the Phone, on the loop thread, possibly inside a Phone method."""
        if isinstance(event, CallEnded) and self.history is not None:
            # Written here, not via the message queue: the row must be on disk even if
            # the UI dies right after.
            call = event.call
            self.history.record(event, direction="outgoing" if getattr(call, "outgoing", True)
                                else "incoming", account=getattr(getattr(call, "account", None),
                                                                 "name", None),
                                ended_at=self.clock())
        if not self._stopping:
            self.call_later(self._handle_event, event)

    def _handle_event(self, event: PhoneEvent) -> None:
        if isinstance(event, SipMessageLogged):
            self.query_one(Ladder).add(LadderEntry(event.direction, event.local, event.remote,
                                                   event.timestamp, event.data))
            return
        self._call_control_event(event)
        if isinstance(event, IncomingCall):
            self.calls[event.call_id] = event.call
            self.notify(f"incoming call from {event.remote} — {self.keys['answer']} answers, "
                        f"{self.keys['reject']} rejects", title="Ringing", timeout=8)
            self._refresh_calls()
            self.query_one(CallList).select(event.call_id)
        elif isinstance(event, CallEnded):
            self.calls.pop(event.call_id, None)
            self.muted.discard(event.call_id)
            self.recording.discard(event.call_id)
            outcome = "ended" if event.answered else f"{event.status} {event.reason}"
            self.notify(f"{event.remote}: {outcome}", timeout=4)
            self._refresh_calls()
            self._refresh_completions()
            if not self.calls:
                self.query_one("#dial-input", Input).focus()
        elif isinstance(event, CallReplaced):
            # We were the target of an attended transfer: the new call takes the old one's line.
            self.calls.pop(event.replaced_call_id, None)
            self.calls[event.call_id] = event.call
            self._refresh_calls()
        elif isinstance(event, CallStateChanged | CallHoldChanged):
            if event.call_id not in self.calls and getattr(event.call, "state", "ended") != "ended":
                # A call the phone placed for us (we were asked to transfer by REFER).
                self.calls[event.call_id] = event.call
            self._refresh_calls()
            if isinstance(event, CallStateChanged) and event.new == "connected":
                # Digits typed now are DTMF for this call (the dial input is one key away).
                self.query_one(CallList).select(event.call_id)
                self.query_one(CallList).focus()
        elif isinstance(event, RegistrationChanged):
            if event.account == self.account_name:
                self.registration = event.state + ("" if event.status is None
                                                   else f" ({event.status} {event.reason})")
            self._refresh_status()
        elif isinstance(event, NatStatusChanged):
            self.nat_line = nat_status_line(event)
            for warning in event.warnings:  # symmetric NAT, STUN or UPnP failures
                self.notify(warning, title="NAT", severity="warning", timeout=10)
            self._refresh_status()

    # -- periodic refresh -----------------------------------------------------------
    def _tick(self) -> None:
        self._refresh_calls()
        self._refresh_stats()

    def _refresh_calls(self) -> None:
        rows = [CallRow(call.call_id, self.line_override(call) or state_label(call), call.remote, call.duration,
                        call.codec, self._flags(call)) for call in self.calls.values()]
        self.query_one(CallList).show(rows)

    def _flags(self, call: Any) -> str:
        flags = []
        if getattr(call, "muted", call.call_id in self.muted):
            flags.append("muted")
        if getattr(call, "recording", call.call_id in self.recording):
            flags.append("rec")
        if getattr(call, "encrypted", False):
            flags.append("srtp")
        return " ".join(flags)

    def _refresh_stats(self) -> None:
        panel = self.query_one(RtpStats)
        call = self.selected_call()
        if call is None:
            if self.stats_for is not None:
                panel.clear()
                self.stats_for = None
            return
        if self.stats_for != call.call_id:
            panel.clear(f"RTP — {call.remote}")
            self.stats_for = call.call_id
        panel.push(stats_sample(call.stats()))

    def _refresh_status(self) -> None:
        try:
            host, port = self.phone.local_address()
            listening = f"udp {host}:{port}"
        except Exception:  # noqa: BLE001 - not listening yet (or no phone yet)
            listening = "starting…"
        echo = ""
        if self.echo is not None and getattr(self.echo, "running", False):
            echo = "dial 'echo' for the echo test"
        self.query_one(StatusBar).show(PhoneStatus(
            account=self.account_name, registration=self.registration, audio=self.audio_line,
            listening=listening, nat=self.nat_line, note=echo))

    def _refresh_completions(self) -> None:
        candidates = [ECHO_TARGET] if self.echo is not None else []
        candidates += [c.name for c in self.contacts] + [c.uri for c in self.contacts]
        if self.history is not None:
            candidates += self.history.remotes()
        self.query_one(Dialpad).set_completions(candidates)

    # -- selection ----------------------------------------------------------------------
    def selected_call(self) -> Any:
        """The call under the call list's cursor (None: no calls)."""
        call_id = self.query_one(CallList).selected_id
        return None if call_id is None else self.calls.get(call_id)

    def _ringing_call(self) -> Any:
        selected = self.selected_call()
        if selected is not None and selected.state == "incoming":
            return selected
        return next((c for c in self.calls.values() if c.state == "incoming"), None)

    def _need_call(self) -> Any:
        call = self.selected_call()
        if call is None:
            self.notify("no call selected", severity="warning", timeout=3)
        return call

    # -- dialing ------------------------------------------------------------------------
    @on(Dialpad.DialRequested)
    def _dial_requested(self, event: Dialpad.DialRequested) -> None:
        self.dial(event.target)

    @on(Dialpad.DigitPressed)
    def _digit(self, event: Dialpad.DigitPressed) -> None:
        call = self.selected_call()
        if call is not None and call.state == "connected":
            call.send_dtmf(event.digit)
        else:
            self.query_one(Dialpad).type(event.digit)

    @on(CallList.DtmfTyped)
    def _dtmf(self, event: CallList.DtmfTyped) -> None:
        call = self._need_call()
        if call is not None and call.state == "connected":
            call.send_dtmf(event.digit)
            self.notify(f"DTMF {event.digit}", timeout=1)

    def dial(self, text: str) -> Any:
        """Call ``text`` (a contact name, ``echo``, a number, ``user@host`` or a URI)."""
        if self.phone is None:
            self.notify("the phone is still starting", severity="warning", timeout=3)
            return None
        target = resolve(text, self.contacts)
        if target.lower() == ECHO_TARGET and self.echo is not None:
            target = self.echo.uri
        try:
            call = self.phone.call(target, account=self.account_name)
        except Exception as error:  # noqa: BLE001 - a bad URI is the user's to fix
            self.notify(str(error), severity="error", timeout=6)
            return None
        self.calls[call.call_id] = call
        self.query_one("#dial-input", Input).value = ""
        self._refresh_calls()
        self.query_one(CallList).select(call.call_id)
        return call

    # -- actions ------------------------------------------------------------------------
    def action_dial(self) -> None:
        field = self.query_one("#dial-input", Input)
        if field.has_focus and field.value.strip():
            self.dial(field.value.strip())
        else:
            field.focus()

    def action_redial(self) -> None:
        last = self.history.last_outgoing() if self.history is not None else None
        if last is None:
            self.notify("nothing to redial", severity="warning", timeout=3)
            return
        self.dial(last)

    def action_answer(self) -> None:
        call = self._ringing_call()
        if call is None:
            self.notify("no call is ringing", severity="warning", timeout=3)
            return
        call.answer()

    def action_reject(self) -> None:
        call = self._ringing_call()
        if call is None:
            self.notify("no call is ringing", severity="warning", timeout=3)
            return
        call.reject(486)

    def action_hangup(self) -> None:
        call = self._need_call()
        if call is not None:
            call.hangup()

    def action_hold(self) -> None:
        call = self._need_call()
        if call is None:
            return
        if call.state != "connected":
            self.notify("hold needs a connected call", severity="warning", timeout=3)
        elif call.on_hold:
            call.resume()
        else:
            call.hold()

    def action_mute(self) -> None:
        call = self._need_call()
        if call is None:
            return
        on = call.call_id not in self.muted
        call.mute(on)
        (self.muted.add if on else self.muted.discard)(call.call_id)
        self._refresh_calls()

    def action_record(self) -> None:
        call = self._need_call()
        if call is None or call.call_id in self.recording:
            return
        folder = self.recordings_dir or Path.cwd()
        folder.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(self.clock()))
        path = folder / f"call-{stamp}.wav"
        call.record(str(path))
        self.recording.add(call.call_id)
        self.notify(f"recording to {path}", timeout=4)
        self._refresh_calls()

    def action_switch_account(self) -> None:
        names = list(self.config.accounts)
        index = names.index(self.account_name) if self.account_name in names else -1
        self.account_name = names[(index + 1) % len(names)]
        self.registration = "?" if len(names) > 1 else self.registration
        self._refresh_status()
        self.notify(f"calls go out on account {self.account_name}", timeout=3)

    def action_dtmf(self) -> None:
        self.query_one(CallList).focus()

    def action_next_call(self) -> None:
        self.query_one(CallList).action_cursor_down()

    def action_previous_call(self) -> None:
        self.query_one(CallList).action_cursor_up()

    def action_ladder(self) -> None:
        ladder = self.query_one(Ladder)
        ladder.display = not ladder.display

    def action_stats(self) -> None:
        stats = self.query_one(RtpStats)
        stats.display = not stats.display

    def action_doctor(self) -> None:
        from .doctor import live_report
        from .screens.doctor import DoctorScreen

        if isinstance(self.screen, DoctorScreen):
            self.screen.dismiss(None)
            return
        self.push_screen(DoctorScreen(live_report(self.config, self.phone)))

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)
            return
        self.push_screen(HelpScreen(self.binding_rows()))

    def action_theme(self, name: str | None = None) -> None:
        names = sorted(p.stem for p in THEMES_DIR.glob("*.tcss"))
        if name is None:
            name = names[(names.index(self.theme_name) + 1) % len(names)] \
                if self.theme_name in names else names[0]
        self.set_theme_file(name)

    def set_theme_file(self, name: str) -> None:
        """Switch to theme ``name``: its Textual base theme and its ``.tcss`` rules."""
        new, old = theme_path(name), theme_path(self.theme_name)
        stylesheet = self.stylesheet
        stylesheet.source.pop((str(old), ""), None)
        stylesheet.read(new)
        self.theme_name = name
        self.theme = TEXTUAL_THEMES.get(name, "textual-dark")
        self.refresh_css()

    async def action_quit(self) -> None:
        """Hang up, un-register, stop the echo service, then exit."""
        await self.shutdown()
        self.exit()

    async def shutdown(self) -> None:
        """Stop the phone (and the echo service) once; safe to call twice."""
        if self._stopping or self.phone is None:
            return
        self._stopping = True
        self._stop_scripts()
        try:
            # Still subscribed: the calls this hangs up get their history rows.
            await _wait(self.phone.stop())
            if self.echo is not None:
                await _wait(self.echo.stop())
        except Exception:
            log.exception("phone stop failed")
        finally:
            if self._unsubscribe is not None:
                self._unsubscribe()

    # -- help and palette -----------------------------------------------------------------
    def binding_rows(self) -> list[tuple[str, str, str]]:
        """``(key, action, description)`` for every action, with the configured keys."""
        return [(self.keys[action], action, description) for action, _, description in ACTIONS]

    def get_system_commands(self, screen: Screen[Any]) -> Any:
        yield from super().get_system_commands(screen)
        for action, _, description in ACTIONS:
            if action == "quit":
                continue
            yield SystemCommand(f"{description} [{self.keys[action]}]", f"action: {action}",
                                getattr(self, f"action_{action}"))
        for name in sorted(p.stem for p in THEMES_DIR.glob("*.tcss")):
            yield SystemCommand(f"Theme: {name}", f"use themes/{name}.tcss",
                                lambda name=name: self.set_theme_file(name))


async def _wait(result: Any) -> Any:
    """Await a Twisted Deferred (or a plain value) on the running asyncio loop."""
    if hasattr(result, "asFuture"):
        return await result.asFuture(asyncio.get_running_loop())
    return result


def run_tui(config: Any, *, theme: str | None = None, audio: str | None = None,
            listen: tuple[str, int] | None = None, scripts: Sequence[Path | str] = ()) -> int:
    """Run the terminal phone on ``config`` until the user quits (or SIGTERM); returns 0.

    The order matters: the loop is created first and the app runs on it
    (``App.run(loop=...)``); after the first paint the app calls ``setup``, which
    installs Twisted's asyncioreactor on that same running loop, imports the
    reactor and builds the Phone and the echo service.  Importing the reactor
    before installing would pick Twisted's default reactor, whose sockets no one
    would poll.
    """
    import sys

    from .loop import install_reactor, new_loop, settle_heap

    loop = new_loop()
    asyncio.set_event_loop(loop)
    spec = audio or config.phone.audio

    def setup() -> PhoneSetup:
        reactor = install_reactor(loop)

        from .echo_service import EchoService
        from .phone import Phone

        phone = Phone(config, reactor, audio=spec, listen=listen)
        audio_line = phone.audio_description
        if not reactor.running:
            reactor.startRunning(installSignalHandlers=False)
        settle_heap()
        return PhoneSetup(phone, EchoService(reactor), audio_line)

    nat = config.nat
    nat_line = "nat: " + ("off" if nat.stun_server is None and not nat.upnp else
                          f"stun {nat.stun_server[0]}:{nat.stun_server[1]}" if nat.stun_server
                          else "upnp")
    from .history import history_path

    history = History(history_path(config.phone.history_db))
    app = PhoneApp(config=config, setup=setup, audio_line="audio: …", history=history,
                   contacts=load_contacts(config.contacts_file), keys=config.keys,
                   theme=theme or config.phone.theme, nat_line=nat_line,
                   script_dirs=list(scripts))

    def terminate() -> None:
        loop.create_task(app.action_quit())

    loop.add_signal_handler(signal.SIGTERM, terminate)
    try:
        app.run(loop=loop)
        loop.run_until_complete(app.shutdown())
    finally:
        history.close()
        reactor = sys.modules.get("twisted.internet.reactor")
        if reactor is not None and getattr(reactor, "running", False):
            # Fire Twisted's shutdown triggers (thread pool, open ports); the
            # reactor's crash() stops the loop again when they are done.
            reactor.stop()  # type: ignore[attr-defined]
            loop.run_forever()
    return 0


def main() -> None:
    """``python -m tui_phone.app [CONFIG]``: the TUI without the CLI (until cli.py calls run_tui)."""
    import sys

    from .config import load_config

    config = load_config(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
    raise SystemExit(run_tui(config))


if __name__ == "__main__":
    main()

