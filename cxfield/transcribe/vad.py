"""Speech detection, so that the model does not spend time on silence.

WebRTC's VAD (``webrtcvad-wheels``, a maintained build of Google's detector) was chosen
over an energy detector with an adaptive noise floor after measuring both on generated
interviews: espeak-ng speech at known times over digital silence, room noise (-55 dBFS) and
loud pink noise (-35 dBFS), 180 s each.  With speech well above the noise both kept every
word (recall 1.000) and skipped ~95 % of the silence.  With quiet speech in pink noise the
energy detector found only 11 % of the speech, WebRTC (mode 1) 96 %.  Both cost < 30 ms per
180 s of audio.  Missing speech is the costly error (words are lost) while keeping a silent
stretch only costs model time, so the least aggressive useful mode is used and every region
is padded.  The energy detector stays as the fallback when webrtcvad cannot be imported, and
to find the quietest point where a long stretch of speech can be cut.

Times are sample indices on the clock of the audio that was passed in; callers add the
offset of the window they read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 16_000
FRAME = 480  # 30 ms


@dataclass(frozen=True)
class VadSettings:
    #: WebRTC aggressiveness 0..3 (1: measured best recall in noise without keeping noise)
    mode: int = 1
    #: energy fallback: a frame is speech when it is this many dB above the noise floor
    margin_db: float = 9.0
    #: ... and above this absolute level (digital silence / a muted microphone)
    floor_db: float = -60.0
    #: silences shorter than this stay inside a speech region (pauses between words)
    min_silence_s: float = 1.0
    #: speech shorter than this is a click, not speech
    min_speech_s: float = 0.2
    #: kept around every region, so word onsets and tails are not cut
    pad_s: float = 0.3


def frame_levels_db(samples: np.ndarray) -> np.ndarray:
    """RMS level of each 30 ms frame in dBFS (a partial last frame counts)."""
    n = len(samples)
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    frames = -(-n // FRAME)
    padded = np.zeros(frames * FRAME, dtype=np.float32)
    padded[:n] = samples
    power = np.mean(np.square(padded.reshape(frames, FRAME), dtype=np.float64), axis=1)
    result: np.ndarray = (10.0 * np.log10(power + 1e-12)).astype(np.float32)
    return result


def noise_floor_db(levels: np.ndarray) -> float:
    """The level that most quiet frames sit at: a low percentile of the frame levels."""
    if len(levels) == 0:
        return -120.0
    return float(np.percentile(levels, 10))


def speech_regions(
    samples: np.ndarray,
    settings: VadSettings | None = None,
    noise_floor: float | None = None,
) -> list[tuple[int, int]]:
    """Speech regions of ``samples`` (16 kHz mono float32) as ``(start, end)`` samples.

    ``noise_floor`` is only used by the energy fallback."""
    s = settings or VadSettings()
    if len(samples) == 0:
        return []
    voiced = _webrtc_voiced(samples, s.mode)
    if voiced is None:
        voiced = energy_voiced(samples, s, noise_floor)
    regions = _runs(voiced)
    frame_s = FRAME / SAMPLE_RATE
    regions = _merge(regions, int(round(s.min_silence_s / frame_s)))
    min_frames = max(1, int(round(s.min_speech_s / frame_s)))
    regions = [(a, b) for a, b in regions if b - a >= min_frames]
    pad = int(round(s.pad_s * SAMPLE_RATE))
    out: list[tuple[int, int]] = []
    for a, b in regions:
        start = max(0, a * FRAME - pad)
        end = min(len(samples), b * FRAME + pad)
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _webrtc_voiced(samples: np.ndarray, mode: int) -> np.ndarray | None:
    """Per-frame speech flags from WebRTC's detector, or None when it is not installed."""
    try:
        import webrtcvad
    except ImportError:
        return None
    detector = webrtcvad.Vad(mode)
    frames = -(-len(samples) // FRAME)
    pcm = np.zeros(frames * FRAME, dtype=np.int16)
    pcm[: len(samples)] = (np.clip(samples, -1.0, 1.0) * 32767.0).astype(np.int16)
    data = pcm.tobytes()
    step = FRAME * 2
    return np.fromiter(
        (detector.is_speech(data[i * step : (i + 1) * step], SAMPLE_RATE) for i in range(frames)),
        dtype=bool,
        count=frames,
    )


def energy_voiced(
    samples: np.ndarray, settings: VadSettings | None = None, noise_floor: float | None = None
) -> np.ndarray:
    """Per-frame speech flags from the level above an adaptive noise floor."""
    s = settings or VadSettings()
    levels = frame_levels_db(samples)
    floor = noise_floor_db(levels) if noise_floor is None else noise_floor
    result: np.ndarray = levels > max(floor + s.margin_db, s.floor_db)
    return result


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Half-open runs of True in a boolean array."""
    if not mask.any():
        return []
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    return [(int(a), int(b)) for a, b in zip(starts, ends, strict=True)]


def _merge(regions: list[tuple[int, int]], max_gap: int) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for a, b in regions:
        if merged and a - merged[-1][1] < max_gap:
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


def quietest_point(samples: np.ndarray, lo: int, hi: int) -> int:
    """The start sample of the quietest 30 ms frame between ``lo`` and ``hi``: where to cut
    a long stretch of speech with the least chance of splitting a word."""
    lo = max(0, lo)
    hi = min(len(samples), hi)
    if hi - lo < FRAME:
        return hi
    levels = frame_levels_db(samples[lo:hi])
    return lo + int(np.argmin(levels)) * FRAME
