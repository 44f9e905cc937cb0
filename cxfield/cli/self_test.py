"""``cxfield --self-test``: does this installation (a virtual environment or the packaged
app in ``dist/cxfield/``) have every part it needs?  Each check uses the real code path
(no mocks) in a temporary folder; the first line of a failure says what is missing, and the
exit status is non-zero when any check failed.  A packaging mistake (a data file or a
library left out of the bundle) shows here, not in the field."""

from __future__ import annotations

import contextlib
import io
import math
import os
import shutil
import sys
import tempfile
import time
import traceback
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cxfield import __version__

#: a check gets its own empty folder and returns a short note of what it saw
Check = Callable[[Path], str]


@dataclass(frozen=True)
class Outcome:
    name: str
    ok: bool
    detail: str
    seconds: float


def check_migrations(folder: Path) -> str:
    """Both Alembic histories, read from files on disk (data in the bundle)."""
    from cxfield.hub.migrate import head_revision as hub_head
    from cxfield.hub.migrate import upgrade_hub
    from cxfield.storage import migrate

    result = migrate.upgrade(folder / "laptop.sqlite", folder / "backups")
    if result.to_revision != migrate.head_revision():
        raise RuntimeError(f"laptop schema ended at {result.to_revision}")
    upgrade_hub(f"sqlite:///{(folder / 'hub.sqlite').resolve()}")
    return f"laptop {result.to_revision}, hub {hub_head()}"


def write_tone(path: Path, seconds: float = 1.0, rate: int = 16000) -> Path:
    """A 440 Hz tone, 16-bit mono WAV (no numpy needed to write it)."""
    frames = bytearray()
    for i in range(int(seconds * rate)):
        value = int(8000 * math.sin(2 * math.pi * 440 * i / rate))
        frames += value.to_bytes(2, "little", signed=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    return path


def tiny_checkpoint(path: Path) -> Path:
    """A random-weight Whisper checkpoint with the smallest dimensions Whisper accepts
    (``n_audio_ctx`` must stay 1500); what the app loads for a real model."""
    from whisper.model import ModelDimensions

    from cxfield.transcribe.random_model import random_model, save_checkpoint

    dims = ModelDimensions(
        n_mels=80,
        n_audio_ctx=1500,
        n_audio_state=64,
        n_audio_head=2,
        n_audio_layer=1,
        n_vocab=51865,
        n_text_ctx=448,
        n_text_state=64,
        n_text_head=2,
        n_text_layer=1,
    )
    return save_checkpoint(random_model(dims), path)


def check_whisper(folder: Path) -> str:
    """Whisper's assets, ffmpeg, a random-weight model in the ``spawn``-ed transcription
    worker over one second of audio with word timestamps, and numba's DTW."""
    import numpy as np
    import torch
    import whisper
    from whisper.normalizers import EnglishTextNormalizer
    from whisper.timing import dtw, find_alignment

    from cxfield.transcribe.pipeline import DecodeSettings
    from cxfield.transcribe.worker import WorkerJob, run_in_worker

    filters = whisper.audio.mel_filters("cpu", 80)
    tokenizer = whisper.tokenizer.get_tokenizer(multilingual=True, language="en")
    if tokenizer.decode(tokenizer.encode("field research")) != "field research":
        raise RuntimeError("the multilingual tokenizer does not round-trip")
    if EnglishTextNormalizer()("colour") != "color":  # reads normalizers/english.json
        raise RuntimeError("the English normaliser's spellings are missing")
    wav = write_tone(folder / "tone.wav")
    audio = whisper.load_audio(str(wav))  # runs the ffmpeg binary
    if not 15000 <= len(audio) <= 17000:
        raise RuntimeError(f"ffmpeg decoded {len(audio)} samples from 1 s of audio")
    path = dtw(torch.from_numpy(np.random.default_rng(0).random((12, 9))))  # numba
    fast = {
        "temperature": 0.0,
        "condition_on_previous_text": False,
        "sample_len": 8,
        "compression_ratio_threshold": None,
        "logprob_threshold": None,
        "no_speech_threshold": None,
    }
    checkpoint = tiny_checkpoint(folder / "tiny.pt")
    # word timings as whisper computes them (cross-attention, median filter, DTW): what a
    # random model says is noise, so the words to align are given
    model = whisper.load_model(str(checkpoint), device="cpu")
    mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(audio), 80)
    timings = find_alignment(model, tokenizer, tokenizer.encode(" field research"), mel, 100)
    if [t.word for t in timings] != [" field", " research"]:
        raise RuntimeError(f"word timestamps gave {[t.word for t in timings]}")
    settings = DecodeSettings(language="en", word_timestamps=True, skip_silence=False, extra=fast)
    result = run_in_worker(WorkerJob(str(wav), str(checkpoint), settings=settings))
    return (
        f"mel filters {tuple(filters.shape)}, ffmpeg {len(audio)} samples, DTW path "
        f"{path.shape[1]} steps, words timed at {timings[0].start:.2f}/{timings[1].start:.2f}"
        f" s, spawned worker {len(result.segments)} segment(s), torch {torch.__version__}"
    )


