"""SDP offer/answer (RFC 3264) for a softphone's one audio stream, sans I/O.

The pure functions do one step each: :func:`build_offer`,
:func:`build_answer` (answer a remote offer) and :func:`process_answer`
(read the answer to our offer). Each step that completes a negotiation
returns a :class:`NegotiatedMedia`: what the RTP session needs.

:class:`~tui_phone.sip.sdpsession.SdpSession` strings the steps together for
one dialog and keeps the state RFC 3264 8 carries between exchanges.

Failures the UA answers with 488 Not Acceptable Here (RFC 3261 13.3.1.3)
are :class:`OfferAnswerError` subclasses with ``status = 488``; a malformed
offer raises :class:`~tui_phone.sip.sdp.SdpParseError` (400).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import NamedTuple

from .errors import LocalProtocolError, RemoteProtocolError
from .sdp import (
    Attribute,
    Connection,
    CryptoAttribute,
    Direction,
    MediaDescription,
    Origin,
    RtpMap,
    SdpParseError,
    SessionDescription,
    Timing,
)
from .sdpattributes import parse_digits

__all__ = [
    "DEFAULT_CODECS",
    "STATIC_PAYLOAD_TYPES",
    "Codec",
    "InvalidAnswer",
    "LocalMedia",
    "NegotiatedMedia",
    "NoAcceptableMedia",
    "NoCommonCodec",
    "OfferAnswerError",
    "assign_payload_types",
    "build_answer",
    "build_offer",
    "codec_key",
    "process_answer",
]  # fmt: skip

# RFC 3551 6, table 4: the static audio payload types. G.722 samples at
# 16 kHz, but its RTP clock rate is 8000 (RFC 3551 4.5.2).
STATIC_PAYLOAD_TYPES: Mapping[int, RtpMap] = MappingProxyType({
    0: RtpMap("PCMU", 8000), 3: RtpMap("GSM", 8000), 4: RtpMap("G723", 8000),
    5: RtpMap("DVI4", 8000), 6: RtpMap("DVI4", 16000), 7: RtpMap("LPC", 8000),
    8: RtpMap("PCMA", 8000), 9: RtpMap("G722", 8000), 10: RtpMap("L16", 44100, 2),
    11: RtpMap("L16", 44100), 12: RtpMap("QCELP", 8000), 13: RtpMap("CN", 8000),
    14: RtpMap("MPA", 90000), 15: RtpMap("G728", 8000), 16: RtpMap("DVI4", 11025),
    17: RtpMap("DVI4", 22050), 18: RtpMap("G729", 8000),
})  # fmt: skip
DYNAMIC_PAYLOAD_TYPES = range(96, 128)  # RFC 3551 3
TELEPHONE_EVENT = "telephone-event"  # RFC 4733 7.1.1
RTP_AVP = "RTP/AVP"  # RFC 3551
RTP_SAVP = "RTP/SAVP"  # RFC 3711, keyed by a=crypto (RFC 4568)

#: ``(encoding in lower case, clock rate, channels)``: a codec's identity.
CodecKey = tuple[str, int, int]


def codec_key(rtpmap: RtpMap) -> CodecKey:
    """The identity of a codec named by ``rtpmap``."""
    # RFC 4855 3: encoding names are case-insensitive.
    return (rtpmap.encoding.lower(), rtpmap.clock_rate, rtpmap.channels)


_TELEPHONE_EVENT_8000 = codec_key(RtpMap(TELEPHONE_EVENT, 8000))


class OfferAnswerError(RemoteProtocolError):
    """The peer's SDP cannot be negotiated; a UAS answers ``status`` (488)."""

    status = 488

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NoCommonCodec(OfferAnswerError):
    """No payload format of the peer's stream is one we support."""

    def __init__(
        self, offered: Sequence[str], supported: Sequence[str], side: str = "offered"
    ) -> None:
        super().__init__(
            f"no common codec: {side} {', '.join(offered) or 'nothing'}; "
            f"we support {', '.join(supported)}"
        )
        self.offered = tuple(offered)
        self.supported = tuple(supported)


class NoAcceptableMedia(OfferAnswerError):
    """No audio stream we can take part in (none, disabled, or an unknown transport)."""


