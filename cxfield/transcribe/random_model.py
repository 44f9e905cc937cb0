"""Random-weight Whisper models, for the packaged app's self-test, the benchmarks and the
tests (no weights can be downloaded here), saved as real ``.pt`` checkpoints that go
through ``whisper.load_model(path)``.

Whisper leaves its decoder's positional embedding uninitialised (``torch.empty``): a model
built as is holds whatever the memory held, so the same seed gave tokens on one run and an
empty transcript on the next, depending on what the process had allocated before.  Every
random model is built here, with that embedding drawn from the seed like everything else.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from whisper.model import ModelDimensions, Whisper


def random_model(dims: ModelDimensions, seed: int = 0, positional_std: float = 0.02) -> Whisper:
    """A Whisper model of ``dims`` whose every weight follows from ``seed``; the decoder's
    positions are drawn with ``positional_std``."""
    import torch
    from whisper.model import Whisper

    torch.manual_seed(seed)
    model = Whisper(dims)
    with torch.no_grad():
        model.decoder.positional_embedding.normal_(0, positional_std)
    return model


def save_checkpoint(model: Whisper, path: Path) -> Path:
    """Write ``model`` as openai-whisper writes its checkpoints: dims and state dict."""
    import torch

    torch.save(
        {"dims": dataclasses.asdict(model.dims), "model_state_dict": model.state_dict()}, path
    )
    return path
