"""Shared helpers for the transcription tests: a randomly initialised Whisper checkpoint
(no weights can be downloaded here), fast decode options and generated audio.

The checkpoint goes through the real ``whisper.load_model(path)``; random weights give noise
text, so the tests assert on structure (times, order, states), never on words.  A plainly
random model's choice between a word and a timestamp is a near tie that another CPU can
tip the other way (on CI it wrote no text at all), so the default checkpoint is steered to
say one word whatever it hears (see :func:`build_checkpoint`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

SR = 16_000

#: small dims for tests; n_audio_ctx must stay 1500 (30 s windows), n_mels 80
TEST_DIMS = {
    "n_mels": 80, "n_vocab": 51865, "n_audio_ctx": 1500, "n_audio_state": 64,
    "n_audio_head": 2, "n_audio_layer": 1, "n_text_ctx": 448, "n_text_state": 64,
    "n_text_head": 2, "n_text_layer": 1,
}  # fmt: skip

#: the token the default test checkpoint says: " okay" in Whisper's multilingual vocabulary
SAYS_TOKEN = 1392

#: greedy, no temperature fallback, 16 tokens per window: ~0.1 s per 30 s window
FAST_DECODE = {
    "temperature": 0.0,
    "condition_on_previous_text": False,
    "compression_ratio_threshold": None,
    "logprob_threshold": None,
    "no_speech_threshold": None,
    "sample_len": 16,
}


def build_checkpoint(
    path: Path, dims: dict[str, int] | None = None, seed: int = 0, *, sharpen: bool = False
) -> Path:
    """A random checkpoint.  Unsharpened, its decoder's last layer norm is pinned to one
    direction and the token " okay" points along it, so after the opening timestamp every
    step says " okay" by a wide margin (the 1,501 timestamps together stay far below it) on
    any CPU; the audio side, and so cross-attention and word timestamps, stays random.
    ``sharpen``: a random model repeats one token whatever it
    hears; with sharp cross-attention (queries and keys ×10, its output ×50) and random
    decoder positions its tokens follow the audio and vary from step to step (28 distinct
    tokens in 32), so that two engines agreeing on them means something."""
    import torch
    from whisper.model import ModelDimensions

    from cxfield.transcribe.random_model import random_model, save_checkpoint

    model_dims = ModelDimensions(**(dims or TEST_DIMS))
    model = random_model(model_dims, seed, positional_std=1.0 if sharpen else 0.02)
    if sharpen:
        with torch.no_grad():
            for block in model.decoder.blocks:
                assert block.cross_attn is not None
                block.cross_attn.query.weight.mul_(10)
                block.cross_attn.key.weight.mul_(10)
                block.cross_attn.out.weight.mul_(50)
    else:
        with torch.no_grad():
            direction = torch.randn(model_dims.n_text_state)
            direction /= direction.norm()
            model.decoder.ln.weight.mul_(0.05)
            model.decoder.ln.bias.copy_(direction)
            model.decoder.token_embedding.weight[SAYS_TOKEN].copy_(20 * direction)
    return save_checkpoint(model, path)


def speech_like(seconds: float, seed: int = 0) -> np.ndarray:
    """Noise shaped like speech: syllable-rate bursts in the speech band (not a clean tone,
    which WebRTC's detector may or may not call speech)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    carrier = np.sin(2 * np.pi * 180 * t) + 0.5 * np.sin(2 * np.pi * 360 * t)
    carrier += 0.3 * np.sin(2 * np.pi * 720 * t) + 0.2 * rng.normal(0, 1, n)
    envelope = 0.55 + 0.45 * np.sin(2 * np.pi * 4 * t)
    return (0.3 * carrier * envelope).astype(np.float32)


def write_wav(path: Path, samples: np.ndarray) -> Path:
    import soundfile

    soundfile.write(str(path), samples, SR, subtype="PCM_16")
    return path


def place(total_s: float, parts: list[tuple[float, np.ndarray]]) -> np.ndarray:
    """Silence of ``total_s`` seconds with each array placed at its start time."""
    out = np.zeros(int(total_s * SR), dtype=np.float32)
    for start, samples in parts:
        a = int(start * SR)
        out[a : a + len(samples)] += samples[: len(out) - a]
    return out


def session_with_recording(
    ctx: object, samples: np.ndarray, name: str = "Test study"
) -> tuple[str, str]:
    """A study, a session and a finished 16 kHz recording of ``samples``: (session, recording)."""
    from cxfield.domain.ids import new_id
    from cxfield.storage.models import Recording, ResearchSession, Study

    root: Path = ctx.paths.root  # type: ignore[attr-defined]
    rec_id = new_id()
    relative = f"recordings/{rec_id}.wav"
    (root / "recordings").mkdir(exist_ok=True)
    write_wav(root / relative, samples)
    with ctx.db.session() as db:  # type: ignore[attr-defined]
        study = Study(name=name)
        db.add(study)
        db.flush()
        session = ResearchSession(study_id=study.id)
        db.add(session)
        db.flush()
        db.add(
            Recording(
                id=rec_id, session_id=session.id, path=relative, duration_s=len(samples) / SR,
                state="complete",
            )
        )  # fmt: skip
        return session.id, rec_id


def fast_setup(ctx: object, model: str = "test") -> None:
    """Fast decoding, one torch thread, and the given model name as the default."""
    from cxfield.services import transcription

    ctx.db.set_setting(transcription.DECODE_KEY, FAST_DECODE)  # type: ignore[attr-defined]
    transcription.set_options(
        ctx.db,  # type: ignore[attr-defined]
        transcription.TranscriptionOptions(model=model, threads=1),
    )
