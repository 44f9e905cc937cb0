"""The two speech-to-text engines behind one small interface.

``openai-whisper`` (the default) runs a ``.pt`` checkpoint with PyTorch; ``ctranslate2``
runs a CTranslate2 model folder with faster-whisper (int8 on the CPU by default, 3-4×
less memory).  The pipeline (:mod:`pipeline`) does everything else the same way for both:
silence skipping, times on the recording's clock, transcription while recording, word
times, progress, cancel and the worker process.  An engine only turns one stretch of 16 kHz
audio into whisper-style segments (``{"start", "end", "text", "tokens", "words"}``, times
from the start of the stretch) and reports the share of it done.

faster-whisper reaches for the Hugging Face hub when a model folder lacks
``tokenizer.json`` or when given a model name: cxfield only ever gives it a checked local
folder that has one, loads it with ``local_files_only``, and switches the hub library
offline (``HF_HUB_OFFLINE=1``) before it is imported.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from cxfield.domain.errors import ValidationError
from cxfield.transcribe.model_store import ModelError

if TYPE_CHECKING:
    from cxfield.transcribe.pipeline import DecodeSettings

OPENAI_WHISPER = "openai-whisper"
CTRANSLATE2 = "ctranslate2"
ENGINES = (OPENAI_WHISPER, CTRANSLATE2)
COMPUTE_TYPES = ("int8", "float32")

WindowFn = Callable[[float], None]

#: whisper.transcribe options → faster-whisper's names (None: dropped, CPU only)
_CT2_NAMES: dict[str, str | None] = {
    "fp16": None,
    "logprob_threshold": "log_prob_threshold",
    "temperature": "temperature",
    "beam_size": "beam_size",
    "best_of": "best_of",
    "patience": "patience",
    "length_penalty": "length_penalty",
    "compression_ratio_threshold": "compression_ratio_threshold",
    "no_speech_threshold": "no_speech_threshold",
    "condition_on_previous_text": "condition_on_previous_text",
    "initial_prompt": "initial_prompt",
    "prefix": "prefix",
    "suppress_tokens": "suppress_tokens",
    "suppress_blank": "suppress_blank",
    "without_timestamps": "without_timestamps",
    "max_initial_timestamp": "max_initial_timestamp",
    "prepend_punctuations": "prepend_punctuations",
    "append_punctuations": "append_punctuations",
    "clip_timestamps": "clip_timestamps",
    "hallucination_silence_threshold": "hallucination_silence_threshold",
    "language": "language",
    "task": "task",
    "word_timestamps": "word_timestamps",
}


def check_engine(name: str) -> str:
    if name not in ENGINES:
        raise ValidationError(f"Unknown engine {name!r}; use {' or '.join(ENGINES)}.")
    return name


class Engine(Protocol):
    name: str

    def transcribe(
        self, audio: np.ndarray, settings: DecodeSettings, language: str | None,
        on_window: WindowFn | None,
    ) -> dict[str, Any]:  # fmt: skip
        """Whisper-style result of one stretch: ``segments`` and ``language``."""
        ...


class OpenAIWhisperEngine:
    name = OPENAI_WHISPER

    def __init__(self, model: Any) -> None:
        self.model = model

    def transcribe(
        self, audio: np.ndarray, settings: DecodeSettings, language: str | None,
        on_window: WindowFn | None,
    ) -> dict[str, Any]:  # fmt: skip
        import whisper

        kwargs = settings.whisper_kwargs()
        kwargs["language"] = language
        # verbose=False switches on whisper's per-window bar, which is intercepted
        with (
            _bar_to(on_window, "whisper.transcribe", nested=True),
            contextlib.redirect_stdout(io.StringIO()),
        ):
            result: dict[str, Any] = whisper.transcribe(
                self.model, audio.astype(np.float32), verbose=False, **kwargs
            )
        return result


class CTranslate2Engine:
    name = CTRANSLATE2

    def __init__(self, model: Any) -> None:
        self.model = model

    def transcribe(
        self, audio: np.ndarray, settings: DecodeSettings, language: str | None,
        on_window: WindowFn | None,
    ) -> dict[str, Any]:  # fmt: skip
        kwargs = ct2_options(settings, language, self.model.model.is_multilingual)
        segments = []
        with _bar_to(on_window, "faster_whisper.transcribe", nested=False):
            found, info = self.model.transcribe(audio.astype(np.float32), **kwargs)
            for seg in found:  # a generator: the model runs while it is read
                words = None
                if seg.words is not None:
                    words = [
                        {"word": w.word, "start": w.start, "end": w.end,
                         "probability": w.probability}
                        for w in seg.words
                    ]  # fmt: skip
                segments.append(
                    {"start": seg.start, "end": seg.end, "text": seg.text,
                     "tokens": list(seg.tokens), "words": words}
                )  # fmt: skip
        return {"segments": segments, "language": info.language}


def ct2_options(
    settings: DecodeSettings, language: str | None, multilingual: bool
) -> dict[str, Any]:
    """``whisper.transcribe`` options in faster-whisper's terms, with whisper's defaults
    where the two differ (greedy search unless a beam is asked for)."""
    options: dict[str, Any] = {"beam_size": 1}
    source = settings.whisper_kwargs()
    source["language"] = language
    sample_len = source.pop("sample_len", None)
    for key, value in source.items():
        if key not in _CT2_NAMES:
            raise ValidationError(
                f"The decoding option {key!r} has no equivalent in the ctranslate2 engine; "
                "remove it from transcription.decode_options or use openai-whisper."
            )
        target = _CT2_NAMES[key]
        if target is None or (value is None and key in ("beam_size", "patience", "best_of")):
            continue
        if key == "suppress_tokens" and isinstance(value, str):
            value = [int(t) for t in value.split(",") if t.strip()]
        if key == "length_penalty" and value is None:
            continue
        options[target] = value
    if sample_len is not None:
        # CTranslate2 generates min(limit / 2, limit - prompt) tokens; whisper's sample_len
        # counts new tokens: with the start-of-transcript prompt alone these agree exactly
        prompt = (3 if multilingual else 1) + int(bool(options.get("without_timestamps")))
        options["max_new_tokens"] = max(int(sample_len), 2 * int(sample_len) - prompt)
    return options


def load_engine(
    engine: str,
    model_path: str,
    official_name: str | None = None,
    threads: int = 1,
    compute_type: str = "int8",
) -> Engine:
    """Load a model for one engine, with one-line messages for unusable models."""
    check_engine(engine)
    if engine == OPENAI_WHISPER:
        return OpenAIWhisperEngine(load_whisper(model_path, official_name))
    return CTranslate2Engine(load_faster_whisper(Path(model_path), threads, compute_type))


def load_whisper(model_path: str, official_name: str | None = None) -> Any:
    """``whisper.load_model`` on a file, with one-line messages for unusable files."""
    import whisper

    if not Path(model_path).is_file():
        raise ModelError(f"Model file {model_path} does not exist.")
    try:
        model = whisper.load_model(model_path, device="cpu")
    except Exception as exc:  # torch/zipfile raise many types for corrupt files
        raise ModelError(
            f"Cannot load the model {Path(model_path).name}: the file is corrupt, truncated "
            f"or not a Whisper checkpoint ({type(exc).__name__}). Import it again with "
            "`cxfield models import PATH`."
        ) from exc
    if official_name and official_name in whisper._ALIGNMENT_HEADS:
        # word timings use the heads OpenAI measured for the official checkpoints
        model.set_alignment_heads(whisper._ALIGNMENT_HEADS[official_name])
    return model


def hub_offline() -> None:
    """Keep huggingface_hub (under faster-whisper and transformers) off the network; it
    reads these once, when first imported."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def load_faster_whisper(folder: Path, threads: int, compute_type: str) -> Any:
    """A faster-whisper model from a local CTranslate2 folder (never a name, never the
    hub: a folder without ``tokenizer.json`` is refused before faster-whisper sees it)."""
    from cxfield.transcribe.ct2_models import check_folder_files

    if compute_type not in COMPUTE_TYPES:
        raise ValidationError(
            f"Unknown compute type {compute_type!r}; use {' or '.join(COMPUTE_TYPES)}."
        )
    check_folder_files(folder)
    hub_offline()
    try:
        from faster_whisper import WhisperModel
    except ImportError as exc:
        raise ModelError(
            "The ctranslate2 engine needs faster-whisper: install cxfield's 'fast' extra "
            "(`pip install -e .[fast]`), or choose the openai-whisper engine."
        ) from exc
    try:
        return WhisperModel(
            str(folder), device="cpu", compute_type=compute_type, cpu_threads=max(1, threads),
            num_workers=1, local_files_only=True,
        )  # fmt: skip
    except Exception as exc:  # CTranslate2 raises RuntimeError/ValueError for bad files
        raise ModelError(
            f"Cannot load the CTranslate2 model {folder.name}: {str(exc).splitlines()[0]}. "
            "Import the folder again with `cxfield models import DIR`."
        ) from exc