def check_portaudio(_folder: Path) -> str:
    import sounddevice

    devices = sounddevice.query_devices()
    inputs = sum(1 for d in devices if d["max_input_channels"] > 0)
    version = str(sounddevice.get_portaudio_version()[1]).split(",")[0]
    return f"{version}; {len(devices)} device(s), {inputs} with input"


def check_pdf(folder: Path) -> str:
    """The demo study's report, through the real command, with the bundled fonts."""
    from cxfield import cli

    data, pdf = folder / "data", folder / "study.pdf"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        if cli.main(["--data-dir", str(data), "demo", "--sessions", "3"]) != 0:
            raise RuntimeError("cxfield demo failed")
    from cxfield.app import open_app
    from cxfield.services import studies

    ctx = open_app(data)
    try:
        study = studies.list_studies(ctx.db)[0].id
    finally:
        ctx.close()
    with contextlib.redirect_stdout(io.StringIO()):
        if cli.main(["--data-dir", str(data), "export", "study", study, "--pdf", str(pdf)]):
            raise RuntimeError("cxfield export study --pdf failed")
    content = pdf.read_bytes()
    if not content.startswith(b"%PDF") or b"DejaVuSans" not in content:
        raise RuntimeError("the PDF does not embed the bundled DejaVu Sans")
    return f"{len(content):,} bytes with DejaVu Sans embedded"


def check_hub(folder: Path) -> str:
    from cxfield.hub.app import create_app
    from cxfield.hub.config import HubConfig
    from cxfield.hub.migrate import upgrade_hub
    from cxfield.hub.serve import check_server

    config = HubConfig(hub_dir=folder)
    upgrade_hub(config.url)
    app = create_app(config)
    return f"{len(app.routes)} routes, {check_server(app)}"


def check_templates(_folder: Path) -> str:
    from cxfield.resources import resource_path

    names = sorted(p.name for p in resource_path("templates").glob("*.json"))
    if not names:
        raise RuntimeError(f"no study templates in {resource_path('templates')}")
    return ", ".join(names)


def check_redaction(_folder: Path) -> str:
    """Presidio on blank spaCy pipelines, with cxfield's recognizers (nothing downloaded)."""
    from cxfield.privacy.detect import Detector
    from cxfield.privacy.kinds import Kind

    spans = Detector().scan("My social is 123-45-6789 and my phone is (202) 555-0143.")
    kinds = {span.kind for span in spans}
    if not {Kind.SSN, Kind.PHONE} <= kinds:
        raise RuntimeError(
            f"the detectors found {sorted(k.value for k in kinds)}, not SSN and phone"
        )
    return f"{len(spans)} personal details found in a test sentence"


