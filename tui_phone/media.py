"""The media of one call: RTP session, codec, jitter buffer, audio backend, recorder.

:class:`CallMedia` is glue and holds no protocol logic. It opens the RTP
port pair before the SDP is written, and once an offer/answer exchange has
settled (:meth:`CallMedia.apply`) it picks the codec, points the RTP session
at the peer and starts or stops sending as the negotiated direction says.

Every ptime the RTP session asks :meth:`CallMedia._next_payload` for a frame:
that tick also plays out one frame from the jitter buffer (decoded, or
concealed) into the audio backend and the recorder. While we do not send
(the peer put us on hold with ``sendonly``, or we are ``recvonly``), a
play-out clock of our own keeps that tick running, so what the peer sends
(music on hold, announcements) is still heard and recorded. In echo mode the
payloads received are sent back as they are (and recorded, decoded, on both
sides).
"""

from __future__ import annotations

import functools
import logging
import random
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twisted.internet.task import LoopingCall

from .audio.backends import AudioBackend, NullBackend
from .audio.codecs import AudioCodec, Decoder, Encoder, get_codec, repeat_fade
from .audio.recorder import CallRecorder
from .audio.resample import silence
from .events import RtpSummary
from .rtp.dtmf import DtmfDigit
from .rtp.jitterbuffer import Frame, Gap, JitterBuffer
from .rtp.packet import RtpPacket
from .rtp.session import RtpSession
from .rtp.srtp import (
    AES_CM_128_HMAC_SHA1_32,
    AES_CM_128_HMAC_SHA1_80,
    SrtpContext,
    make_crypto_attribute,
)
from .sip.offeranswer import Codec, LocalMedia, NegotiatedMedia
from .sip.sdpattributes import CryptoAttribute

log = logging.getLogger(__name__)

DEFAULT_PTIME = 20
ECHO_QUEUE = 50  # frames kept for echoing back (1 s at 20 ms)
# A backend paced by us (WAV, tone, null) is asked for this many frames at
# once when the codec codes each sample alone (G.711, L16), and they are
# encoded in one go: each ptime then takes a slice of the payloads instead of
# a capture, a queue round trip and an encoder call.
CAPTURE_AHEAD_FRAMES = 50

AudioFactory = Callable[[], AudioBackend]


def sdp_codecs(names: tuple[str, ...] | list[str]) -> tuple[Codec, ...]:
    """The SDP codec list for codec names (``PCMU``, ``G722``, ``opus``), skipping
    those this machine cannot run."""
    return _sdp_codecs(tuple(names))


@functools.lru_cache(maxsize=64)
def _sdp_codecs(names: tuple[str, ...]) -> tuple[Codec, ...]:
    # Cached: what this machine can run does not change, and looking the codecs
    # up again cost every incoming call about half a millisecond before its answer.
    codecs: list[Codec] = []
    for name in names:
        try:
            codec = get_codec(name)
        except Exception:  # noqa: BLE001 - CodecUnavailable and library errors alike
            log.info("codec %s is not available here", name)
            continue
        codecs.append(Codec(codec.name, codec.clock_rate, codec.sdp_channels, pt=codec.payload_type))
    return tuple(codecs)


