"""One dialog's SDP offer/answer state (RFC 3264 8), sans I/O.

:class:`SdpSession` runs the pure steps of :mod:`tui_phone.sip.offeranswer`
and keeps what RFC 3264 8 carries from one exchange to the next: the o= line
(same session id, version + 1 whenever our SDP changes), the m= line layout
(a stream once present stays, with port 0 when unused), the payload type
numbers already bound to codecs (8.3.2) and the hold state (8.4).
"""

from __future__ import annotations

import copy
import functools
from dataclasses import replace

from .errors import LocalProtocolError, RemoteProtocolError
from .offeranswer import (
    DYNAMIC_PAYLOAD_TYPES,
    CodecKey,
    LocalMedia,
    NegotiatedMedia,
    build_answer,
    build_offer,
    codec_key,
    process_answer,
)
from .sdp import Attribute, Direction, MediaDescription, Origin, SessionDescription

__all__ = ["SdpSession"]


class SdpSession:
    """Our side of the offer/answer exchanges of one dialog (RFC 3264 4).

    ``sess_id`` should be unique (RFC 4566 5.2 suggests an NTP timestamp); the
    caller picks it, so this class stays free of clocks and randomness.
    ``sess_version`` starts at ``sess_id`` unless given. Every SDP we send, offer
    or answer, goes through here so the version moves as RFC 3264 8 requires:
    + 1 when the SDP differs from the previous one we sent, unchanged if not.
    """

    def __init__(self, local: LocalMedia, sess_id: int, sess_version: int | None = None) -> None:
        version = sess_id if sess_version is None else sess_version
        self._local = local
        self._origin = Origin(
            local.username, str(sess_id), version, "IN", local.addrtype, local.address
        )
        self._last_sent: SessionDescription | None = None
        self._pending: SessionDescription | None = None
        self._held = False
        self._held_before_offer = False
        self._layout: list[MediaDescription] = []
        self._audio_index = 0
        self._bound: dict[CodecKey, int] = {}
        self._negotiated: NegotiatedMedia | None = None

    @property
    def local(self) -> LocalMedia:
        """Our current media configuration."""
        return self._local

    @property
    def origin(self) -> Origin:
        """The o= line of the last SDP we produced (a copy)."""
        return replace(self._origin)

    @property
    def on_hold(self) -> bool:
        """True while we hold the call (our offers are sendonly or inactive)."""
        return self._held

    @property
    def pending_offer(self) -> SessionDescription | None:
        """Our offer that awaits an answer, if any."""
        return copy.deepcopy(self._pending)

    @property
    def negotiated(self) -> NegotiatedMedia | None:
        """The outcome of the last completed exchange."""
        return self._negotiated

    def update_local(self, local: LocalMedia) -> None:
        """Use a new configuration (port, codecs...) from the next SDP on.

        The o= line keeps its original address (RFC 3264 8).
        """
        self._local = local

    def create_offer(self) -> SessionDescription:
        """An offer, initial or re-offer, with the current hold state."""
        return self._offer(self._held)

    def hold(self) -> SessionDescription:
        """A re-offer putting the call on hold (RFC 3264 8.4).

        sendrecv becomes sendonly and recvonly becomes inactive: we stop
        receiving, and keep sending if we did (music on hold).
        """
        return self._offer(True)

    def resume(self) -> SessionDescription:
        """A re-offer taking the call off hold, back to ``local.direction``."""
        return self._offer(False)

    def offer_rejected(self) -> None:
        """Our pending offer failed (e.g. 488, 491): the previous state stays (RFC 3264 8)."""
        if self._pending is None:
            raise LocalProtocolError("no offer is pending")
        self._pending = None
        self._held = self._held_before_offer

    def process_answer(self, answer: SessionDescription) -> NegotiatedMedia:
        """Read the answer to our pending offer (RFC 3264 7)."""
        offer = self._pending
        if offer is None:
            raise LocalProtocolError("no offer is pending")
        try:
            negotiated = process_answer(offer, answer, self._local, audio_index=self._audio_index)
        except RemoteProtocolError:
            # The exchange failed: the previous session stays (RFC 3264 8).
            self.offer_rejected()
            raise
        self._pending = None
        self._layout = offer.media
        self._bind(offer.media[self._audio_index], answer.media[self._audio_index])
        self._negotiated = negotiated
        return negotiated

    def create_answer(
        self, offer: SessionDescription
    ) -> tuple[SessionDescription, NegotiatedMedia]:
        """Answer a remote offer (RFC 3264 6) and stamp the answer's o= line."""
        if self._pending is not None:
            # RFC 3264 4: one offer at a time; the UA answers 491 on glare.
            raise LocalProtocolError("cannot answer while our own offer is pending")
        answer, negotiated = build_answer(
            offer, self._local, self._origin, direction=self._direction(self._held)
        )
        answer = self._stamp(answer)
        self._audio_index = next(i for i, md in enumerate(answer.media) if not md.rejected)
        assert self._last_sent is not None
        self._layout = self._last_sent.media  # our own copy, never changed in place
        self._bind(offer.media[self._audio_index], answer.media[self._audio_index])
        self._negotiated = negotiated
        return answer, negotiated

    def _direction(self, held: bool) -> Direction:
        # RFC 3264 8.4: holding means no longer receiving.
        wanted = self._local.direction
        return wanted.intersect(Direction.SENDONLY) if held else wanted

    def _offer(self, held: bool) -> SessionDescription:
        if self._pending is not None:
            raise LocalProtocolError("an offer is already pending")
        offer = build_offer(
            self._local,
            self._origin,
            direction=self._direction(held),
            bound=self._bound,
            previous_media=self._layout,
            audio_index=self._audio_index,
        )
        self._held_before_offer, self._held = self._held, held
        self._pending = self._stamp(offer)
        return copy.deepcopy(self._pending)

    def _stamp(self, sdp: SessionDescription) -> SessionDescription:
        """Give ``sdp`` the next version if it differs from the previous SDP (RFC 3264 8)."""
        if self._last_sent is not None and sdp != self._last_sent:
            self._origin.sess_version += 1
            sdp.origin = replace(self._origin)
        self._last_sent = copy.deepcopy(sdp)
        return sdp

    def _bind(self, *streams: MediaDescription) -> None:
        """Remember every dynamic payload type number seen in use (RFC 3264 8.3.2)."""
        for md in streams:
            for key, pt in _dynamic_payload_types(tuple(md.attributes)):
                self._bound.setdefault(key, pt)


@functools.lru_cache(maxsize=256)
def _dynamic_payload_types(attributes: tuple[Attribute, ...]) -> tuple[tuple[CodecKey, int], ...]:
    """The dynamic payload types a stream's ``attributes`` bind, by a=rtpmap.

    Cached: the streams of one peer, and our answers to them, repeat call after call.
    """
    md = MediaDescription("audio", 0, "RTP/AVP", [], attributes=list(attributes))
    return tuple((codec_key(enc), pt) for pt, enc in md.rtpmap.items()
                 if pt in DYNAMIC_PAYLOAD_TYPES)