def check_encryption(folder: Path) -> str:
    """A study key behind a passphrase (Argon2id), a sealed text, a recording sealed at rest."""
    from cxfield.privacy import at_rest, keys, sealing

    locked = keys.create_study_key("self-test", "a long self-test passphrase")
    private = keys.unlock(locked, "a long self-test passphrase")
    sealed = sealing.seal_text(locked.public_key, locked.key_id, "field research")
    if sealing.open_text(private, sealed) != "field research":
        raise RuntimeError("a sealed text does not open with its key")
    tone = write_tone(folder / "tone.wav")
    preamble, file_key = at_rest.study_preamble(locked.public_key, locked.key_id)
    at_rest.encrypt_file(tone, folder / "tone.sealed", preamble, file_key)
    return "sealed text and audio (PyNaCl, AES-GCM)"


def check_ctranslate2(_folder: Path) -> str:
    """The faster engine's libraries (faster-whisper, CTranslate2 with int8 on this CPU)."""
    import ctranslate2
    import faster_whisper

    types = ctranslate2.get_supported_compute_types("cpu")
    if "int8" not in types:
        raise RuntimeError(f"CTranslate2 offers no int8 on this CPU (only {sorted(types)})")
    return f"faster-whisper {faster_whisper.__version__}, CTranslate2 {ctranslate2.__version__}"


def check_speakers(_folder: Path) -> str:
    """Speaker suggestions: resemblyzer's encoder weights and the clustering library."""
    import numpy as np
    from sklearn.cluster import SpectralClustering  # noqa: F401 - bundled, not just imported

    from cxfield.transcribe import speakers

    t = np.arange(32000, dtype=np.float32) / 16000
    vector = speakers.embed((0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32))
    if vector.shape[-1] != 256 or not np.isfinite(vector).all():
        raise RuntimeError(f"the voice encoder gave an embedding of shape {vector.shape}")
    return "voice embedding of 256 values"


CHECKS: list[tuple[str, Check]] = [
    ("migrations", check_migrations),
    ("templates", check_templates),
    ("PortAudio", check_portaudio),
    ("PDF", check_pdf),
    ("hub", check_hub),
    ("encryption", check_encryption),
    ("redaction", check_redaction),
    ("whisper", check_whisper),
    ("ctranslate2", check_ctranslate2),
    ("speakers", check_speakers),
]


def run_checks(checks: list[tuple[str, Check]]) -> list[Outcome]:
    outcomes = []
    for name, check in checks:
        folder = Path(tempfile.mkdtemp(prefix=f"cxfield-self-test-{name.lower()}-"))
        start = time.monotonic()
        try:
            outcomes.append(Outcome(name, True, check(folder), time.monotonic() - start))
        except BaseException as exc:  # noqa: BLE001 - a check may fail in any way
            if isinstance(exc, KeyboardInterrupt):
                raise
            reason = f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
            if os.environ.get("CXFIELD_SELF_TEST_TRACEBACK"):
                traceback.print_exc()
            outcomes.append(Outcome(name, False, reason, time.monotonic() - start))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return outcomes


def main(window_check: Check | None) -> int:
    """Run every check, print one line each, return 0 only when all passed."""
    checks = list(CHECKS)
    if window_check is None:
        checks.insert(0, ("main window", _no_gui))
    else:
        checks.insert(0, ("main window", window_check))
    frozen = "packaged" if getattr(sys, "frozen", False) else "from source"
    print(f"cxfield {__version__} self-test ({frozen}, Python {sys.version.split()[0]})")
    outcomes = run_checks(checks)
    for o in outcomes:
        print(f"  {'ok  ' if o.ok else 'FAIL'} {o.name:<12} {o.seconds:5.1f} s  {o.detail}")
    failed = [o.name for o in outcomes if not o.ok]
    if failed:
        print(f"cxfield: self-test failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    print("cxfield: self-test passed")
    return 0


def _no_gui(_folder: Path) -> str:
    raise RuntimeError("PySide6 cannot be imported")