class InvalidAnswer(OfferAnswerError):
    """The answer to our offer breaks RFC 3264 6 (stream count, crypto...)."""


@dataclass(frozen=True)
class Codec:
    """An RTP audio format, named as in ``a=rtpmap`` (RFC 4566 6).

    ``pt`` is the payload type to offer: a static one (RFC 3551), or None to
    take the static number for the name if it has one, else a free dynamic
    one. In a :class:`NegotiatedMedia` it is the negotiated number. ``fmtp``
    is what we put in our ``a=fmtp`` for it.
    """

    name: str
    clock_rate: int
    channels: int = 1
    pt: int | None = None
    fmtp: str | None = None

    @property
    def rtpmap(self) -> RtpMap:
        """Our ``a=rtpmap`` value for this codec."""
        return RtpMap(self.name, self.clock_rate, self.channels)

    @property
    def label(self) -> str:
        """``PCMU/8000``, ``opus/48000/2``."""
        return str(self.rtpmap)

    def matches(self, rtpmap: RtpMap) -> bool:
        """True if ``rtpmap`` names this codec (encoding name case-insensitive)."""
        return codec_key(self.rtpmap) == codec_key(rtpmap)


DEFAULT_CODECS: tuple[Codec, ...] = (
    Codec("PCMU", 8000, pt=0),
    Codec("PCMA", 8000, pt=8),
    Codec("G722", 8000, pt=9),
    Codec("opus", 48000, channels=2),  # RFC 7587 7: always /48000/2
)


@dataclass(frozen=True)
class LocalMedia:
    """Our side of the audio stream: where we receive and what we accept.

    ``codecs`` is in our preference order. ``dtmf_pt`` is the dynamic payload
    type we offer telephone-event/8000 on (RFC 4733), None to not offer it.
    ``crypto`` holds our SDES keys (RFC 4568), one per suite; with any, our
    offers are RTP/SAVP. ``srtp_required`` refuses plain RTP.
    """

    address: str
    port: int
    codecs: tuple[Codec, ...] = DEFAULT_CODECS
    dtmf_pt: int | None = 101
    dtmf_events: str = "0-16"
    direction: Direction = Direction.SENDRECV
    ptime: int | None = 20
    rtcp_port: int | None = None
    crypto: tuple[CryptoAttribute, ...] = ()
    srtp_required: bool = False
    username: str = "-"
    session_name: str = "-"  # RFC 3264 5: "-" for unicast sessions

    def __post_init__(self) -> None:
        if not self.codecs:
            raise LocalProtocolError("no codecs configured")
        if not 0 < self.port <= 65535:
            raise LocalProtocolError(f"RTP port out of range: {self.port}")
        if self.dtmf_pt is not None and self.dtmf_pt not in DYNAMIC_PAYLOAD_TYPES:
            raise LocalProtocolError(
                f"telephone-event needs a dynamic payload type, got {self.dtmf_pt}"
            )
        if self.srtp_required and not self.crypto:
            raise LocalProtocolError("srtp_required needs at least one crypto key")

    @property
    def addrtype(self) -> str:
        """``IP6`` or ``IP4`` for c= and o= (RFC 4566 5.7)."""
        return "IP6" if ":" in self.address else "IP4"

    @property
    def proto(self) -> str:
        """The transport we offer."""
        return RTP_SAVP if self.crypto else RTP_AVP


@dataclass(frozen=True)
class NegotiatedMedia:
    """The outcome of one offer/answer exchange for the audio stream.

    ``direction`` is what *we* do (``sends``/``receives``); ``remote_direction``
    is the peer's as it wrote it, corrected for c=0.0.0.0. ``codec.pt`` equals
    ``payload_type``. ``ptime`` and ``remote_fmtp`` are the peer's wishes for
    the media it receives. ``local_crypto`` keys what we send, ``remote_crypto``
    what we receive.
    """

    codec: Codec
    payload_type: int
    dtmf_payload_type: int | None
    remote_address: str
    remote_port: int
    remote_rtcp_address: str
    remote_rtcp_port: int
    direction: Direction
    remote_direction: Direction
    ptime: int | None = None
    remote_fmtp: str | None = None
    local_crypto: CryptoAttribute | None = None
    remote_crypto: CryptoAttribute | None = None

    @property
    def sends(self) -> bool:
        """True if we should send RTP."""
        return self.direction.sends

    @property
    def receives(self) -> bool:
        """True if we should expect RTP."""
        return self.direction.receives


