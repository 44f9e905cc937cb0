"""`cxfield devices`, `cxfield record`, `cxfield repair-audio`."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from cxfield.app import AppContext
from cxfield.audio.encrypted import repair
from cxfield.cli.common import command, on_stop_signals, print_json, print_table, status
from cxfield.domain.errors import ValidationError
from cxfield.services import recording as recording_service

#: seconds without a block before the user is told the microphone is silent
NO_AUDIO_WARNING_S = 3.0
#: the job's message when Ctrl-C stops `record --live-transcribe` before the transcript is in
INTERRUPTED_BEFORE_STORED = (
    "Stopped before the live transcript was stored; it will be transcribed from the recording."
)


def register(subparsers: Any) -> None:
    p = command(subparsers, "devices", _devices, "list audio input devices", needs_db=False)
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command(subparsers, "record", _record, "record from the microphone (Ctrl-C stops)")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", metavar="FILE", type=Path, help="record to this new WAV file")
    target.add_argument("--session", metavar="ID", help="record into a session (needs consent)")
    p.add_argument("--seconds", type=_positive, metavar="N", help="stop after N seconds")
    p.add_argument("--device", metavar="NAME", help="input device name or number")
    p.add_argument("--rate", type=int, default=16000, metavar="HZ", help="default 16000")
    p.add_argument(
        "--live-transcribe",
        action="store_true",
        help="with --session: transcribe finished stretches while recording (needs a model)",
    )

    p = command(
        subparsers, "repair-audio", _repair, "make a WAV left by a killed recorder valid",
        needs_db=False,
    )  # fmt: skip
    p.add_argument("file", metavar="FILE", type=Path)


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def _device(text: str | None) -> int | str | None:
    if text is None:
        return None
    return int(text) if text.isdigit() else text


def _devices(_ctx: AppContext | None, args: argparse.Namespace) -> int:
    from cxfield.audio.backend import SoundDeviceBackend, input_devices

    devices = input_devices(SoundDeviceBackend())
    if args.json:
        print_json([d.as_json() for d in devices])
        return 0
    if not devices:
        status("No microphone found (no audio input device). Notes can still be taken.")
        return 0
    print_table(
        ["#", "NAME", "API", "CHANNELS", "RATE", "DEFAULT"],
        [
            (d.index, d.name, d.hostapi, d.max_input_channels, int(d.default_samplerate),
             "*" if d.is_default_input else "")
            for d in devices
        ],
    )  # fmt: skip
    return 0


def _record(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.audio.backend import SoundDeviceBackend
    from cxfield.audio.recorder import Recorder

    if not 8000 <= args.rate <= 192000:
        raise ValidationError(f"--rate {args.rate} is not a usable sample rate (8000-192000).")
    if args.live_transcribe and not args.session:
        raise ValidationError(
            "--live-transcribe needs --session ID (the transcript is stored there)."
        )
    backend = SoundDeviceBackend()
    device = _device(args.device) or recording_service.remembered_input_device(ctx.db)
    max_frames = None if args.seconds is None else int(round(args.seconds * args.rate))
    active: recording_service.ActiveRecording | None = None
    live: Any = None
    if args.session:
        active = recording_service.start_session_recording(
            ctx.db,
            ctx.paths.root,
            args.session,
            backend,
            device=device,
            sample_rate=args.rate,
            max_frames=max_frames,
        )
        recorder = active.recorder
        if active.notice:
            status(f"Warning: {active.notice}")
        if args.live_transcribe:
            live = _start_live(ctx, active.recording_id)
    else:
        out: Path = args.out
        if out.exists():
            raise ValidationError(f"{out} already exists; choose a new file name.")
        if not out.parent.is_dir():
            raise ValidationError(f"Folder {out.parent} does not exist.")
        recorder = Recorder(
            backend, out, sample_rate=args.rate, device=device, max_frames=max_frames
        )
        recorder.start()
    interrupted = _wait(recorder, live.poll if live is not None else None)
    if active is not None:
        summary = active.stop()
        print(active.recording_id)
        failure = summary["failure"]
        if live is not None:
            _finish_live(live, discarded=bool(summary["deleted"]))
        frames = int(round(summary["duration_s"] * recorder.sample_rate))
    else:
        result = recorder.stop()
        print(result.path)
        failure, frames = result.failure, result.frames
    status(
        f"saved {frames / recorder.sample_rate:.1f} s; input overflows: {recorder.overflows}, "
        f"dropped blocks: {recorder.dropped_blocks}"
        + (" (stopped by the user)" if interrupted else "")
    )
    if failure:
        kept = (
            f" The {frames / recorder.sample_rate:.1f} s recorded until then are saved"
            + (" in the session." if active is not None else f" in {recorder.path}.")
            if frames
            else ""
        )
        status(f"cxfield: error: {failure}{kept}")
        return 1
    return 0


def _start_live(ctx: AppContext, recording_id: str) -> Any:
    """The same live transcription as the runner's recorder panel (forced on)."""
    from cxfield.services.live_transcript import LiveTranscript

    live = LiveTranscript.start(ctx.db, ctx.paths.root, ctx.paths.models, recording_id, force=True)
    if live is None:
        status(
            "live transcription is off: no model is installed; recording anyway "
            "(install one with `cxfield models import PATH`)"
        )
    else:
        status("live transcription on (finished stretches are transcribed while recording)")
    return live


