"""Audio: codecs, the conference mixer, WAV files, tones, recording, backends.

All PCM is mono (or interleaved stereo where said) signed 16-bit in host byte
order.  ``audioop`` is imported only through :mod:`tui_phone.audio._audioop`;
``sounddevice`` only in :mod:`tui_phone.audio.devices`, lazily.

Modules: :mod:`.codecs` (``get_codec``, ``available_codecs``), :mod:`.mixer`
(``ConferenceMixer``), :mod:`.resample`, :mod:`.wav` (``WavSource``,
``WavSink``), :mod:`.tones` (``ToneGenerator``), :mod:`.recorder`
(``CallRecorder``), :mod:`.backends` (``AudioBackend`` and the file/tone/null
backends), :mod:`.devices` (the sound card), :mod:`.selection`
(``choose_backend``), :mod:`.errors`.
"""
