"""The two engines side by side on the same weights (not timed tests).

1. Per 30 s window: time and peak memory (RSS of a fresh process) of openai-whisper (fp32)
   and CTranslate2 (fp32 and int8), with 1 and 2 threads, as ratios against openai-whisper
   with the same threads;
2. End to end: cxfield's pipeline in the worker process (silence skipping on) on
   interview-like audio, ctranslate2 int8 ÷ openai-whisper.

No weights can be downloaded here: a random checkpoint with real dimensions (``--dims tiny``
by default, ``base`` or ``small`` for bigger ones) is converted once with cxfield's own
converter, so both engines run identical weights; greedy decoding of ``--tokens`` tokens per
window without temperature fallback, so every window costs about the same.  Speech is
espeak-ng.  Usage::

    .venv/bin/python benchmarks/bench_engines.py [--dims tiny|base|small] [--windows 4]
        [--tokens 64] [--lines 40] [--skip-end-to-end]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cxfield.transcribe.ct2_convert import convert_checkpoint  # noqa: E402
from cxfield.transcribe.pipeline import DecodeSettings  # noqa: E402
from cxfield.transcribe.worker import WorkerJob, run_in_worker  # noqa: E402
from tests.speech_support import INTERVIEW, espeak  # noqa: E402

SR = 16_000
DIMS = {
    # tests/test_benchmarks.py runs the whole benchmark on these, to see that it prints
    "test": dict(n_audio_state=64, n_audio_head=2, n_audio_layer=1, n_text_state=64,
                 n_text_head=2, n_text_layer=1),
    "tiny": dict(n_audio_state=384, n_audio_head=6, n_audio_layer=4, n_text_state=384,
                 n_text_head=6, n_text_layer=4),
    "base": dict(n_audio_state=512, n_audio_head=8, n_audio_layer=6, n_text_state=512,
                 n_text_head=8, n_text_layer=6),
    "small": dict(n_audio_state=768, n_audio_head=12, n_audio_layer=12, n_text_state=768,
                  n_text_head=12, n_text_layer=12),
}  # fmt: skip


def fast(tokens: int) -> dict[str, Any]:
    return dict(
        temperature=0.0, condition_on_previous_text=False, compression_ratio_threshold=None,
        logprob_threshold=None, no_speech_threshold=None, sample_len=tokens,
    )  # fmt: skip


def build(dims_name: str, folder: Path) -> tuple[Path, Path]:
    from whisper.model import ModelDimensions

    from cxfield.transcribe.random_model import random_model, save_checkpoint

    dims = ModelDimensions(n_mels=80, n_vocab=51865, n_audio_ctx=1500, n_text_ctx=448,
                           **DIMS[dims_name])  # fmt: skip
    checkpoint = save_checkpoint(random_model(dims), folder / f"{dims_name}.pt")
    return checkpoint, convert_checkpoint(checkpoint, folder / f"{dims_name}.ct2")


def speech(seconds: float) -> np.ndarray:
    parts, total = [], 0
    voices = ("en-US+m3", "en-US+f3")
    i = 0
    while total < seconds * SR:
        line = espeak(INTERVIEW[i % len(INTERVIEW)], voices[i % 2])
        parts.append(line)
        total += len(line)
        i += 1
    return np.concatenate(parts)[: int(seconds * SR)]


def _peak_rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _window_run(args: tuple[str, str, str, int, int, str, Any]) -> tuple[float, float, int]:
    """In a fresh process: load one engine, transcribe the windows, report per-window time,
    peak RSS and the tokens made (to be sure both engines did the same work)."""
    engine_name, model, compute_type, threads, tokens, audio_path, _ = args
    os.environ["OMP_NUM_THREADS"] = str(threads)
    from cxfield.transcribe.engines import load_engine
    from cxfield.transcribe.worker import configure_process

    configure_process(threads, 0, engine_name)
    engine = load_engine(engine_name, model, None, threads, compute_type)
    audio = np.load(audio_path)
    settings = DecodeSettings(language="en", skip_silence=False, extra=fast(tokens))
    engine.transcribe(audio[: 30 * SR], settings, "en", None)  # warm-up window
    started = time.perf_counter()
    result = engine.transcribe(audio, settings, "en", None)
    windows = len(audio) / (30 * SR)
    made = sum(len(s["tokens"]) for s in result["segments"])
    return (time.perf_counter() - started) / windows, _peak_rss_mb(), made


def per_window(checkpoint: Path, folder: Path, audio_path: str, tokens: int) -> None:
    mp = multiprocessing.get_context("spawn")
    print(f"{'engine':28s} {'threads':>7s} {'s/window':>9s} {'×speed':>7s} {'peak MB':>8s} "
          f"{'÷memory':>8s} {'tokens':>6s}")  # fmt: skip
    for threads in (1, 2):
        rows = [
            ("openai-whisper fp32", "openai-whisper", str(checkpoint), "float32"),
            ("ctranslate2 fp32", "ctranslate2", str(folder), "float32"),
            ("ctranslate2 int8", "ctranslate2", str(folder), "int8"),
        ]
        base_time = base_mem = 0.0
        for label, engine, model, compute in rows:
            with mp.Pool(1) as pool:
                seconds, peak, made = pool.map(
                    _window_run, [(engine, model, compute, threads, tokens, audio_path, None)]
                )[0]
            if engine == "openai-whisper":
                base_time, base_mem = seconds, peak
            print(f"{label:28s} {threads:7d} {seconds:9.2f} {base_time / seconds:7.2f} "
                  f"{peak:8.0f} {base_mem / peak:8.2f} {made:6d}")  # fmt: skip


def end_to_end(checkpoint: Path, folder: Path, tmp: Path, tokens: int, lines: int = 40) -> None:
    """Interview-like: ``lines`` lines of speech with pauses of 2-8 s, about half silent."""
    import soundfile

    rng = np.random.default_rng(0)
    parts = []
    for i in range(lines):
        parts.append(espeak(INTERVIEW[i % len(INTERVIEW)], ("en-US+m3", "en-US+f3")[i % 2]))
        parts.append(np.zeros(int(rng.uniform(2, 8) * SR), dtype=np.float32))
    audio = np.concatenate(parts)
    path = tmp / "interview.wav"
    soundfile.write(str(path), audio, SR, subtype="PCM_16")
    settings = DecodeSettings(language="en", extra=fast(tokens))
    times = {}
    for label, engine, model, compute in (
        ("openai-whisper", "openai-whisper", checkpoint, "float32"),
        ("ctranslate2 int8", "ctranslate2", folder, "int8"),
    ):
        job = WorkerJob(str(path), str(model), None, settings, threads=1, engine=engine,
                        compute_type=compute)  # fmt: skip
        started = time.perf_counter()
        result = run_in_worker(job)
        times[label] = time.perf_counter() - started
        seen, count = result.model_audio_s, len(result.segments)
        print(f"end to end, {label:17s}: {times[label]:6.1f} s for {len(audio) / SR:.0f} s "
              f"(model saw {seen:.0f} s, {count} segments)")  # fmt: skip
    ratio = times["ctranslate2 int8"] / times["openai-whisper"]
    print(f"end to end ratio ctranslate2 int8 ÷ openai-whisper: {ratio:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dims", choices=DIMS, default="tiny")
    parser.add_argument("--windows", type=int, default=4)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--skip-end-to-end", action="store_true")
    parser.add_argument("--lines", type=int, default=40, help="interview lines end to end")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        started = time.perf_counter()
        checkpoint, folder = build(args.dims, tmp)
        print(f"{args.dims} dims: checkpoint and CTranslate2 folder built in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        audio_path = str(tmp / "speech.npy")
        np.save(audio_path, speech(30 * args.windows))
        per_window(checkpoint, folder, audio_path, args.tokens)
        if not args.skip_end_to_end:
            end_to_end(checkpoint, folder, tmp, args.tokens, args.lines)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
