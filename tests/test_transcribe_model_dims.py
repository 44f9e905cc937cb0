"""A checkpoint whose dimensions do not fit its weights (or that whisper cannot run) is
refused at `models import` / `models verify`; `transcribe --session --model BAD` fails once,
with one line, before any job is queued; a model that fails to load in the worker stops the
command after the first recording instead of loading it again for each."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from cxfield.app import open_app
from cxfield.domain.errors import ValidationError
from cxfield.services import transcription
from cxfield.storage.models import Recording
from cxfield.transcribe.model_store import ModelStore
from tests.test_cli import run
from tests.transcribe_support import (
    SR,
    TEST_DIMS,
    fast_setup,
    place,
    session_with_recording,
    speech_like,
    write_wav,
)


def _checkpoint(path: Path, dims: dict[str, int], weights_of: dict[str, int] | None = None) -> Path:
    """A checkpoint saying ``dims`` with the weights of a model of ``weights_of``."""
    import torch
    from whisper.model import ModelDimensions

    from cxfield.transcribe.random_model import random_model

    model = random_model(ModelDimensions(**(weights_of or dims)))
    stated = dataclasses.asdict(ModelDimensions(**dims))
    torch.save({"dims": stated, "model_state_dict": model.state_dict()}, path)
    return path


def _dims(**changes: int) -> dict[str, int]:
    return {**TEST_DIMS, **changes}


MISMATCHED: dict[str, tuple[dict[str, int], dict[str, int] | None, str]] = {
    # says one decoder layer, carries two: whisper's strict load would call it corrupt
    "extra layer": (_dims(n_text_layer=1), _dims(n_text_layer=2), "do not match its weights"),
    "missing layer": (_dims(n_audio_layer=2), _dims(n_audio_layer=1), "do not match its weights"),
    "wider state": (_dims(n_text_state=128), _dims(), "do not match its weights"),
    # weights fit these dims, but whisper cannot run them
    "heads do not divide": (_dims(n_audio_head=3), None, "does not divide"),
    "audio context": (_dims(n_audio_ctx=1000), None, "n_audio_ctx is 1000"),
    "vocabulary": (_dims(n_vocab=1000), None, "n_vocab is 1000"),
    "mel bands": (_dims(n_mels=40), None, "n_mels is 40"),
}


@pytest.fixture(scope="module")
def bad_checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bad-models")
    return {
        name: _checkpoint(folder / f"{name.replace(' ', '-')}.pt", dims, weights)
        for name, (dims, weights, _message) in MISMATCHED.items()
    }


@pytest.mark.parametrize("case", MISMATCHED)
def test_import_refuses_dims_that_do_not_fit(
    tmp_path: Path, bad_checkpoints: dict[str, Path], case: str
) -> None:
    store = ModelStore(tmp_path / "models")
    with pytest.raises(ValidationError, match=MISMATCHED[case][2]):
        store.import_file(bad_checkpoints[case], "mine")
    assert not (tmp_path / "models").exists() or list((tmp_path / "models").iterdir()) == []


def test_verify_finds_a_swapped_file(
    tmp_path: Path, whisper_checkpoint: Path, bad_checkpoints: dict[str, Path]
) -> None:
    store = ModelStore(tmp_path / "models")
    store.import_file(whisper_checkpoint, "mine")
    (store.root / "mine.pt").write_bytes(bad_checkpoints["extra layer"].read_bytes())
    with pytest.raises(ValidationError, match="do not match its weights"):
        store.verify("mine")
    assert not store.get("mine").verified
    assert "do not match its weights" in store.get("mine").problem


def _session_with_two_recordings(data_dir: Path, whisper_checkpoint: Path) -> str:
    ctx = open_app(data_dir)
    try:
        ModelStore(ctx.paths.models).import_file(whisper_checkpoint, "test")
        fast_setup(ctx)
        session_id, _ = session_with_recording(ctx, place(5, [(1.0, speech_like(3.0))]))
        second = ctx.paths.recordings / "second.wav"
        write_wav(second, place(5, [(0.5, speech_like(3.0, 2))]))
        with ctx.db.session() as db:
            db.add(Recording(session_id=session_id, path="recordings/second.wav",
                             duration_s=5.0, sample_rate=SR, state="complete"))  # fmt: skip
        return session_id
    finally:
        ctx.close()


def _jobs(data_dir: Path) -> list[Any]:
    ctx = open_app(data_dir)
    try:
        return transcription.list_jobs(ctx.db)
    finally:
        ctx.close()


def test_transcribe_session_with_a_bad_model_fails_once_before_queueing(
    data_dir: Path, whisper_checkpoint: Path, bad_checkpoints: dict[str, Path]
) -> None:
    session_id = _session_with_two_recordings(data_dir, whisper_checkpoint)
    bad = bad_checkpoints["extra layer"]
    result = run("transcribe", "--session", session_id, "--model", str(bad), data_dir=data_dir)
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert re.fullmatch(
        r"cxfield: error: extra-layer\.pt is not a usable Whisper checkpoint: its dimensions "
        r"do not match its weights \(0 weights missing, [1-9]\d* not in a model of these "
        r"dimensions, 0 of the wrong shape\)\.",
        line,
    ), line
    assert _jobs(data_dir) == []  # nothing queued, nothing failed


@pytest.mark.timeout(240)
def test_a_model_that_fails_to_load_is_loaded_once_per_command(
    data_dir: Path, whisper_checkpoint: Path
) -> None:
    """An installed, verified model damaged later without changing its size: the check
    trusts it, the worker cannot load it; the second recording is not tried."""
    session_id = _session_with_two_recordings(data_dir, whisper_checkpoint)
    installed = data_dir / "models" / "test.pt"
    with installed.open("r+b") as handle:
        handle.write(b"\0" * 4096)  # same size: still "verified" by its metadata
    result = run("transcribe", "--session", session_id, data_dir=data_dir)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("cxfield: error")]
    assert len(errors) == 1 and "Cannot load the model test.pt" in errors[0], result.stderr
    assert "Traceback" not in result.stderr
    states = sorted(job.state for job in _jobs(data_dir))
    assert states == ["cancelled", "failed"]
