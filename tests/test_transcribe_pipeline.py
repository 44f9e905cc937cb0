"""Speech detection, the windowed pipeline and its time mapping (in-process, real whisper
with a small random checkpoint)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from cxfield.transcribe import vad
from cxfield.transcribe.audio_source import open_audio
from cxfield.transcribe.pipeline import DecodeSettings, TimeMap, Transcriber, _cut_blocks
from tests.transcribe_support import (
    FAST_DECODE,
    SR,
    place,
    speech_like,
    write_wav,
)


def espeak(text: str, tmp: Path) -> np.ndarray:
    """Real synthetic speech when espeak-ng and sox are installed, else speech-like noise."""
    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        return speech_like(3.0)
    raw, out = tmp / "raw.wav", tmp / "speech.wav"
    subprocess.run(["espeak-ng", "-w", str(raw), text], check=True, capture_output=True)
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out)], check=True)
    import soundfile

    data, _ = soundfile.read(str(out), dtype="float32")
    return np.asarray(data, dtype=np.float32)


def test_vad_finds_speech_at_known_times(tmp_path: Path) -> None:
    speech = espeak("The clerk asked me for another form of identification.", tmp_path)
    n = len(speech) / SR
    rng = np.random.default_rng(0)
    audio = place(60, [(5.0, speech), (30.0, speech), (50.0, speech)])
    audio += rng.normal(0, 10 ** (-55 / 20), len(audio)).astype(np.float32)  # room noise
    regions = vad.speech_regions(audio)
    assert len(regions) == 3
    for (a, b), start in zip(regions, (5.0, 30.0, 50.0), strict=True):
        assert a / SR <= start + 0.05  # onset kept
        assert b / SR >= start + n - 0.5  # tail kept (espeak pads a little silence)
        assert b / SR <= start + n + 0.5
    kept = sum(b - a for a, b in regions) / len(audio)
    assert kept < 0.5  # most of the silence is skipped


def test_energy_fallback_and_quietest_point() -> None:
    audio = place(10, [(2.0, speech_like(2.0)), (6.0, speech_like(2.0))])
    voiced = vad.energy_voiced(audio)
    frame_s = vad.FRAME / SR
    assert voiced[int(3.0 / frame_s)] and not voiced[int(5.0 / frame_s)]
    cut = vad.quietest_point(audio, int(3 * SR), int(7 * SR))
    assert 4.0 * SR <= cut <= 6.0 * SR


def test_time_map_restores_the_original_clock() -> None:
    regions = [(SR * 10, SR * 20), (SR * 50, SR * 55)]
    tm = TimeMap(regions, offset_s=100.0)
    assert tm.to_original(0.0) == pytest.approx(110.0)
    assert tm.to_original(9.5) == pytest.approx(119.5)
    assert tm.to_original(10.0) == pytest.approx(150.0)  # a start on the join: next region
    assert tm.to_original(10.0, is_end=True) == pytest.approx(120.0)  # an end: previous
    assert tm.to_original(12.0) == pytest.approx(152.0)
    assert tm.to_original(99.0) == pytest.approx(155.0)  # clamped to the last region


def test_blocks_are_windows_cut_at_pauses(tmp_path: Path) -> None:
    # 70 s of speech with a pause around 30 s; blocks of 20 s must cover everything once
    audio = place(70, [(0.0, speech_like(29.0)), (31.0, speech_like(39.0, 1))])
    source = open_audio(write_wav(tmp_path / "a.wav", audio))
    blocks = list(_cut_blocks(source, block_s=20.0))
    assert len(blocks) >= 3
    position = 0
    for offset, block in blocks:
        assert offset == pytest.approx(position / SR)
        assert len(block) <= 26 * SR  # never one array of the whole file
        position += len(block)
    assert position == len(audio)
    joined = np.concatenate([b for _, b in blocks])
    assert np.array_equal(joined, audio.astype(np.float32).round(4).astype(np.float32)) or (
        np.max(np.abs(joined - audio)) < 1e-4
    )


def test_silence_skipping_keeps_segment_times_on_the_recording(
    tmp_path: Path,
    whisper_checkpoint: Path,
) -> None:
    import torch
    import whisper

    torch.set_num_threads(1)
    model = whisper.load_model(str(whisper_checkpoint), device="cpu")
    starts = (20.0, 95.0, 160.0)
    audio = place(200, [(s, speech_like(12.0, i)) for i, s in enumerate(starts)])
    path = write_wav(tmp_path / "interview.wav", audio)
    progress: list[tuple[float, float]] = []
    transcriber = Transcriber(model, DecodeSettings(language="en", extra=FAST_DECODE))
    result = transcriber.transcribe_source(
        open_audio(path), lambda d, t: progress.append((d, t)), block_s=120.0
    )
    assert result.duration_s == pytest.approx(200.0)
    # only the speech (with padding) reached the model
    assert result.model_audio_s < 3 * 12 + 6
    assert result.segments, "the random model still produces segments"
    for seg in result.segments:
        assert 0 <= seg.start <= seg.end <= 200.0
        assert any(s - 0.5 <= seg.start and seg.end <= s + 12.5 for s in starts), seg
    assert [s.start for s in result.segments] == sorted(s.start for s in result.segments)
    assert progress[-1] == (pytest.approx(200.0), pytest.approx(200.0))
    assert all(b[0] >= a[0] for a, b in zip(progress, progress[1:], strict=False))


def test_any_format_is_decoded_in_windows_by_ffmpeg(tmp_path: Path) -> None:
    flac = Path(__file__).resolve().parent / "fixtures" / "jfk.flac"
    if not shutil.which("ffmpeg"):
        pytest.skip("ffmpeg is not installed")
    source = open_audio(flac)  # 44.1 kHz stereo 24-bit: not readable as 16 kHz mono
    assert type(source).__name__ == "FfmpegSource"
    assert source.duration_s == pytest.approx(11.0, abs=0.1)
    blocks = list(source.blocks(SR * 4))
    assert [len(b) for b in blocks[:-1]] == [SR * 4] * (len(blocks) - 1)
    assert sum(len(b) for b in blocks) / SR == pytest.approx(11.0, abs=0.1)
    assert max(float(np.max(np.abs(b))) for b in blocks) > 0.1


def test_a_segment_across_a_join_stays_inside_speech() -> None:
    tm = TimeMap([(SR * 10, SR * 20), (SR * 50, SR * 60)], offset_s=0.0)
    # 9.5..13 s on the joined clock: mostly in the second region
    assert tm.span_to_original(9.5, 13.0) == (pytest.approx(50.0), pytest.approx(53.0))
    # 2..10.5: mostly in the first
    assert tm.span_to_original(2.0, 10.5) == (pytest.approx(12.0), pytest.approx(20.0))
    assert tm.span_to_original(1.0, 4.0) == (pytest.approx(11.0), pytest.approx(14.0))
