"""The local conference mixer: every participant hears all the others (N-1).

Pure logic, driven by the call's audio clock once per frame (``tick``):

1. :meth:`ConferenceMixer.push` hands in a participant's PCM at its own rate
   (the microphone, a decoded remote stream); it is resampled at once to the
   conference rate (8, 16 or 48 kHz) with ``ratecv`` state kept per
   participant, and queued.
2. :meth:`ConferenceMixer.mix` takes one frame per participant (silence if
   it pushed nothing this tick), and gives each participant the sum of all
   the *other* frames, resampled back to the participant's own rate (again
   with per-participant state).

The result is exact, saturating: participant *i* hears ``clip16(S - n_i)``
where ``S`` is the true sum of all frames (:mod:`.mixminus`, which says how
that is computed fast), so loud talkers clip instead of wrapping around, and
the result does not depend on the order of the participants.  Participants
with nothing to say this tick (nothing pushed, or digital silence) are left
out of the sums: they all hear the same full mix.

A participant at the conference rate that pushes exactly one frame per tick
(the usual case) bypasses the resampler and its FIFO: the frame is kept as
is until the tick.

Two kernels compute the mixes, with the same result to the sample:
``audioop`` (:mod:`.mixminus`, always there) and numpy
(:mod:`.mixminus_numpy`, the optional ``fast`` extra), which is faster from
``FAST_FROM`` talking frames up (18 parties: 7 µs per tick against 15 to
27 µs, ``bench/mixer.py``).  With ``kernel="auto"`` (the default) a mixer
that reaches ``FAST_FROM`` participants imports numpy on a helper thread, so
the reactor never waits the 60 ms it takes, and mixes with ``audioop`` until
it is loaded; a 3-way call never loads it.
"""

from __future__ import annotations

import importlib.util
import logging
import struct
import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from .errors import AudioUsageError
from .mixminus import mix_minus
from .resample import SAMPLE_WIDTH, FrameResampler, check_pcm

logger = logging.getLogger(__name__)

CONFERENCE_RATES = (8000, 16_000, 48_000)
KERNELS = ("auto", "audioop", "numpy")
FAST_FROM = 5  # talking frames from which numpy's kernel beats audioop's, even at talk level

MixMinus = Callable[[Sequence[bytes], int], tuple[bytes, Callable[[], bytes]]]

ParticipantId = TypeVar("ParticipantId", bound=Hashable)


class _Participant:
    """One participant's queues and counters (mutable, per tick)."""

    __slots__ = ("direct", "inbound", "index", "outbound", "pushed", "queued", "rate", "silent_ticks")

    def __init__(self, rate: int, inbound: FrameResampler, outbound: FrameResampler | None) -> None:
        self.rate = rate
        self.direct = outbound is None  # at the conference rate: no resampling either way
        self.inbound = inbound  # participant rate -> conference rate, with a FIFO
        self.outbound = outbound  # conference rate -> participant rate (None: same rate)
        self.index = 0  # its place among the participants (and in the inbox)
        self.queued = False  # the inbound FIFO may hold samples
        self.pushed = False  # pushed into the FIFO since the last tick
        self.silent_ticks = 0  # ticks in which it had nothing queued


@dataclass(frozen=True, slots=True)
class ParticipantStats:
    """Counters of one participant's streams in a :class:`ConferenceMixer`."""

    rate: int
    silent_ticks: int  # ticks in which it pushed nothing
    dropped_samples: int  # conference-rate samples dropped: it pushed too much


