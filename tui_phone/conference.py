"""A local conference: our calls' audio mixed N-1 by the :class:`ConferenceMixer`.

Each remote hears the other remotes plus our microphone; we hear all the
remotes. The mixing is pure (:mod:`tui_phone.audio.mixer`); this module is
the glue on the reactor:

* every call's :class:`~tui_phone.media.CallMedia` gets a ``frame_tap``: on
  its RTP tick it hands in the frame it decoded (pushed to the mixer as that
  call's voice) and takes back the frame to encode and send (what the mixer
  made for that call), instead of using its own audio backend;
* a ``LoopingCall`` at the mixer's frame length ticks the conference's own
  audio backend (our microphone and speaker) and runs :meth:`ConferenceMixer.mix`.

The calls' RTP clocks and the conference clock all run on the same reactor at
the same period; each call keeps a short output queue so that a tick that
comes early or late neither starves nor piles up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from twisted.internet.task import LoopingCall

from .audio.backends import AudioBackend
from .audio.mixer import ConferenceMixer
from .audio.resample import silence
from .events import CallEnded, PhoneEvent

if TYPE_CHECKING:
    from .call import Call
    from .phone import Phone

log = logging.getLogger(__name__)

LOCAL = "local"  # our own participant id: the microphone and the speaker
CONFERENCE_RATE = 16_000
FRAME_MS = 20
MAX_QUEUED_FRAMES = 3  # per call: mixed audio not yet sent


class ConferenceError(Exception):
    """A conference operation that does not fit the calls' state (our caller's fault)."""


class Conference:
    """Two or more of our calls mixed together; made by :meth:`Phone.conference`.

    Calls that end leave the conference; when fewer than two remain it splits
    by itself. :meth:`split` returns the calls to normal media.
    """

    def __init__(self, phone: Phone, calls: Sequence[Call], *, rate: int = CONFERENCE_RATE,
                 frame_ms: int = FRAME_MS) -> None:
        from .call import CallState

        members = list(dict.fromkeys(calls))
        if len(members) < 2:
            raise ConferenceError("a conference needs at least two calls")
        for call in members:
            if call.state is not CallState.CONNECTED:
                raise ConferenceError(f"cannot conference a call that is {call.state}")
            if call.media.frame_tap is not None:
                raise ConferenceError(f"call {call.call_id} is already in a conference")
        self.phone = phone
        self.calls: list[Call] = []
        self.mixer: ConferenceMixer[Any] = ConferenceMixer(rate, frame_ms)
        self.active = True
        self._rates: dict[str, int] = {}
        self._outbox: dict[str, bytearray] = {}
        self._mic: list[bytes] = []
        self._backend: AudioBackend = phone._audio_factory()()
        self._backend.open(rate, self.mixer.frame_samples, self._mic.append)
        self.mixer.add(LOCAL, rate)
        for call in members:
            self.add(call)
        self._unsubscribe: Callable[[], None] | None = phone.subscribe(self._on_event)
        self._clock = LoopingCall(self._tick)
        self._clock.clock = phone.reactor
        self._clock.start(frame_ms / 1000, now=False)

    def __repr__(self) -> str:
        return f"<Conference {[call.call_id for call in self.calls]}>"

    def add(self, call: Call) -> None:
        """Bring one more connected call into the conference (resumed if held)."""
        from .call import CallError

        if not self.active:
            raise ConferenceError("the conference was split")
        if call in self.calls:
            return
        self.calls.append(call)
        self._outbox[call.call_id] = bytearray()
        call.media.frame_tap = lambda received, samples: self._exchange(call, received, samples)
        if call.on_hold:
            try:
                call.resume()
            except CallError as error:
                log.info("could not resume %s for the conference: %s", call.call_id, error)

    def remove(self, call: Call) -> None:
        """Take one call out (back to its own audio); splits when one call is left."""
        if call not in self.calls:
            return
        self.calls.remove(call)
        self._detach(call)
        if self.active and len(self.calls) < 2:
            self.split()

    def split(self, active: Call | None = None) -> list[Call]:
        """End the mixing: every call gets its own audio back; ``active`` (default:
        the first) stays live, the others are put on hold. Returns the calls."""
        from .call import CallError, CallState

        calls = list(self.calls)
        if not self.active:
            return calls
        self.active = False
        if self._clock.running:
            self._clock.stop()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for call in calls:
            self._detach(call)
        self._backend.close()
        self.calls = []
        live = active if active in calls else (calls[0] if calls else None)
        for call in calls:
            if call is not live and call.state is CallState.CONNECTED and not call.on_hold:
                try:
                    call.hold()
                except CallError as error:
                    log.info("could not hold %s after the split: %s", call.call_id, error)
        return calls

    # -- the glue ---------------------------------------------------------------------
    def _detach(self, call: Call) -> None:
        call.media.frame_tap = None
        self._outbox.pop(call.call_id, None)
        if call.call_id in self.mixer:
            self.mixer.remove(call.call_id)
        self._rates.pop(call.call_id, None)

    def _exchange(self, call: Call, received: bytes | None, samples: int) -> bytes:
        """A call's RTP tick: its voice in, its mix out (both at its codec's rate)."""
        codec = call.media.codec
        if codec is None or not self.active:
            return silence(samples)
        key = call.call_id
        if self._rates.get(key) != codec.sample_rate:
            if key in self.mixer:
                self.mixer.remove(key)
            self.mixer.add(key, codec.sample_rate)
            self._rates[key] = codec.sample_rate
            self._outbox[key] = bytearray()
        if received is not None:
            self.mixer.push(key, received)
        outbox = self._outbox[key]
        wanted = 2 * samples
        if len(outbox) < wanted:
            return silence(samples)
        frame = bytes(outbox[:wanted])
        del outbox[:wanted]
        return frame

    def _tick(self) -> None:
        backend = self._backend
        if not backend.self_clocked:
            backend.tick()
        if self._mic:
            self.mixer.push(LOCAL, self._mic.pop(0))
            del self._mic[:-MAX_QUEUED_FRAMES]
        heard = self.mixer.mix()
        local = heard.pop(LOCAL, None)
        if local is not None:
            backend.play(local)
        for key, frame in heard.items():
            outbox = self._outbox.get(key)
            if outbox is None:
                continue
            outbox += frame
            limit = MAX_QUEUED_FRAMES * len(frame)
            if len(outbox) > limit:
                del outbox[:len(outbox) - limit]

    def _on_event(self, event: PhoneEvent) -> None:
        if isinstance(event, CallEnded) and event.call in self.calls:
            self.remove(event.call)


__all__ = ["Conference", "ConferenceError"]