def _finish_live(live: Any, discarded: bool) -> None:
    """Wait for the last stretch; Ctrl-C (or SIGTERM) meanwhile gives the job back to the
    queue at once, stores nothing and ends the command as interrupted."""
    status(f"transcribing the last stretch ({live.done_s:.1f} s were done while recording)")
    started = time.monotonic()
    try:
        with on_stop_signals(_interrupt):
            outcome = live.finish(discarded=discarded)
    except KeyboardInterrupt:
        outcome = live.abandon(INTERRUPTED_BEFORE_STORED)
        if outcome.state == "queued":
            status(
                "the transcript was not stored; the recording is queued "
                "(`cxfield transcribe --queue`)"
            )
            raise
    took = time.monotonic() - started
    if outcome.state == "done":
        plural = "" if outcome.segments == 1 else "s"
        status(f"transcript stored: {outcome.segments} segment{plural} ({took:.1f} s after stop)")
    elif outcome.state == "queued":
        status(f"warning: {outcome.error}; the recording is queued (`cxfield transcribe --queue`)")


def _wait(recorder: Any, on_tick: Callable[[float], object] | None = None) -> bool:
    """Show progress and level on stderr until the time is up, Ctrl-C/SIGTERM or a failure;
    ``on_tick(seconds)`` runs between checks (live transcription).  Returns True when the
    user stopped it."""

    started = time.monotonic()
    announced = warned = False
    next_report = 1.0
    try:
        with on_stop_signals(_interrupt):
            while not recorder.halted:
                time.sleep(0.05)
                if on_tick is not None:
                    on_tick(0.05)
                if not announced and recorder.first_block_at is not None:
                    status(f"recording started ({recorder.sample_rate} Hz)")
                    announced = True
                waited = time.monotonic() - started
                if not announced and not warned and waited > NO_AUDIO_WARNING_S:
                    status("warning: no audio is arriving from the microphone")
                    warned = True
                if recorder.reached_limit:
                    break
                if recorder.elapsed_s >= next_report:
                    level = recorder.level()
                    clip = "  CLIPPING" if level.clipping else ""
                    status(
                        f"{recorder.elapsed_s:7.1f} s  level {level.peak_dbfs:6.1f} dBFS  "
                        f"overflows {recorder.overflows}{clip}"
                    )
                    next_report += 1.0
        return False
    except KeyboardInterrupt:
        return True


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    """SIGTERM (or a closed terminal, SIGHUP) stops like Ctrl-C."""
    raise KeyboardInterrupt


def _repair(_ctx: AppContext | None, args: argparse.Namespace) -> int:
    result = repair(args.file)
    if result.changed:
        status(f"repaired {args.file}: {result.duration_s:.2f} s of audio")
    else:
        status(f"{args.file} is a valid recording ({result.duration_s:.2f} s); nothing changed")
    print(f"{result.duration_s:.3f}")
    return 0