class ConferenceMixer(Generic[ParticipantId]):
    """N-1 mixer of participants at any rates, mixing at ``rate``.

    ``frame_ms`` is the tick length (ptime).  Each participant may queue up
    to ``max_frames`` frames ahead before its oldest samples are dropped.
    """

    def __init__(
        self, rate: int = 16_000, frame_ms: int = 20, *, max_frames: int = 4, kernel: str = "auto"
    ) -> None:
        if kernel not in KERNELS:
            raise AudioUsageError(f"mixer kernel must be one of {', '.join(KERNELS)}, not {kernel!r}")
        if rate not in CONFERENCE_RATES:
            raise AudioUsageError(
                f"conference rate must be 8000, 16000 or 48000 Hz, not {rate}"
            )
        if frame_ms <= 0 or rate * frame_ms % 1000:
            raise AudioUsageError(f"frame length {frame_ms} ms does not fit {rate} Hz")
        self.rate = rate
        self.frame_ms = frame_ms
        self.frame_samples = rate * frame_ms // 1000
        self._frame_bytes = self.frame_samples * SAMPLE_WIDTH
        self._silence = bytes(self._frame_bytes)
        self._max_frames = max_frames
        self._participants: dict[ParticipantId, _Participant] = {}
        # Kept in step with _participants on add/remove, so a tick builds nothing.
        self._ids: list[ParticipantId] = []
        self._members: list[_Participant] = []
        self._resampling = False  # some participant is not at the conference rate
        # The fast path: participant i's one whole frame pushed this tick (FIFO
        # empty), or `_silence` (the very object) if it pushed none.
        self._inbox: list[bytes] = []
        self._split = struct.Struct("")  # splits the joined mixes into one bytes per participant
        self._kernel = kernel
        self._fast: MixMinus | None = None  # numpy's kernel, once loaded
        self._fast_from = 0 if kernel == "numpy" else FAST_FROM
        self._loader: threading.Thread | None = None
        if kernel == "numpy":
            self._fast = _numpy_kernel()

    @property
    def kernel(self) -> str:
        """The kernel the next tick uses with every participant talking: ``"audioop"`` or ``"numpy"``."""
        return "numpy" if self._mix_minus(len(self._members)) is not mix_minus else "audioop"

    def wait_for_kernel(self, timeout: float | None = None) -> str:
        """Wait until numpy's kernel, if it is being loaded, is ready; then :attr:`kernel`."""
        if self._loader is not None:
            self._loader.join(timeout)
        return self.kernel

    def __contains__(self, participant_id: object) -> bool:
        return participant_id in self._participants

    def __len__(self) -> int:
        return len(self._participants)

    @property
    def participants(self) -> list[ParticipantId]:
        """Participant ids in the order they were added."""
        return list(self._ids)

    def frame_samples_for(self, participant_id: ParticipantId) -> int:
        """Samples per tick at the participant's own rate."""
        return self._get(participant_id).rate * self.frame_ms // 1000

    def add(self, participant_id: ParticipantId, rate: int) -> None:
        """Join a participant whose PCM is at ``rate`` Hz."""
        if participant_id in self._participants:
            raise AudioUsageError(f"participant {participant_id!r} is already in the conference")
        if rate * self.frame_ms % 1000:
            raise AudioUsageError(
                f"participant rate {rate} Hz has no whole {self.frame_ms} ms frames"
            )
        own_frame = rate * self.frame_ms // 1000
        inbound = FrameResampler(rate, self.rate, self.frame_samples, max_frames=self._max_frames)
        outbound = None
        if rate != self.rate:
            outbound = FrameResampler(self.rate, rate, own_frame, max_frames=self._max_frames)
        self._participants[participant_id] = _Participant(rate, inbound, outbound)
        self._members_changed()

    def remove(self, participant_id: ParticipantId) -> None:
        """Leave the conference (unknown ids raise :class:`AudioUsageError`)."""
        self._get(participant_id)
        del self._participants[participant_id]
        self._members_changed()

    def push(self, participant_id: ParticipantId, pcm: bytes) -> None:
        """Queue PCM from a participant, at its own rate."""
        try:
            participant = self._participants[participant_id]
        except KeyError:
            raise AudioUsageError(f"no participant {participant_id!r} in the conference") from None
        inbox = self._inbox
        index = participant.index
        if participant.direct and not participant.queued and len(pcm) == self._frame_bytes:
            if inbox[index] is self._silence:
                # The usual case: one whole frame, nothing queued before it.
                inbox[index] = pcm if type(pcm) is bytes else bytes(pcm)
                return
        check_pcm(pcm)
        if inbox[index] is not self._silence:  # a second push in this tick: queue both, in order
            participant.inbound.push(inbox[index])
            inbox[index] = self._silence
        participant.inbound.push(pcm)
        participant.queued = True
        participant.pushed = True

    def mix(self) -> dict[ParticipantId, bytes]:
        """One tick: for each participant, the frame it hears, at its own rate."""
        members = self._members
        if not members:
            return {}
        frames = self._inbox
        silence = self._silence
        self._inbox = [silence] * len(frames)
        if silence in frames:  # some pushed nothing or silence, or went through the FIFO
            outputs = self._mix_some(frames)
        else:
            outputs = self._split.unpack(self._mix_minus(len(frames))(frames, self._frame_bytes)[0])
        if self._resampling:
            outputs = list(outputs)
            for index, participant in enumerate(members):
                if participant.outbound is not None:
                    outputs[index] = participant.outbound.convert_frame(outputs[index])
        return dict(zip(self._ids, outputs))

    def stats(self, participant_id: ParticipantId) -> ParticipantStats:
        """Counters of one participant."""
        participant = self._get(participant_id)
        return ParticipantStats(
            rate=participant.rate,
            silent_ticks=participant.silent_ticks,
            dropped_samples=participant.inbound.dropped_samples,
        )

    def _mix_some(self, frames: list[bytes]) -> list[bytes]:
        """The N-1 mixes when some frames are not on the fast path or are silent.

        The silent ones are left out of the sums: their owners all hear the
        full mix of the others.
        """
        silence = self._silence
        for index, participant in enumerate(self._members):
            if frames[index] is silence:
                frames[index] = self._pop_queued(participant)
        talking = [index for index, frame in enumerate(frames) if frame != silence]
        size = self._frame_bytes
        heard, everyone = self._mix_minus(len(talking))([frames[index] for index in talking], size)
        outputs = [everyone()] * len(frames)
        for position, index in enumerate(talking):
            outputs[index] = heard[position * size : (position + 1) * size]
        return outputs

    def _pop_queued(self, participant: _Participant) -> bytes:
        """The participant's frame from its FIFO (it did not use the fast path)."""
        if not participant.queued and not participant.pushed:
            participant.silent_ticks += 1
            return self._silence
        participant.pushed = False
        frame = participant.inbound.pop_frame()
        participant.queued = participant.inbound.buffered_samples > 0
        return frame

    def _members_changed(self) -> None:
        pushed = {id(member): frame for member, frame in zip(self._members, self._inbox)}
        self._ids = list(self._participants)
        self._members = list(self._participants.values())
        for index, member in enumerate(self._members):
            member.index = index
        self._inbox = [pushed.get(id(member), self._silence) for member in self._members]
        self._resampling = any(not participant.direct for participant in self._members)
        self._split = struct.Struct(f"{self._frame_bytes}s" * len(self._ids))
        if (
            self._kernel == "auto"
            and len(self._members) >= FAST_FROM
            and self._loader is None
            and importlib.util.find_spec("numpy") is not None
        ):
            self._loader = threading.Thread(target=self._load_numpy, name="mixer-numpy", daemon=True)
            self._loader.start()

    def _mix_minus(self, talking: int) -> MixMinus:
        fast = self._fast
        return fast if fast is not None and talking >= self._fast_from else mix_minus

    def _load_numpy(self) -> None:
        """On the helper thread: one attribute store hands the kernel to the mixer."""
        try:
            self._fast = _numpy_kernel()
        except AudioUsageError as error:  # numpy is there but does not import: audioop it stays
            logger.warning("%s; mixing with audioop", error)

    def _get(self, participant_id: ParticipantId) -> _Participant:
        try:
            return self._participants[participant_id]
        except KeyError:
            raise AudioUsageError(f"no participant {participant_id!r} in the conference") from None



def _numpy_kernel() -> MixMinus:
    try:
        from .mixminus_numpy import NumpyMixMinus
    except ImportError as error:
        raise AudioUsageError(
            f"the numpy mixer kernel needs numpy ({error}): pip install 'tui-phone[fast]'"
        ) from None
    return NumpyMixMinus()