class CallMedia:
    """Audio both ways for one call.

    It opens its RTP session (an even/odd port pair on ``host`` in
    ``port_range``) at once; the phone keeps a few made ahead of the calls in
    a :class:`~tui_phone.rtp.portpool.RtpPortPool`.
    """

    def __init__(
        self,
        reactor: Any,
        *,
        host: str = "127.0.0.1",
        port_range: tuple[int, int] = (20000, 30000),
        audio: AudioFactory | None = None,
        echo: bool = False,
        rng: random.Random | None = None,
        on_dtmf: Callable[[str], None] | None = None,
    ) -> None:
        self.reactor = reactor
        self.host = host
        self.echo = echo
        self._audio_factory = audio if audio is not None else NullBackend
        self.session = RtpSession(reactor, rng=rng)
        self.port, _ = self.session.open(host, port_range)
        self._local_media: dict[tuple[Any, ...], LocalMedia] = {}
        self._keys: tuple[CryptoAttribute, ...] = ()  # our SDES keys, made for this call only
        #: The (host, port) our SDP offers when it is not the bound one (behind NAT, STUN).
        self.advertised: tuple[str, int] | None = None
        self.codec: AudioCodec | None = None
        self.negotiated: NegotiatedMedia | None = None
        self.muted = False
        self._encoder: Encoder | None = None
        self._decoder: Decoder | None = None
        self._backend: AudioBackend | None = None
        self._captured: deque[bytes] = deque(maxlen=10)
        self._echo: deque[bytes] = deque(maxlen=ECHO_QUEUE)
        self._recorder: CallRecorder | None = None
        self._record_path: Path | None = None
        self._frame_samples = 0
        # Frames captured and encoded ahead (CAPTURE_AHEAD_FRAMES): the PCM, the
        # payloads, how many, the next to send, a payload's size.
        self._ahead = False
        self._ahead_pcm = b""
        self._ahead_payloads = b""
        self._ahead_frames = 0
        self._ahead_index = 0
        self._payload_size = 0
        self._last_played: bytes | None = None
        self._tx_base = 0  # packets sent by earlier streams (every start renumbers the counters)
        self._ptime = DEFAULT_PTIME
        self._playout: LoopingCall | None = None  # the tick while we do not send
        self._closed = False
        #: Conference glue (tui_phone.conference): when set, each tick passes it the
        #: decoded frame received (None: none) and the frame size in samples, and
        #: sends the PCM it returns instead of using the audio backend.
        self.frame_tap: Callable[[bytes | None, int], bytes] | None = None
        if echo:  # (otherwise nobody needs the received payloads handed over every ptime)
            self.session.on_frame(self._on_frame)
        if on_dtmf is not None:
            self.session.on_dtmf(lambda digit: on_dtmf(_digit_text(digit)))

    def local_media(self, codec_names: tuple[str, ...], *, held: bool = False,
                    srtp: str = "off", offer: bool = False) -> LocalMedia:
        """Our SDP side: this port, these codecs, telephone-event on 101.

        ``srtp`` is the account's mode (RFC 4568 SDES keys, fresh for each
        call): ``mandatory`` offers and accepts only RTP/SAVP; ``optional``
        answers an RTP/SAVP offer with SRTP and a plain one with RTP, and
        offers plain RTP (``offer``), which every peer accepts; ``off`` never
        uses SRTP. Remembered (a LocalMedia is immutable): the phone asks for
        it when it prepares the media, before the call that will answer with it.
        """
        host, port = self.advertised or (self.host, self.port)
        keyed = srtp == "mandatory" or (srtp == "optional" and not offer)
        key = (tuple(codec_names), host, port, keyed, srtp == "mandatory")
        local = self._local_media.get(key)
        if local is None:
            codecs = sdp_codecs(codec_names) or sdp_codecs(("PCMU",))
            crypto = self._sdes_keys() if keyed else ()
            local = self._local_media[key] = LocalMedia(
                host, port, codecs=codecs, crypto=crypto, srtp_required=srtp == "mandatory")
        return local

    def _sdes_keys(self) -> tuple[CryptoAttribute, ...]:
        """One key per suite we support, the stronger tag first (RFC 4568 5.1.1)."""
        if not self._keys:
            self._keys = tuple(make_crypto_attribute(tag, suite)
                               for tag, suite in ((1, AES_CM_128_HMAC_SHA1_80),
                                                  (2, AES_CM_128_HMAC_SHA1_32)))
        return self._keys

    # -- negotiation ----------------------------------------------------------------
    def apply(self, negotiated: NegotiatedMedia) -> None:
        """Use the outcome of an offer/answer exchange."""
        if self._closed:
            return
        self.negotiated = negotiated
        codec = get_codec(negotiated.codec.name, None if negotiated.codec.name.upper() != "L16"
                          else negotiated.codec.clock_rate)
        ptime = negotiated.ptime or DEFAULT_PTIME
        self._ptime = ptime
        if self.codec is None or self.codec.name != codec.name:
            self.codec = codec
            self._encoder = codec.new_encoder()
            self._decoder = codec.new_decoder()
            self._frame_samples = codec.frame_samples(ptime)
            step = codec.timestamp_step(ptime)
            self.session.jitter_buffer = JitterBuffer(codec.clock_rate, step)
            self._open_backend(codec)
        self._use_srtp(negotiated)
        self.session.set_remote(
            (negotiated.remote_address, negotiated.remote_port),
            (negotiated.remote_rtcp_address, negotiated.remote_rtcp_port),
        )
        self.session.configure_receive(
            [negotiated.payload_type], codec.clock_rate,
            telephone_event_pt=negotiated.dtmf_payload_type, codec_name=codec.name,
        )
        if negotiated.sends and negotiated.remote_port:
            self._stop_playout()
            if not self.session.sending:
                sent = self.session.stats().sent
                self._tx_base += sent.packets_sent if sent is not None else 0
                self.session.start_sending(
                    self._next_payload, negotiated.payload_type, codec.clock_rate,
                    codec.timestamp_step(ptime), telephone_event_pt=negotiated.dtmf_payload_type,
                )
        else:
            self.session.stop_sending()
            if negotiated.receives:
                self._start_playout()
            else:
                self._stop_playout()

    def _use_srtp(self, negotiated: NegotiatedMedia) -> None:
        """SRTP with the negotiated keys (RFC 4568 6.1: each side sends with its own);
        kept as it is when a new exchange names the same keys (its rollover
        counters and replay lists live on), plain RTP when none were."""
        local, remote = negotiated.local_crypto, negotiated.remote_crypto
        current = self.session.srtp
        if local is None or remote is None:
            if current is not None:
                self.session.set_srtp(None)
            return
        # The SDP's a=crypto values as they are: the offer/answer took only keys
        # SrtpContext can use (CryptoAttribute.usable, the same check).
        if current is None or (current.local, current.remote) != (local, remote):
            self.session.set_srtp(SrtpContext(local, remote))

    def _start_playout(self) -> None:
        """Run the ptime tick without sending, so received audio keeps playing."""
        if self._playout is not None and self._playout.running:
            return
        self._playout = LoopingCall(self._receive_tick)
        self._playout.clock = self.reactor
        self._playout.start(self._ptime / 1000, now=False)

    def _stop_playout(self) -> None:
        if self._playout is not None and self._playout.running:
            self._playout.stop()
        self._playout = None

    def _receive_tick(self) -> None:
        """One ptime while not sending: play out, record, drop what the microphone gave."""
        try:
            received = self._play_out()
        except Exception:  # noqa: BLE001 - playback trouble must not stop the call
            log.exception("play-out failed")
            received = None
        if self._ahead:
            self._next_captured()  # (dropped)
        elif self._backend is not None and not self._backend.self_clocked:
            self._backend.tick()
        self._captured.clear()  # nothing goes out: do not let stale audio pile up
        if self._recorder is not None and not self.echo:
            self._recorder.write(silence(self._frame_samples), received)

    def _open_backend(self, codec: AudioCodec) -> None:
        if self._backend is not None:
            self._backend.close()
        self._backend = self._audio_factory()
        self._backend.open(codec.sample_rate, self._frame_samples, self._captured.append)
        self._ahead = codec.sample_wise and not self._backend.self_clocked
        self._ahead_frames = self._ahead_index = 0
        if self._record_path is not None and self._recorder is None:
            self._recorder = CallRecorder(self._record_path, codec.sample_rate, self._frame_samples)

    # -- the ptime tick -------------------------------------------------------------
    def _next_payload(self) -> bytes | None:
        try:
            received = self._play_out()
        except Exception:  # noqa: BLE001 - playback trouble must not stop the stream
            log.exception("play-out failed")
            received = None
        if self.echo:
            payload = self._echo.popleft() if self._echo else None
            if self._recorder is not None:
                self._record_echo(payload)
            return payload
        if self.frame_tap is not None and self._encoder is not None:
            pcm = self.frame_tap(received, self._frame_samples)
            return self._encoder.encode(silence(self._frame_samples) if self.muted else pcm)
        if self._backend is None or self._encoder is None:
            return None
        if self._ahead:
            index = self._next_captured()
            size = self._payload_size
            payload = self._ahead_payloads[index * size:(index + 1) * size]
            if self._recorder is None and not self.muted:  # (every ptime)
                return payload
            if self.muted:
                pcm = silence(self._frame_samples)
                payload = self._encoder.encode(pcm)
            else:
                frame_bytes = 2 * self._frame_samples
                pcm = self._ahead_pcm[index * frame_bytes:(index + 1) * frame_bytes]
            if self._recorder is not None:
                self._recorder.write(pcm, received)
            return payload
        if not self._backend.self_clocked:
            self._backend.tick()
        pcm = self._captured.popleft() if self._captured else silence(self._frame_samples)
        if self.muted:
            pcm = silence(self._frame_samples)
        if self._recorder is not None:
            self._recorder.write(pcm, received)
        return self._encoder.encode(pcm)

    def _next_captured(self) -> int:
        """The index of the next frame captured ahead (capturing and encoding the next
        block when this one is used up)."""
        index = self._ahead_index
        if index >= self._ahead_frames:
            assert self._backend is not None and self._encoder is not None
            pcm = self._backend.capture_block(CAPTURE_AHEAD_FRAMES)
            self._ahead_pcm, self._ahead_payloads = pcm, self._encoder.encode(pcm)
            self._ahead_frames = CAPTURE_AHEAD_FRAMES
            self._payload_size = len(self._ahead_payloads) // CAPTURE_AHEAD_FRAMES
            index = 0
        self._ahead_index = index + 1
        return index

    def _play_out(self) -> bytes | None:
        buffer, decoder = self.session.jitter_buffer, self._decoder
        if buffer is None or decoder is None or self.echo:
            return None
        item = buffer.pop(self.reactor.seconds())
        if (self._recorder is None and self.frame_tap is None
                and (self._backend is None or self._backend.discards_playback)):
            return None  # nobody hears or records it: no need to decode (every ptime)
        pcm: bytes | None = None
        if isinstance(item, Frame):
            try:
                pcm = decoder.decode(item.payload)
            except Exception as error:  # noqa: BLE001 - a bad payload must not stop the call
                log.debug("undecodable payload: %s", error)
        elif isinstance(item, Gap) and item.concealment != "silence":
            if decoder.supports_plc:
                pcm = decoder.conceal(self._frame_samples)
            elif self._last_played is not None:
                pcm = repeat_fade(self._last_played, item.step)
        if isinstance(item, Frame) and pcm is not None:
            self._last_played = pcm
        if (pcm is not None and self._backend is not None and self.frame_tap is None
                and len(pcm) == 2 * self._frame_samples):
            self._backend.play(pcm)
        return pcm

    def _record_echo(self, payload: bytes | None) -> None:
        """Echo mode: the frame going back out is the one that came in; both sides hear it."""
        assert self._recorder is not None
        pcm = None
        if payload is not None and self._decoder is not None:
            try:
                pcm = self._decoder.decode(payload)
            except Exception as error:  # noqa: BLE001 - a bad payload must not stop the call
                log.debug("undecodable payload: %s", error)
        if pcm is not None and len(pcm) != 2 * self._frame_samples:
            pcm = None  # another ptime than ours: not recordable frame by frame
        self._recorder.write(silence(self._frame_samples) if pcm is None else pcm, pcm)

    def _on_frame(self, payload: bytes, packet: RtpPacket) -> None:
        self._echo.append(payload)

    # -- controls ---------------------------------------------------------------------
    def mute(self, on: bool = True) -> None:
        """Send silence instead of the captured audio."""
        self.muted = on

    def send_dtmf(self, digits: str) -> None:
        """RFC 4733 events on the RTP stream."""
        self.session.send_dtmf(digits)

    @property
    def can_send_rfc4733(self) -> bool:
        """True if telephone-event was negotiated and we are sending."""
        negotiated = self.negotiated
        return negotiated is not None and negotiated.dtmf_payload_type is not None and self.session.sending

    @property
    def recording(self) -> bool:
        """True once :meth:`record` was asked (the file opens with the codec)."""
        return self._record_path is not None

    @property
    def encrypted(self) -> bool:
        """True when the RTP is SRTP."""
        return self.session.srtp is not None

    def record(self, path: str | Path) -> None:
        """Record both directions into a stereo WAV (left = sent, right = received)."""
        self._record_path = Path(path)
        if self.codec is not None and self._recorder is None:
            self._recorder = CallRecorder(self._record_path, self.codec.sample_rate, self._frame_samples)

    def stop_sending(self) -> None:
        """Stop the RTP stream (the call is ending or on hold)."""
        self.session.stop_sending()

    @property
    def playing_out(self) -> bool:
        """True while received audio is played out (by the send tick or our own clock)."""
        return self.session.sending or (self._playout is not None and self._playout.running)

    def summary(self) -> RtpSummary:
        """The statistics the CLI and ``CallEnded`` report."""
        stats = self.session.stats()
        received = stats.received
        quality = stats.quality
        buffer = self.session.jitter_buffer
        return RtpSummary(
            tx_packets=self._tx_base + (stats.sent.packets_sent if stats.sent is not None else 0),
            rx_packets=received.packets_received,
            rx_lost=max(received.packets_lost, 0),
            loss_pct=round(received.loss_percent, 3),
            jitter_ms=round(received.mean_jitter_ms, 3),
            max_jitter_ms=round(received.max_jitter_ms, 3),
            rtt_ms=None if stats.rtt_ms is None else round(stats.rtt_ms, 3),
            mos=None if quality is None else round(quality.mos, 2),
            bitrate_kbps=None if received.bitrate_bps is None
            else round(received.bitrate_bps / 1000, 1),
            jitter_buffer_ms=None if buffer is None else round(stats.jitter_buffer_delay_ms, 1),
            jitter_buffer_target_ms=None if buffer is None else round(buffer.target_delay_ms, 1),
            concealed_frames=None if stats.jitter_buffer is None else stats.jitter_buffer.concealed,
            rtp_source=_host_port(stats.remote) if received.packets_received else None,
            rtp_expected_source=_host_port(stats.signalled_remote),
        )

    def close(self) -> Any:
        """Stop everything; the Deferred fires when the ports are closed."""
        if self._closed:
            return None
        self._closed = True
        self._stop_playout()
        if self._recorder is not None:
            self._recorder.close()
        if self._backend is not None:
            self._backend.close()
        return self.session.close()


def _host_port(address: tuple[str, int] | None) -> str | None:
    return None if address is None else f"{address[0]}:{address[1]}"


def _digit_text(digit: DtmfDigit) -> str:
    return digit.digit


__all__ = ["CallMedia", "sdp_codecs"]