def _encoding(pt: int, *rtpmaps: Mapping[int, RtpMap]) -> RtpMap | None:
    """What ``pt`` stands for: the first a=rtpmap found, else the static table."""
    for rtpmap in rtpmaps:
        if pt in rtpmap:
            return rtpmap[pt]
    return STATIC_PAYLOAD_TYPES.get(pt)


def _formats(
    md: MediaDescription, *extra: Mapping[int, RtpMap]
) -> list[tuple[int, RtpMap | None]]:
    """The numeric formats of ``md`` in order, with what each stands for."""
    rtpmaps = md.rtpmap
    numbers = (parse_digits(f) for f in md.formats)
    return [(pt, _encoding(pt, rtpmaps, *extra)) for pt in numbers if pt is not None]


def _is_dtmf(rtpmap: RtpMap | None) -> bool:
    return rtpmap is not None and rtpmap.encoding.lower() == TELEPHONE_EVENT


def _labels(formats: Sequence[tuple[int, RtpMap | None]]) -> list[str]:
    return [str(enc) if enc else f"pt {pt}" for pt, enc in formats if not _is_dtmf(enc)]


def _choose_codec(
    formats: list[tuple[int, RtpMap | None]], codecs: Sequence[Codec]
) -> tuple[int, Codec, RtpMap] | None:
    """The peer's most preferred format that we support (RFC 3264 6.1)."""
    for pt, enc in formats:
        if enc is None or _is_dtmf(enc):
            continue
        for codec in codecs:
            if codec.matches(enc):
                return pt, codec, enc
    return None


def _choose_dtmf(
    formats: list[tuple[int, RtpMap | None]], clock_rate: int
) -> tuple[int, RtpMap] | None:
    """telephone-event at the codec's clock rate (RFC 4733), else the first listed."""
    events = [(pt, enc) for pt, enc in formats if enc is not None and _is_dtmf(enc)]
    for pt, enc in events:
        if enc.clock_rate == clock_rate:
            return pt, enc
    return events[0] if events else None


def _stream_attributes(
    local: LocalMedia, direction: Direction, crypto: Sequence[CryptoAttribute]
) -> list[Attribute]:
    """The a= lines after the formats: ptime, rtcp (RFC 3605), crypto, direction."""
    attributes: list[Attribute] = []
    if local.ptime is not None:
        attributes.append(("ptime", str(local.ptime)))
    if local.rtcp_port is not None:
        attributes.append(("rtcp", str(local.rtcp_port)))
    attributes += [("crypto", str(c)) for c in crypto]
    # Always explicit, although sendrecv is the default (RFC 3264 5.1).
    attributes.append((direction.value, None))
    return attributes


def _disabled(md: MediaDescription) -> MediaDescription:
    """``md`` declined or kept unused: port 0, formats kept (RFC 3264 6, 8.2)."""
    return MediaDescription(md.media, 0, md.proto, list(md.formats))


def _session(
    local: LocalMedia, origin: Origin, media: list[MediaDescription], timings: list[Timing]
) -> SessionDescription:
    o = origin
    return SessionDescription(
        origin=Origin(o.username, o.sess_id, o.sess_version, o.nettype, o.addrtype, o.address),
        session_name=local.session_name,
        connection=Connection("IN", local.addrtype, local.address),
        timings=timings,
        media=media,
    )


def _rtp_destination(
    session: SessionDescription, md: MediaDescription
) -> tuple[Connection, str, int]:
    """The peer's c=, and where its RTCP goes: a=rtcp (RFC 3605) or RTP port + 1."""
    conn = md.connection(session)
    if conn is None:
        raise SdpParseError("no c= line for the audio stream")
    rtcp = md.rtcp
    if rtcp is None:
        return conn, conn.address, md.port + 1
    return conn, rtcp.address or conn.address, rtcp.port


def _written_direction(
    session: SessionDescription, md: MediaDescription, conn: Connection
) -> Direction:
    """The direction the peer wrote; c=0.0.0.0 means "do not send to me" (RFC 3264 8.4)."""
    direction = md.direction(session)
    return direction.intersect(Direction.SENDONLY) if conn.is_unspecified else direction


