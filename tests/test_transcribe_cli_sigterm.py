"""`cxfield transcribe --session ID` / `--queue` stopped by SIGTERM (a shutdown, a service
manager) mid-job: the job goes back to the queue at once with a message saying so, the
worker ends, nothing is stored, and the next `transcribe --queue` takes it without waiting
for the stale-heartbeat minute.  Sent to the whole process group (as systemd and a closing
terminal session do), the worker dies of it too; the job is still queued, not failed.
Ctrl-C still cancels (tests/test_transcribe_cli.py; the worker ignores the Ctrl-C that a
terminal sends to the whole group: tests/test_transcribe_jobs_give_back.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cxfield.app import open_app
from cxfield.cli.transcribe import STOPPED_WHILE_RUNNING, TERMINATED
from cxfield.services import transcript, transcription
from tests.conftest import cli_env
from tests.test_transcribe_cli import _alive, _children, prepared  # noqa: F401 - a fixture
from tests.transcribe_support import session_with_recording, speech_like

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(sys.platform != "linux", reason="reads /proc"),
]


def _start(data_dir: Path, *args: str) -> tuple[subprocess.Popen[str], list[int]]:
    """Start `cxfield transcribe ARGS` in its own process group and wait until the model
    has done a tenth of the audio: (the process, its children)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "cxfield", "--data-dir", str(data_dir), "transcribe", *args],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=cli_env(),
        start_new_session=True,
    )  # fmt: skip
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if "%" in line and " 0%" not in line:
            workers = _children(proc.pid)
            assert workers, "no worker process"
            return proc, workers
    proc.kill()
    raise AssertionError("no progress within 60 s")


def _stopped(proc: subprocess.Popen[str], workers: list[int]) -> str:
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == TERMINATED, err
    assert "Stopped; nothing was stored. The recording is queued again" in err
    assert "Traceback" not in err
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers), "the worker outlived the command"
    return err


def _check_queued(data_dir: Path, session_id: str) -> None:
    ctx = open_app(data_dir)
    try:
        (job,) = transcription.list_jobs(ctx.db)
        assert (job.state, job.error, job.progress) == ("queued", STOPPED_WHILE_RUNNING, 0.0)
        assert transcript.segments(ctx.db, session_id) == []
    finally:
        ctx.close()


def test_sigterm_gives_the_job_back_to_the_queue(prepared: Path) -> None:  # noqa: F811
    ctx = open_app(prepared)
    try:
        # 10 minutes without pauses: twenty windows, so the signal comes mid-job
        session_id, _ = session_with_recording(ctx, speech_like(600.0))
    finally:
        ctx.close()

    # SIGTERM to the command alone
    proc, workers = _start(prepared, "--session", session_id)
    proc.send_signal(signal.SIGTERM)
    _stopped(proc, workers)
    _check_queued(prepared, session_id)

    # the next `transcribe --queue` takes it at once; then the terminal window is closed:
    # SIGHUP to the whole group (the worker leaves it to the command)
    proc, workers = _start(prepared, "--queue")
    os.killpg(proc.pid, signal.SIGHUP)
    _stopped(proc, workers)
    _check_queued(prepared, session_id)
