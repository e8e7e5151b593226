"""CallMedia: the receive path and play-out clock do not depend on our send direction."""

from __future__ import annotations

import audioop
import wave
from pathlib import Path

from tui_phone.audio.backends import NullBackend
from tui_phone.media import CallMedia
from tui_phone.rtp.packet import RtpPacket
from tui_phone.sip.offeranswer import Codec, NegotiatedMedia
from tui_phone.sip.sdpattributes import Direction
from tui_phone.testing.fakereactor import FakeReactor

PEER = ("127.0.0.1", 41000)
LOUD = audioop.lin2ulaw(b"\x00\x40" * 160, 2)  # 160 samples of 16384, mu-law


def negotiated(direction: Direction) -> NegotiatedMedia:
    return NegotiatedMedia(Codec("PCMU", 8000, pt=0), 0, None, PEER[0], PEER[1], PEER[0],
                           PEER[1] + 1, direction, direction.__class__.SENDRECV)


class CountingBackend(NullBackend):
    """Silence in; counts the frames that were not silent."""

    def __init__(self) -> None:
        super().__init__()
        self.loud_frames = 0

    def _play(self, frame: bytes) -> None:
        if audioop.max(frame, 2) > 1000:
            self.loud_frames += 1


def feed(reactor: FakeReactor, media: CallMedia, frames: int, first_seq: int = 0) -> None:
    """The peer sends ``frames`` packets of a loud signal, one per 20 ms."""
    port = reactor.udp_ports[0]
    for index in range(frames):
        packet = RtpPacket(payload_type=0, sequence_number=first_seq + index,
                           timestamp=160 * (first_seq + index), ssrc=0x1234, payload=LOUD)
        port.receive(bytes(packet), PEER)
        reactor.advance(0.02)


def test_held_by_the_peer_we_still_play_and_record_what_it_sends(tmp_path: Path) -> None:
    reactor = FakeReactor()
    backend = CountingBackend()
    media = CallMedia(reactor, audio=lambda: backend)
    media.record(tmp_path / "call.wav")
    # The peer put us on hold with a=sendonly: we are recvonly and send nothing.
    media.apply(negotiated(Direction.RECVONLY))
    assert not media.session.sending and media.playing_out
    feed(reactor, media, 50)
    assert backend.loud_frames >= 40
    assert media.summary().tx_packets == 0
    media.close()
    with wave.open(str(tmp_path / "call.wav")) as recording:
        frames = recording.readframes(recording.getnframes())
    right = audioop.tomono(frames, 2, 0, 1)
    assert audioop.max(right, 2) > 1000  # the received side is in the recording


def test_the_playout_clock_hands_over_to_the_send_tick_on_resume() -> None:
    reactor = FakeReactor()
    backend = CountingBackend()
    media = CallMedia(reactor, audio=lambda: backend)
    media.apply(negotiated(Direction.RECVONLY))
    feed(reactor, media, 10)
    media.apply(negotiated(Direction.SENDRECV))
    assert media.session.sending and media._playout is None
    played = backend.frames_played
    feed(reactor, media, 10, first_seq=10)
    # one play-out per ptime, not two clocks at once
    assert 8 <= backend.frames_played - played <= 12
    media.apply(negotiated(Direction.INACTIVE))
    assert not media.playing_out
    media.close()


def test_with_a_backend_that_discards_playback_only_a_recording_needs_the_decoded_audio(
    tmp_path: Path,
) -> None:
    reactor = FakeReactor()
    backend = NullBackend()
    media = CallMedia(reactor, audio=lambda: backend)
    media.apply(negotiated(Direction.SENDRECV))
    feed(reactor, media, 20)
    assert backend.frames_played == 0  # not decoded: nobody would hear it
    media.record(tmp_path / "call.wav")
    feed(reactor, media, 30, first_seq=20)
    assert backend.frames_played >= 20
    media.close()
    with wave.open(str(tmp_path / "call.wav")) as recording:
        frames = recording.readframes(recording.getnframes())
    assert audioop.max(audioop.tomono(frames, 2, 0, 1), 2) > 1000  # the received side


def test_summary_reports_bitrate_jitter_buffer_and_the_rtp_source() -> None:
    reactor = FakeReactor()
    media = CallMedia(reactor, audio=NullBackend)
    media.apply(negotiated(Direction.SENDRECV))
    assert media.summary().rtp_source is None  # nothing received yet
    assert media.summary().rtp_expected_source == "127.0.0.1:41000"
    feed(reactor, media, 50)
    summary = media.summary()
    assert summary.rtp_source == summary.rtp_expected_source == "127.0.0.1:41000"
    assert summary.bitrate_kbps is not None and 60 <= summary.bitrate_kbps <= 68  # PCMU
    assert summary.jitter_buffer_ms is not None and summary.jitter_buffer_target_ms is not None
    assert summary.concealed_frames == 0
    assert not media.recording and not media.encrypted
    media.close()


def test_summary_names_an_rtp_source_the_sdp_did_not_announce() -> None:
    reactor = FakeReactor()
    media = CallMedia(reactor, audio=NullBackend)
    media.apply(negotiated(Direction.SENDRECV))
    port = reactor.udp_ports[0]
    for index in range(10):  # a NAT rewrote the peer's port
        packet = RtpPacket(payload_type=0, sequence_number=index, timestamp=160 * index,
                           ssrc=0x1234, payload=LOUD)
        port.receive(bytes(packet), ("127.0.0.1", 42000))
        reactor.advance(0.02)
    summary = media.summary()
    assert summary.rtp_source == "127.0.0.1:42000"
    assert summary.rtp_expected_source == "127.0.0.1:41000"
    media.close()
