"""Audio: crash-safe recording, repair, import/convert, level metering and playback.

Layout (no Qt anywhere; PortAudio is reached only through :mod:`cxfield.audio.backend`):

- ``wavfile``  crash-safe PCM WAV writer and ``repair`` (standard library only, so start-up
  recovery works even where numpy/sounddevice are missing)
- ``backend``  the PortAudio boundary (sounddevice), injectable so tests use a fake
- ``recorder`` callback -> bounded queue -> writer thread; levels, overflows, disk checks
- ``convert``  import any phone/recorder file via ffmpeg into 16 kHz mono WAV
- ``player``   playback with seek over a memory-mapped WAV
"""
