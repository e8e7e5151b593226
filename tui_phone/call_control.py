"""Transfers and the conference in the TUI: the F8/F9/F10 flows and what the
call list shows while they run (Phone API only: ``Call.transfer``,
``Call.transfer_to``, ``Phone.conference``).

* blind transfer (F8): ask for the target, ``call.transfer(target)``; the line
  reads ``transferring…`` until ``TransferCompleted``/``TransferFailed``.
* attended transfer (F9): ask for the target, hold the selected call and place
  the consultation call; both lines read ``consulting`` and a banner says what
  the keys do. F9 again completes (``original.transfer_to(consult)``), escape
  aborts (hang up the consultation, resume the original).
* conference (F10): all connected calls (active and held) go into
  ``phone.conference``; F10 on a conference line splits it, that line stays live.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from .contacts import resolve
from .events import (
    CallEnded,
    PhoneEvent,
    TransferCompleted,
    TransferFailed,
    TransferProgress,
)
from .screens.prompt import PromptScreen
from .widgets.banner import Banner

log = logging.getLogger(__name__)

TRANSFERRING = "transferring…"
CONSULTING = "consulting"
CONFERENCE = "conference"
TRANSFEROR = "transferor"


@dataclass
class Consultation:
    """An attended transfer under way: the held call and the consultation call."""

    original: Any
    consult: Any
    completing: bool = False


class CallControlMixin:
    """The transfer and conference actions of :class:`~tui_phone.app.PhoneApp`.

    Expects of the app: ``phone``, ``calls``, ``keys``, ``contacts``, ``notify``,
    ``push_screen``, ``query_one``, ``dial``, ``_need_call``, ``_refresh_calls``.
    """

    transferring: dict[str, str]
    consultation: Consultation | None
    conference: Any

    def _init_call_control(self) -> None:
        self.transferring = {}
        self.consultation = None
        self.conference = None

    # -- what the list shows ------------------------------------------------------------
    def line_override(self, call: Any) -> str | None:
        """The state word a transfer or the conference puts on ``call``'s line, if any."""
        if call.call_id in self.transferring:
            return TRANSFERRING
        consultation = self.consultation
        if consultation is not None and call in (consultation.original, consultation.consult):
            return TRANSFERRING if consultation.completing else CONSULTING
        if self._conference_calls() and call in self.conference.calls:
            return CONFERENCE
        return None

    def _conference_calls(self) -> list[Any]:
        if self.conference is not None and not self.conference.active:
            self.conference = None  # it split by itself (a member hung up)
        return [] if self.conference is None else list(self.conference.calls)

    # -- events -------------------------------------------------------------------------
    def _call_control_event(self, event: PhoneEvent) -> None:
        app: Any = self
        if isinstance(event, TransferProgress) and event.role == TRANSFEROR:
            log.info("transfer of %s: %s %s", event.call_id, event.status, event.reason)
        elif isinstance(event, TransferCompleted) and event.role == TRANSFEROR:
            self.transferring.pop(event.call_id, None)
            if self.consultation is not None and event.call is self.consultation.original:
                self._end_consultation()
            app.notify(f"transferred to {event.target}", title="Transfer", timeout=5)
        elif isinstance(event, TransferFailed) and event.role == TRANSFEROR:
            self.transferring.pop(event.call_id, None)
            consultation = self.consultation
            if consultation is not None and event.call is consultation.original:
                consultation.completing = False
                self._show_banner()
            app.notify(f"transfer to {event.target} failed: {event.status} {event.reason}",
                       title="Transfer", severity="error", timeout=8)
        elif isinstance(event, CallEnded):
            self.transferring.pop(event.call_id, None)
            consultation = self.consultation
            if consultation is None or consultation.completing:
                return
            if event.call is consultation.consult:
                self._end_consultation()
                self._resume(consultation.original)
                app.notify(f"consultation ended ({event.status} {event.reason}); "
                           "back to the held call", title="Attended transfer", timeout=6)
            elif event.call is consultation.original:
                self._end_consultation()
                app.notify("the held call ended; the attended transfer is off",
                           title="Attended transfer", severity="warning", timeout=6)

    # -- blind transfer -----------------------------------------------------------------
    def action_transfer(self) -> None:
        app: Any = self
        call = app._need_call()
        if call is None:
            return
        if call.state != "connected":
            app.notify("transfer needs a connected call", severity="warning", timeout=3)
            return

        def chosen(target: str | None) -> None:
            if target:
                self.blind_transfer(call, target)

        app.push_screen(PromptScreen("Transfer to:", "number, user@host or URI"), chosen)

    def blind_transfer(self, call: Any, target: str) -> None:
        """REFER ``call``'s peer to ``target`` (a contact name, number or URI)."""
        app: Any = self
        uri = resolve(target, app.contacts)
        try:
            call.transfer(uri)
        except Exception as error:  # noqa: BLE001 - a bad target or state is the user's to fix
            app.notify(f"transfer failed: {error}", severity="error", timeout=6)
            return
        self.transferring[call.call_id] = uri
        app._refresh_calls()

    # -- attended transfer --------------------------------------------------------------
    def action_attended_transfer(self) -> None:
        app: Any = self
        if self.consultation is not None:
            self.complete_attended_transfer()
            return
        call = app._need_call()
        if call is None:
            return
        if call.state != "connected":
            app.notify("attended transfer needs a connected call", severity="warning", timeout=3)
            return

        def chosen(target: str | None) -> None:
            if target:
                self.start_consultation(call, target)

        app.push_screen(PromptScreen("Consult (attended transfer to):",
                                     "number, user@host or URI"), chosen)

    def start_consultation(self, original: Any, target: str) -> None:
        """Hold ``original`` and call ``target``: the first step of an attended transfer."""
        app: Any = self
        if not original.on_hold:
            try:
                original.hold()
            except Exception as error:  # noqa: BLE001 - shown, the flow does not start
                app.notify(f"could not hold the call: {error}", severity="error", timeout=6)
                return
        consult = app.dial(target)
        if consult is None:
            self._resume(original)
            return
        self.consultation = Consultation(original, consult)
        self._show_banner()
        app._refresh_calls()

    def complete_attended_transfer(self) -> None:
        """Connect the held call's peer with the consultation call's peer (F9 again)."""
        app: Any = self
        consultation = self.consultation
        if consultation is None or consultation.completing:
            return
        if consultation.consult.state != "connected":
            app.notify("the consultation call is not answered yet (esc aborts)",
                       severity="warning", timeout=4)
            return
        try:
            consultation.original.transfer_to(consultation.consult)
        except Exception as error:  # noqa: BLE001 - shown; esc still aborts
            app.notify(f"transfer failed: {error}", severity="error", timeout=6)
            return
        consultation.completing = True
        self._show_banner()
        app._refresh_calls()

    def action_abort_transfer(self) -> None:
        """Escape: hang up the consultation call and resume the original one."""
        consultation = self.consultation
        if consultation is None:
            return
        self._end_consultation()
        if consultation.consult.state != "ended":
            consultation.consult.hangup()
        self._resume(consultation.original)
        app: Any = self
        app.notify("attended transfer aborted", timeout=3)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Escape means "abort" only while a consultation runs; otherwise it is free.
        if action == "abort_transfer":
            return self.consultation is not None
        return True

    def _end_consultation(self) -> None:
        app: Any = self
        self.consultation = None
        self._show_banner()
        app._refresh_calls()

    def _resume(self, call: Any) -> None:
        if call.state == "connected" and call.on_hold:
            try:
                call.resume()
            except Exception:
                log.exception("could not resume %s", call.call_id)

    def _show_banner(self) -> None:
        app: Any = self
        banner = app.query_one(Banner)
        consultation = self.consultation
        if consultation is None:
            banner.show("")
        elif consultation.completing:
            banner.show("attended transfer: completing…")
        else:
            abort = app.keys["abort_transfer"]
            banner.show(f"attended transfer: {app.keys['attended_transfer'].upper()} complete · "
                        f"{'esc' if abort == 'escape' else abort} abort")

    # -- conference ---------------------------------------------------------------------
    def action_conference(self) -> None:
        app: Any = self
        members = self._conference_calls()
        selected = app.selected_call()
        if members:
            live = selected if selected in members else None
            self.conference.split(active=live)
            self.conference = None
            app.notify("conference split", timeout=3)
            app._refresh_calls()
            return
        calls = [c for c in app.calls.values() if c.state == "connected"]
        if len(calls) < 2:
            app.notify("a conference needs two connected calls (active or held)",
                       severity="warning", timeout=4)
            return
        try:
            self.conference = app.phone.conference(calls)
        except Exception as error:  # noqa: BLE001 - shown; the calls stay as they were
            app.notify(f"conference failed: {error}", severity="error", timeout=6)
            return
        app.notify(f"conference of {len(calls)} calls", timeout=3)
        app._refresh_calls()


__all__ = ["CONFERENCE", "CONSULTING", "TRANSFERRING", "CallControlMixin", "Consultation"]
