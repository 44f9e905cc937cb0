"""`cxfield transcribe (--session ID | FILE | --queue) ...`"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cxfield.app import AppContext
from cxfield.cli.common import STOP_SIGNALS, command, status
from cxfield.domain.errors import CxfieldError, ValidationError
from cxfield.transcribe import export

if TYPE_CHECKING:
    from cxfield.services.transcription import TranscriptionOptions

#: a job's message when SIGTERM (a shutdown, a service manager) stops `transcribe` mid-job
STOPPED_WHILE_RUNNING = (
    "Stopped while this was being transcribed; it starts again with "
    "`cxfield transcribe --queue` or at the app's next start."
)
#: exit status after SIGTERM (128 + 15, as when the signal ends a process)
TERMINATED = 143
#: a session's transcript as a Word document (written by cxfield.export, not whisper)
DOCX = "docx"

# The services, numpy and whisper are imported by the handlers, so that other commands
# start fast and work where the transcription extra is not installed.


def register(subparsers: Any) -> None:
    p = command(
        subparsers,
        "transcribe",
        _transcribe,
        "transcribe a session's recording or an audio file, on this computer",
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("file", nargs="?", metavar="FILE", help="an audio file (any format)")
    source.add_argument("--session", metavar="ID", help="transcribe and store a session's audio")
    source.add_argument(
        "--queue", action="store_true", help="run the queued jobs (resumes after a restart)"
    )
    p.add_argument("--model", metavar="NAME|PATH", help="installed model name or .pt file")
    p.add_argument("--language", metavar="CODE", help="e.g. en, es (default: detect)")
    p.add_argument("--translate", action="store_true", help="translate into English")
    p.add_argument("--word-timestamps", action="store_true", help="time every word")
    p.add_argument("--no-skip-silence", action="store_true", help="send silence to the model too")
    p.add_argument("--threads", type=int, metavar="N", help="torch threads (default: cores-1)")
    p.add_argument(
        "--engine", choices=("openai-whisper", "ctranslate2"),
        help="openai-whisper (.pt files) or ctranslate2 (faster-whisper folders, int8)",
    )  # fmt: skip
    p.add_argument(
        "--compute-type", choices=("int8", "float32"), help="ctranslate2 arithmetic (default int8)"
    )
    p.add_argument(
        "--speakers", type=int, metavar="N",
        help="suggest which of N voices speaks each line (session transcripts)",
    )  # fmt: skip
    p.add_argument(
        "--format",
        choices=(*export.FORMATS, DOCX),
        help="output format (default: txt); docx: a session's transcript as a Word document "
        "with speakers, times, notes and edits marked (needs --session and --out)",
    )
    p.add_argument("--out", metavar="PATH", help="write the transcript here (default: stdout)")


class _Interrupt:
    """Ctrl-C cancels the running job cleanly (the worker is ended, nothing is stored).

    With ``give_back``, SIGTERM (a shutdown, a service manager) or SIGHUP (the terminal
    window closed) ends the worker too, but
    puts the job back in the queue (:meth:`given_back` is its message) instead of leaving it
    ``running`` until its heartbeat goes stale a minute later; nothing is stored."""

    def __init__(self, give_back: bool = False) -> None:
        self.cancelled = False
        self.terminated = False
        self._give_back = give_back
        self._previous: Any = None
        self._previous_term: Any = None

    def __enter__(self) -> _Interrupt:
        self._previous = signal.signal(signal.SIGINT, self._handle)
        if self._give_back:  # SIGTERM, and SIGHUP when the terminal window is closed
            self._previous_term = {
                sig: signal.signal(sig, self._handle_term) for sig in STOP_SIGNALS
            }
        return self

    def __exit__(self, *_: object) -> None:
        signal.signal(signal.SIGINT, self._previous)
        if self._give_back:
            for sig, previous in self._previous_term.items():
                signal.signal(sig, previous)

    def _handle(self, *_: object) -> None:
        self.cancelled = True

    def _handle_term(self, *_: object) -> None:
        self.terminated = True

    def __call__(self) -> bool:
        return self.cancelled

    def given_back(self) -> str | None:
        return STOPPED_WHILE_RUNNING if self.terminated else None


class ProgressBar:
    """``[#####-----]  52%  05:12 / 10:00  ETA 01:03`` on stderr (one line on a terminal,
    a line per 10 % otherwise)."""

    def __init__(self, label: str = "") -> None:
        self.label = label
        self.started = time.monotonic()
        self.tty = sys.stderr.isatty()
        self.last_tenth = -1
        self.stage = ""

    def __call__(self, done: float, total: float) -> None:
        share = min(done / total, 1.0) if total else 0.0
        elapsed = time.monotonic() - self.started
        eta = (elapsed / share - elapsed) if share > 0.01 else None
        width = 24
        filled = int(share * width)
        line = (
            f"{self.label}[{'#' * filled}{'-' * (width - filled)}] {share * 100:3.0f}%  "
            f"{_clock(done)} / {_clock(total)}  ETA {_clock(eta) if eta is not None else '--:--'}"
        )
        if self.tty:
            sys.stderr.write("\r" + line)
            sys.stderr.flush()
        elif int(share * 10) > self.last_tenth:
            self.last_tenth = int(share * 10)
            status(line)

    def close(self) -> None:
        if self.tty:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _clock(seconds: float | None) -> str:
    minutes, secs = divmod(int(seconds or 0), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def _options(ctx: AppContext, args: argparse.Namespace) -> TranscriptionOptions:
    from cxfield.services import transcription

    opts = transcription.get_options(ctx.db, _study_of(ctx, args.session))
    if args.model:
        opts.model = args.model
    if args.language:
        opts.language = args.language.lower()
    opts.translate = opts.translate or args.translate
    opts.word_timestamps = opts.word_timestamps or args.word_timestamps
    if args.no_skip_silence:
        opts.skip_silence = False
    if args.threads is not None:
        if args.threads < 1:
            raise ValidationError("--threads must be at least 1.")
        opts.threads = args.threads
    if args.engine:
        opts.engine = args.engine
    if args.compute_type:
        opts.compute_type = args.compute_type
    if args.speakers is not None:
        from cxfield.transcribe.speakers import check_speakers

        opts.speakers, opts.speaker_labels = check_speakers(args.speakers), True
    return opts


def _study_of(ctx: AppContext, session_id: str | None) -> str | None:
    """A session's study, whose transcription options apply (None: the installation's)."""
    if not session_id:
        return None
    from cxfield.storage.models import ResearchSession

    with ctx.db.session() as db:
        session = db.get(ResearchSession, session_id)
        return session.study_id if session is not None else None


def _transcribe(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.services import transcript, transcription

    suffix = Path(args.out).suffix.lower() if args.out else ""
    docx = args.format == DOCX or (args.format is None and suffix == ".docx")
    if docx and not (args.session and args.out):
        raise ValidationError(
            "--format docx writes a session's transcript: give --session ID and --out FILE."
        )
    if args.file:
        return _transcribe_file(ctx, args)
    if args.queue:
        return _run_queue(ctx, None)
    if docx:
        from cxfield.export.atomic import check_target

        check_target(Path(args.out))  # before minutes of transcription, not after
    opts = _options(ctx, args)
    jobs = transcription.enqueue(ctx.db, ctx.paths.root, ctx.paths.models, args.session, opts)
    status(
        f"Queued {len(jobs)} recording(s) of session {args.session} with model {opts.model} "
        f"({opts.engine})."
    )
    code = _run_queue(ctx, {j.id for j in jobs}, opts)
    if code == 0 and docx:
        from cxfield.export import jobs as export_jobs

        written = export_jobs.export_session_docx(ctx.db, args.session, Path(args.out))
        status(f"Wrote {written.paths[0]}.")
    elif code == 0 and (args.out or args.format):
        from cxfield.export.redacted import leaving

        fmt = args.format or Path(args.out).suffix.lstrip(".") or "txt"
        notes: list[str] = []
        # what leaves: held until reviewed, accepted redactions as placeholders
        with leaving(ctx.db, [args.session], notes, single=True) as source:
            result = transcript.whisper_result(source, args.session)
        _emit(result, fmt, args.out)
    return code


def _run_queue(
    ctx: AppContext,
    only: set[str] | None,
    opts: TranscriptionOptions | None = None,
) -> int:
    from cxfield.services import transcription

    transcription.recover_stale(ctx.db)
    failed = ran = 0
    with _Interrupt(give_back=True) as interrupt:
        while (
            not (interrupt() or interrupt.terminated)
            and (job := transcription.claim_next(ctx.db, only)) is not None
        ):
            ran += 1
            bar = ProgressBar(f"{(job.recording_id or job.id)[:8]} ")
            try:
                outcome = transcription.run_job(
                    ctx.db,
                    ctx.paths.root,
                    ctx.paths.models,
                    job,
                    bar,
                    interrupt,
                    options=opts,
                    give_back=interrupt.given_back,
                )
            finally:
                bar.close()
            if outcome.state == "cancelled":
                status("Cancelled; nothing was stored.")
                return 130
            if outcome.state == "queued":
                status(
                    "Stopped; nothing was stored. The recording is queued again "
                    "(`cxfield transcribe --queue`)."
                )
                return TERMINATED
            if outcome.state == "failed":
                status(f"cxfield: error: {outcome.error}")
                failed += 1
                if outcome.model_unusable:  # the next jobs would fail the same way
                    _not_run(ctx, only)
                    return 1
                continue
            kept = f", kept {outcome.kept_edited} edited" if outcome.kept_edited else ""
            status(f"Stored {outcome.segments} segments{kept} for session {job.session_id}.")
            if outcome.result is not None and outcome.result.turns:
                by = outcome.result.interviewer_by
                status(
                    f"Speakers suggested from {len(outcome.result.turns)} voice turns "
                    f"(interviewer: the {by}); they need checking in the transcript."
                )
    if interrupt.cancelled or interrupt.terminated:  # between two jobs: the rest stay queued
        status("Stopped; any job not started yet stays queued (`cxfield transcribe --queue`).")
        return 130 if interrupt.cancelled else TERMINATED
    if not ran and only is None:
        status("No transcription jobs are queued.")
    return 1 if failed else 0


def _not_run(ctx: AppContext, only: set[str] | None) -> None:
    """After a model failed to load: this command's other jobs are dropped (they were made
    for this model); the queue's other jobs stay queued."""
    from cxfield.services import transcription

    if only is None:
        waiting = len(transcription.list_jobs(ctx.db, ("queued",)))
        if waiting:
            status(f"{waiting} other job(s) stay queued (`cxfield transcribe --queue`).")
        return
    for job in transcription.list_jobs(ctx.db, ("queued",)):
        if job.id in only:
            transcription.cancel_job(ctx.db, job.id)


