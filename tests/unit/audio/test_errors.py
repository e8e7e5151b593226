"""tui_phone.audio.errors: the error hierarchy says whose fault it was."""

from __future__ import annotations

import pytest

from tui_phone.audio.errors import (
    AudioError,
    AudioSpecError,
    AudioUnavailable,
    AudioUsageError,
    CodecUnavailable,
    PayloadError,
    WavFormatError,
)


def test_unavailability_is_not_a_value_error() -> None:
    assert issubclass(CodecUnavailable, AudioUnavailable)
    assert issubclass(AudioUnavailable, AudioError)
    assert not issubclass(AudioUnavailable, ValueError)


@pytest.mark.parametrize("cls", [AudioSpecError, WavFormatError, PayloadError, AudioUsageError])
def test_bad_input_errors_are_value_errors(cls: type[AudioError]) -> None:
    assert issubclass(cls, ValueError)
    assert issubclass(cls, AudioError)


def test_message_reason_and_repr() -> None:
    error = AudioUnavailable("no audio device: x")
    assert str(error) == "no audio device: x"
    assert error.reason == "no audio device: x"
    assert repr(error) == "AudioUnavailable('no audio device: x')"
