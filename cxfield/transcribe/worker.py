"""Transcription in a child process.

Cancelling PyTorch mid-inference is only reliable by ending the process, and a model that
crashes (out of memory, a bad checkpoint, a native fault) must not take the app down; so the
model runs in a ``spawn``-ed child that reports over a pipe.  The parent side is a plain loop
with callbacks (progress, cancel check, heartbeat) for the services and the GUI adapter.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from cxfield.domain.errors import CxfieldError
from cxfield.transcribe.audio_source import AudioSource
from cxfield.transcribe.engines import (
    CTRANSLATE2,
    OPENAI_WHISPER,
    hub_offline,
    load_engine,
    load_whisper,
)
from cxfield.transcribe.model_store import ModelError
from cxfield.transcribe.pipeline import (
    Cancelled,
    DecodeSettings,
    ProgressFn,
    Transcriber,
    TranscriptResult,
)
from cxfield.transcribe.speakers import SpeakerSettings

PROGRESS_EVERY_S = 0.25


class WorkerFailed(CxfieldError):
    """The child reported an error or died; the message is for the user."""


class ModelUnusable(WorkerFailed):
    """The child could not load the model: every job with this model would fail the same
    way, so a queue stops instead of trying (and loading) it again for each recording."""


def default_threads() -> int:
    """Leave one core for the GUI and the recorder; torch gains little past 8 threads."""
    return max(1, min(8, (os.cpu_count() or 2) - 1))


@dataclass
class WorkerJob:
    audio_path: str
    model_path: str
    official_name: str | None = None
    settings: DecodeSettings = field(default_factory=DecodeSettings)
    threads: int = 1
    #: added niceness of the child (batch work yields to the GUI and the recorder)
    nice: int = 5
    #: openai-whisper (a .pt file) or ctranslate2 (a model folder)
    engine: str = OPENAI_WHISPER
    #: the ctranslate2 engine's arithmetic (int8 or float32)
    compute_type: str = "int8"
    #: suggest speaker turns after transcribing (None: no speaker labels)
    speakers: SpeakerSettings | None = None
    #: the laptop key, for a recording encrypted at rest (the child has no keyring access)
    laptop_key: bytes | None = field(default=None, repr=False)


def load_model(model_path: str, official_name: str | None = None) -> Any:
    """``whisper.load_model`` on a file, with one-line messages for unusable files."""
    return load_whisper(model_path, official_name)


def configure_process(threads: int, nice: int, engine: str = OPENAI_WHISPER) -> None:
    """Priority and threads of a worker child.  The ctranslate2 engine takes its threads
    when its model is loaded and never imports torch (which costs memory)."""
    if nice:
        with contextlib.suppress(OSError):  # not permitted here: run at normal priority
            os.nice(nice)
    if engine == CTRANSLATE2:
        hub_offline()
        return
    import torch

    torch.set_num_threads(max(1, threads))
    with contextlib.suppress(RuntimeError):  # already set once in this process
        torch.set_num_interop_threads(1)


def watch_parent() -> None:
    """End this child when its parent dies (a killed app must not leave it running)."""
    parent = os.getppid()

    def _watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=_watch, name="parent-watch", daemon=True).start()


def ignore_terminal_signals() -> None:
    """In a child process: leave Ctrl-C and hang-up to the parent (see the callers)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_IGN)