@contextlib.contextmanager
def _bar_to(on_window: WindowFn | None, module_name: str, *, nested: bool) -> Iterator[None]:
    """Route a library's tqdm bar to ``on_window`` (share of the stretch done).

    Neither library has a progress callback; the module's ``tqdm`` name is swapped for the
    duration of one call (whisper uses ``tqdm.tqdm``, faster-whisper ``tqdm``).  Only one
    transcription runs per worker process."""
    module = sys.modules.get(module_name)
    if module is None:
        yield
        return
    original = getattr(module, "tqdm")  # noqa: B009
    # also without a listener: a library's own bar must not print on the app's stderr
    report: WindowFn = on_window or (lambda _share: None)

    class _Bar:
        def __init__(self, total: float = 0, **_: Any) -> None:
            self.total = max(float(total or 0), 1e-9)
            self.n = 0.0

        def __enter__(self) -> _Bar:
            return self

        def __exit__(self, *_: object) -> None:
            return None

        def update(self, n: float) -> None:
            self.n += n
            report(min(self.n / self.total, 1.0))

        def close(self) -> None:
            return None

    setattr(module, "tqdm", types.SimpleNamespace(tqdm=_Bar) if nested else _Bar)  # noqa: B010
    try:
        yield
    finally:
        setattr(module, "tqdm", original)  # noqa: B010