def assign_payload_types(
    local: LocalMedia, bound: Mapping[CodecKey, int] | None = None
) -> tuple[list[tuple[int, Codec]], int | None]:
    """Payload type numbers for our codecs and for telephone-event.

    Numbers in ``bound`` (from earlier exchanges in the session) are kept and
    never given to another codec (RFC 3264 8.3.2).
    """
    bound = bound or {}
    taken: set[int] = set()
    dtmf = None
    if local.dtmf_pt is not None:
        dtmf = bound.get(_TELEPHONE_EVENT_8000, local.dtmf_pt)
        taken.add(dtmf)
    wanted: list[tuple[int | None, Codec]] = []
    for codec in local.codecs:
        static = next((pt for pt, enc in STATIC_PAYLOAD_TYPES.items() if codec.matches(enc)), None)
        pt = bound.get(codec_key(codec.rtpmap), codec.pt if codec.pt is not None else static)
        if pt is not None and pt in taken:
            if codec.pt == pt:
                raise LocalProtocolError(f"payload type {pt} is configured twice")
            pt = None
        wanted.append((pt, codec))
        if pt is not None:
            taken.add(pt)
    free = (pt for pt in DYNAMIC_PAYLOAD_TYPES if pt not in taken and pt not in bound.values())
    assigned: list[tuple[int, Codec]] = []
    for pt, codec in wanted:
        if pt is None:
            pt = next(free, None)
            if pt is None:
                raise LocalProtocolError("out of dynamic payload types")
        assigned.append((pt, codec))
    return assigned, dtmf


def build_offer(
    local: LocalMedia,
    origin: Origin,
    *,
    direction: Direction | None = None,
    bound: Mapping[CodecKey, int] | None = None,
    previous_media: Sequence[MediaDescription] = (),
    audio_index: int = 0,
) -> SessionDescription:
    """Our offer (RFC 3264 5): every codec we support, telephone-event, our address.

    For a re-offer, ``previous_media`` are the m= lines of the previous SDP:
    RFC 3264 8 wants them all again, in order, so every stream but ours at
    ``audio_index`` is repeated with port 0.
    """
    codecs, dtmf = assign_payload_types(local, bound)
    formats = [str(pt) for pt, _ in codecs]
    attributes: list[Attribute] = [("rtpmap", f"{pt} {codec.label}") for pt, codec in codecs]
    attributes += [("fmtp", f"{pt} {codec.fmtp}") for pt, codec in codecs if codec.fmtp]
    if dtmf is not None:
        formats.append(str(dtmf))
        attributes += [
            ("rtpmap", f"{dtmf} {TELEPHONE_EVENT}/8000"),
            ("fmtp", f"{dtmf} {local.dtmf_events}"),
        ]
    # RFC 4568 5.1.1: one a=crypto per key we have, most preferred first.
    attributes += _stream_attributes(local, direction or local.direction, local.crypto)
    audio = MediaDescription("audio", local.port, local.proto, formats, attributes=attributes)
    media = [_disabled(md) for md in previous_media] or [audio]
    media[audio_index] = audio
    return _session(local, origin, media, [Timing()])


def _answer_crypto(
    md: MediaDescription, local: LocalMedia
) -> tuple[CryptoAttribute, CryptoAttribute] | None:
    """(our answer line, the offered line) for the first offered suite we have a key for."""
    for offered in md.crypto:
        if not offered.usable:  # a suite, key length or MKI our SRTP cannot take
            continue
        for mine in local.crypto:
            if mine.suite == offered.suite:
                # RFC 4568 5.1.2: the answer repeats the chosen line's tag.
                return replace(mine, tag=offered.tag), offered
    return None