def _transcribe_file(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.services import transcription
    from cxfield.transcribe.model_store import ModelStore
    from cxfield.transcribe.pipeline import Cancelled, DecodeSettings
    from cxfield.transcribe.worker import WorkerJob, default_threads, run_in_worker

    opts = _options(ctx, args)
    path = Path(args.file).expanduser()
    if not path.is_file():
        raise ValidationError(f"Audio file {path} does not exist.")
    # one file, one load: the child says it once if the model is unusable
    model_path, official = ModelStore(ctx.paths.models).resolve(opts.model, opts.engine)
    settings = DecodeSettings(
        language=opts.language,
        translate=opts.translate,
        word_timestamps=opts.word_timestamps,
        skip_silence=opts.skip_silence,
        extra=dict(ctx.db.get_setting(transcription.DECODE_KEY, {}) or {}),
    )
    job = WorkerJob(
        str(path), str(model_path), official, settings, opts.threads or default_threads(),
        engine=opts.engine, compute_type=opts.compute_type,
    )  # fmt: skip
    bar = ProgressBar()
    with _Interrupt() as interrupt:
        try:
            result = run_in_worker(job, bar, interrupt)
        except Cancelled:
            status("Cancelled.")
            return 130
        finally:
            bar.close()
    fmt = args.format or (Path(args.out).suffix.lstrip(".") if args.out else "") or "txt"
    _emit(result.as_whisper(), fmt, args.out)
    return 0


def _emit(result: dict[str, Any], fmt: str, out: str | None) -> None:
    if fmt not in export.FORMATS:
        raise CxfieldError(f"Unknown format {fmt!r}; use --format {'|'.join(export.FORMATS)}.")
    if out:
        written = export.write_file(result, fmt, Path(out))
        status(f"Wrote {written}.")
    else:
        sys.stdout.write(export.render(result, fmt))
