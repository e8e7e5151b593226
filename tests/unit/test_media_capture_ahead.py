"""CallMedia's capture-ahead path sends what the frame-by-frame path sends.

With a backend paced by the reactor (WAV, tone, null) and a codec that codes
each sample alone (G.711, L16), CallMedia captures CAPTURE_AHEAD_FRAMES
frames at once and encodes them in one go.  The payloads sent, the
recording, muting and a hold in between must be exactly those of the
general path (one capture and one encode per ptime), which a codec that is
not sample-wise still takes.
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

import pytest

from tui_phone.audio.backends import WavBackend
from tui_phone.audio.codecs import AudioCodec
from tui_phone.media import CAPTURE_AHEAD_FRAMES, CallMedia
from tui_phone.rtp.packet import RtpPacket
from tui_phone.sip.offeranswer import Codec, NegotiatedMedia
from tui_phone.sip.sdpattributes import Direction
from tui_phone.testing.fakereactor import FakeReactor

PEER = ("127.0.0.1", 41000)


def negotiated(direction: Direction, codec: str = "PCMU", pt: int = 0) -> NegotiatedMedia:
    return NegotiatedMedia(Codec(codec, 8000, pt=pt), pt, None, PEER[0], PEER[1], PEER[0],
                           PEER[1] + 1, direction, direction.__class__.SENDRECV)


def write_sweep(path: Path, seconds: float) -> Path:
    """A WAV whose every frame differs (a rising tone), so a frame out of place shows."""
    samples = int(8000 * seconds)
    data = b"".join(struct.pack("<h", int(12000 * math.sin(0.0005 * i * i / 8))) for i in range(samples))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(data)
    return path


class FrameByFrameMedia(CallMedia):
    """CallMedia kept on the general path (one capture, one encode per ptime)."""

    def _open_backend(self, codec: AudioCodec) -> None:
        super()._open_backend(codec)
        self._ahead = False


def payloads(reactor: FakeReactor) -> list[bytes]:
    return [RtpPacket.parse(data).payload for data, _ in reactor.udp_ports[0].sent
            if RtpPacket.parse(data).payload_type != 72 and len(data) > 12]


def run(wav: Path, ahead: bool, tmp_path: Path, *, record: bool = False, codec: str = "PCMU",
        pt: int = 0) -> tuple[list[bytes], bytes | None]:
    """A call sending ``wav`` for 3.5 s: muted for a while, on hold for a while, recorded."""
    reactor = FakeReactor()
    media = (CallMedia if ahead else FrameByFrameMedia)(reactor, audio=lambda: WavBackend(wav))
    recording = tmp_path / f"rec-{ahead}-{record}-{codec}.wav"
    if record:
        media.record(recording)
    media.apply(negotiated(Direction.SENDRECV, codec, pt))
    assert media._ahead == ahead
    reactor.advance(0.01)
    for step in range(175):
        if step == 40:
            media.mute()
        if step == 55:
            media.mute(False)
        if step == 90:
            media.apply(negotiated(Direction.RECVONLY, codec, pt))  # on hold: captured frames dropped
        if step == 110:
            media.apply(negotiated(Direction.SENDRECV, codec, pt))
        reactor.advance(0.02)
    media.close()
    recorded = None
    if record:
        with wave.open(str(recording)) as file:
            recorded = file.readframes(file.getnframes())
    return payloads(reactor), recorded


@pytest.mark.parametrize("record", [False, True])
@pytest.mark.parametrize(("codec", "pt"), [("PCMU", 0), ("PCMA", 8)])
def test_capture_ahead_sends_and_records_what_frame_by_frame_does(
    tmp_path: Path, record: bool, codec: str, pt: int
) -> None:
    wav = write_sweep(tmp_path / "sweep.wav", 1.3)  # loops during the call
    ahead, ahead_recording = run(wav, True, tmp_path, record=record, codec=codec, pt=pt)
    general, general_recording = run(wav, False, tmp_path, record=record, codec=codec, pt=pt)
    assert len(ahead) > 3 * CAPTURE_AHEAD_FRAMES  # several blocks, across the loop point
    assert ahead == general
    assert ahead_recording == general_recording


def test_capture_ahead_is_taken_only_where_it_gives_the_same() -> None:
    reactor = FakeReactor()
    media = CallMedia(reactor)
    media.apply(negotiated(Direction.SENDRECV))
    assert media._ahead  # null backend, PCMU
    media.close()
    media = CallMedia(FakeReactor())
    media.apply(negotiated(Direction.SENDRECV, "G722", 9))
    assert not media._ahead  # G.722 keeps state from frame to frame
    media.close()