def build_answer(
    offer: SessionDescription,
    local: LocalMedia,
    origin: Origin,
    *,
    direction: Direction | None = None,
) -> tuple[SessionDescription, NegotiatedMedia]:
    """Answer a remote offer (RFC 3264 6): take the first audio stream we support.

    Every other stream is declined with port 0. Codecs are matched by a=rtpmap
    name and clock rate, or by static payload type; the answer keeps the
    offerer's numbers (6.1) and lists only the chosen codec plus
    telephone-event, so that both sides send the same codec. ``direction`` is
    what we want (default ``local.direction``).
    """
    wanted = direction or local.direction
    media: list[MediaDescription] = []
    negotiated: NegotiatedMedia | None = None
    no_codec: Sequence[tuple[int, RtpMap | None]] | None = None
    reasons: list[str] = []
    for number, md in enumerate(offer.media, start=1):
        if negotiated is None and md.media.lower() == "audio":
            crypto = _answer_crypto(md, local) if md.proto.upper() == RTP_SAVP else None
            reason = _refusal(md, local, crypto)
            if reason is None:
                choice = _codec_answer(
                    tuple(md.formats), tuple(md.attributes), tuple(local.codecs),
                    None if local.dtmf_pt is None else local.dtmf_events)
                if isinstance(choice, _CodecAnswer):
                    answer, negotiated = _answer_stream(offer, md, choice, local, wanted, crypto)
                    media.append(answer)
                    continue
                no_codec = no_codec or choice
                reason = "no common codec"
            reasons.append(f"stream {number}: {reason}")
        media.append(_disabled(md))
    if negotiated is None:
        if no_codec is not None:
            raise NoCommonCodec(_labels(no_codec), [c.label for c in local.codecs])
        if not reasons:
            raise NoAcceptableMedia("offer has no audio stream")
        raise NoAcceptableMedia(f"no acceptable audio stream in offer ({'; '.join(reasons)})")
    # RFC 3264 6: the answer's t= equals the offer's.
    timings = [Timing(t.start, t.stop, list(t.repeats)) for t in offer.timings] or [Timing()]
    return _session(local, origin, media, timings), negotiated


def _refusal(
    md: MediaDescription, local: LocalMedia, crypto: tuple[CryptoAttribute, CryptoAttribute] | None
) -> str | None:
    """Why we cannot take part in audio stream ``md``, None if we can."""
    if md.rejected:
        return "port 0"
    proto = md.proto.upper()
    if proto == RTP_SAVP:
        return None if crypto is not None else "no supported crypto suite"
    if proto == RTP_AVP:
        return "SRTP is required" if local.srtp_required else None
    return f"unsupported transport {md.proto}"


class _CodecAnswer(NamedTuple):
    """The codec part of our answer to one offered stream: what depends only on the
    stream's formats and attributes and on our codecs (see :func:`_codec_answer`)."""

    codec: Codec  # ours, with the offerer's payload type number
    dtmf_pt: int | None
    formats: tuple[str, ...]  # our m= formats
    attributes: tuple[Attribute, ...]  # our a=rtpmap and a=fmtp lines
    remote_fmtp: str | None


@functools.lru_cache(maxsize=256)
def _codec_answer(
    formats: tuple[str, ...], attributes: tuple[Attribute, ...], codecs: tuple[Codec, ...],
    dtmf_events: str | None,
) -> _CodecAnswer | tuple[tuple[int, RtpMap | None], ...]:
    """The codec part of the answer to a stream offering ``formats`` with ``attributes``
    (RFC 3264 6.1), or the offered formats when none is ours.

    Cached: a peer offers the same formats call after call, and reading its
    a=rtpmap and a=fmtp lines again was most of the work of an answer.
    ``dtmf_events`` is ours, None when we take no telephone-event.
    """
    md = MediaDescription("audio", 0, RTP_AVP, list(formats), attributes=list(attributes))
    offered = _formats(md)
    chosen = _choose_codec(offered, codecs)
    if chosen is None:
        return tuple(offered)
    pt, codec, enc = chosen
    answer_formats = [str(pt)]
    lines: list[Attribute] = [("rtpmap", f"{pt} {enc}")]
    if codec.fmtp:
        lines.append(("fmtp", f"{pt} {codec.fmtp}"))
    fmtp = md.fmtp
    dtmf = _choose_dtmf(offered, enc.clock_rate) if dtmf_events is not None else None
    if dtmf is not None:
        answer_formats.append(str(dtmf[0]))
        events = fmtp.get(dtmf[0]) or dtmf_events
        lines += [("rtpmap", f"{dtmf[0]} {dtmf[1]}"), ("fmtp", f"{dtmf[0]} {events}")]
    return _CodecAnswer(replace(codec, pt=pt), dtmf[0] if dtmf else None, tuple(answer_formats),
                        tuple(lines), fmtp.get(pt))