def _child_main(job: WorkerJob, conn: Connection) -> None:
    # Ctrl-C (or a closed terminal's SIGHUP) reaches the whole process group: the parent
    # decides what it means (cancel, give back) and ends this child itself, instead of the
    # child dying of it first with a traceback (and the job being taken for failed)
    ignore_terminal_signals()
    watch_parent()
    last = 0.0

    def progress(done: float, total: float) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= PROGRESS_EVERY_S or done >= total:
            last = now
            conn.send(("progress", done, total))

    try:
        configure_process(job.threads, job.nice, job.engine)
        from cxfield.transcribe.audio_source import open_audio

        if job.laptop_key is not None:
            from cxfield.audio.encrypted import use_laptop_key

            use_laptop_key(job.laptop_key, Path(job.audio_path).parent)

        conn.send(("stage", "loading model"))
        engine = load_engine(
            job.engine, job.model_path, job.official_name, job.threads, job.compute_type
        )
        source = open_audio(Path(job.audio_path))
        conn.send(("stage", "transcribing"))
        result = Transcriber(engine, job.settings).transcribe_source(source, progress)
        if job.speakers is not None:
            conn.send(("stage", "suggesting speakers"))
            add_speaker_turns(result, source, job.speakers)
        conn.send(("done", result))
    except ModelError as exc:
        conn.send(("model-error", str(exc), ""))
    except CxfieldError as exc:
        conn.send(("error", str(exc), ""))
    except MemoryError:
        conn.send(("error", "Not enough memory for this model; choose a smaller one.", ""))
    except Exception as exc:
        conn.send(("error", f"Transcription failed: {type(exc).__name__}: {exc}", _tb()))
    finally:
        conn.close()


def add_speaker_turns(
    result: TranscriptResult, source: AudioSource, settings: SpeakerSettings
) -> None:
    """Speaker turns for a finished transcript; a failure here costs the suggestions only."""
    from cxfield.transcribe.speakers import diarize_source

    try:
        found = diarize_source(source, settings)
    except (ImportError, ValueError, RuntimeError, OSError):
        return  # no resemblyzer installed, or audio it cannot read: no suggestions
    result.turns, result.interviewer_by = found.turns, found.interviewer_by


def _tb() -> str:
    return traceback.format_exc()


def run_in_worker(
    job: WorkerJob,
    on_progress: ProgressFn | None = None,
    should_cancel: Callable[[], bool] | None = None,
    on_tick: Callable[[], None] | None = None,
    on_stage: Callable[[str], None] | None = None,
    poll_s: float = 0.1,
) -> TranscriptResult:
    """Run one transcription in a child process and wait for it.

    Raises :class:`Cancelled` (child terminated at once) when ``should_cancel`` returns
    True, :class:`WorkerFailed` when the child reports an error or dies."""
    mp = multiprocessing.get_context("spawn")
    parent_conn, child_conn = mp.Pipe(duplex=False)
    process = mp.Process(target=_child_main, args=(job, child_conn), daemon=True)
    process.start()
    child_conn.close()
    try:
        while True:
            if should_cancel is not None and should_cancel():
                raise Cancelled()
            if on_tick is not None:
                on_tick()
            if parent_conn.poll(poll_s):
                try:
                    message = parent_conn.recv()
                except EOFError:
                    message = None
                if message is None:
                    raise WorkerFailed(_died(process))
                kind = message[0]
                if kind == "progress" and on_progress is not None:
                    on_progress(message[1], message[2])
                elif kind == "stage" and on_stage is not None:
                    on_stage(message[1])
                elif kind == "done":
                    result: TranscriptResult = message[1]
                    return result
                elif kind == "model-error":
                    raise ModelUnusable(message[1])
                elif kind == "error":
                    raise WorkerFailed(message[1])
            elif not process.is_alive() and not parent_conn.poll(0):
                raise WorkerFailed(_died(process))
    finally:
        stop_process(process)
        parent_conn.close()


def stop_process(process: Any, grace_s: float = 2.0) -> None:
    """Terminate a child (SIGTERM, then SIGKILL) and reap it."""
    if process.is_alive():
        process.terminate()
        process.join(grace_s)
        if process.is_alive():
            process.kill()
    process.join(grace_s)


def _died(process: Any) -> str:
    process.join(1.0)
    code = process.exitcode
    return (
        f"The transcription process stopped unexpectedly (exit code {code}); "
        "the model may be too large for this computer's memory."
    )