def _answer_stream(
    offer: SessionDescription,
    md: MediaDescription,
    choice: _CodecAnswer,
    local: LocalMedia,
    wanted: Direction,
    crypto: tuple[CryptoAttribute, CryptoAttribute] | None,
) -> tuple[MediaDescription, NegotiatedMedia]:
    conn, rtcp_address, rtcp_port = _rtp_destination(offer, md)
    offered = _written_direction(offer, md, conn)
    # RFC 3264 6.1: sendonly -> recvonly, recvonly -> sendonly, inactive ->
    # inactive, sendrecv -> what we want; never more than we want.
    ours = offered.reversed().intersect(wanted)
    local_crypto, remote_crypto = crypto or (None, None)
    attributes = [*choice.attributes,
                  *_stream_attributes(local, ours, [local_crypto] if local_crypto else [])]
    answer = MediaDescription("audio", local.port, md.proto, list(choice.formats),
                              attributes=attributes)
    negotiated = NegotiatedMedia(
        codec=choice.codec,
        payload_type=choice.codec.pt,  # type: ignore[arg-type]
        dtmf_payload_type=choice.dtmf_pt,
        remote_address=conn.address,
        remote_port=md.port,
        remote_rtcp_address=rtcp_address,
        remote_rtcp_port=rtcp_port,
        direction=ours,
        remote_direction=offered,
        ptime=md.ptime,
        remote_fmtp=choice.remote_fmtp,
        local_crypto=local_crypto,
        remote_crypto=remote_crypto,
    )
    return answer, negotiated


def process_answer(
    offer: SessionDescription,
    answer: SessionDescription,
    local: LocalMedia,
    *,
    audio_index: int = 0,
) -> NegotiatedMedia:
    """Read the answer to our ``offer`` (RFC 3264 7) for the stream at ``audio_index``.

    We send with the first codec of the answer that we support, under the
    answer's payload type number (6.1).
    """
    if len(answer.media) != len(offer.media):
        raise InvalidAnswer(
            f"answer has {len(answer.media)} m= lines, offer had {len(offer.media)}"
        )
    ours, md = offer.media[audio_index], answer.media[audio_index]
    if md.media != ours.media:
        raise InvalidAnswer(
            f"answer stream {audio_index + 1} is {md.media}, offer had {ours.media}"
        )
    if md.rejected:
        raise NoAcceptableMedia("answer rejected the audio stream")
    formats = _formats(md, ours.rtpmap)
    chosen = _choose_codec(formats, local.codecs)
    if chosen is None:
        raise NoCommonCodec(_labels(formats), [c.label for c in local.codecs], side="answered")
    pt, codec, enc = chosen
    dtmf = _choose_dtmf(formats, enc.clock_rate) if local.dtmf_pt is not None else None
    conn, rtcp_address, rtcp_port = _rtp_destination(answer, md)
    remote_direction = _written_direction(answer, md, conn)
    local_crypto = remote_crypto = None
    if md.proto.upper() == RTP_SAVP:
        # RFC 4568 5.1.3: the answer's line carries the tag and suite of one of ours.
        offered = {(c.tag, c.suite): c for c in ours.crypto}
        match = next((c for c in md.crypto if (c.tag, c.suite) in offered), None)
        if match is None:
            raise InvalidAnswer("answer has no a=crypto line matching our offer")
        if not match.usable:
            raise InvalidAnswer(f"answer's a=crypto key cannot be used: {match}")
        local_crypto, remote_crypto = offered[(match.tag, match.suite)], match
    elif local.srtp_required:
        raise InvalidAnswer(f"answer downgraded {ours.proto} to {md.proto}")
    return NegotiatedMedia(
        codec=replace(codec, pt=pt),
        payload_type=pt,
        dtmf_payload_type=dtmf[0] if dtmf else None,
        remote_address=conn.address,
        remote_port=md.port,
        remote_rtcp_address=rtcp_address,
        remote_rtcp_port=rtcp_port,
        direction=ours.direction(offer).intersect(remote_direction.reversed()),
        remote_direction=remote_direction,
        ptime=md.ptime,
        remote_fmtp=md.fmtp.get(pt),
        local_crypto=local_crypto,
        remote_crypto=remote_crypto,
    )
