"""A disk that fills up: recording stops cleanly with a valid file and its row marked, a
backup or an export fails with one line and leaves no partial file.

The disk is real: a small tmpfs mounted for the test (needs root, as in CI; skipped where
mounting is not permitted), filled to the last byte with a filler file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cxfield.app import open_app
from cxfield.audio import at_rest
from cxfield.audio.encrypted import laptop_key, pcm_info
from cxfield.services import demo, recording
from cxfield.storage.models import Recording
from tests.audio_support import FakeBackend, LineReader, VirtualMic, pulse_missing, tone
from tests.test_audio_session import make_session
from tests.test_cli import run

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="mounts a tmpfs")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An 80 MB file system of its own (the recorder needs 50 MB + 10 min free to start)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=80m,mode=0755", "tmpfs", str(mount)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, check=False)


def fill(disk: Path) -> Path:
    """Take every free byte of ``disk``."""
    filler = disk / f"filler-{uuid.uuid4().hex[:6]}"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 4096, 512, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)
    assert shutil.disk_usage(disk).free < 8192
    return filler


def _one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert lines and lines[-1].startswith("cxfield: error:"), stderr
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    return lines[-1]


def test_recording_on_a_disk_that_fills_up_is_kept_and_marked(small_disk: Path) -> None:
    ctx = open_app(small_disk / "data")
    try:
        session_id = make_session(ctx.db)
        backend = FakeBackend()
        active = recording.start_session_recording(ctx.db, ctx.paths.root, session_id, backend)
        backend.feed(tone(1.0))
        filler = fill(small_disk)
        backend.feed(tone(30.0))  # the writer meets ENOSPC (or the space check) and stops
        deadline = time.monotonic() + 10
        while not active.halted and time.monotonic() < deadline:
            backend.feed(tone(0.5))
            time.sleep(0.05)
        summary = active.stop()
        assert summary["state"] == "complete" and summary["failure"]
        assert "full" in summary["failure"] or "free" in summary["failure"]
        wav = ctx.paths.root / summary["path"]
        frames = pcm_info(wav).frames  # the one entry point: it is encrypted at rest
        assert pcm_info(wav).encrypted and at_rest.scan(wav, laptop_key=laptop_key(wav)).complete
        assert frames == round(summary["duration_s"] * 16000) >= 16000
        with ctx.db.session() as db:
            row = db.get(Recording, summary["id"])
            assert row is not None and row.state == "complete" and row.sha256
        assert not list(ctx.paths.recordings.glob(".*.reserve"))
        filler.unlink()
        # the next start finds nothing to recover
        assert recording.recover_interrupted_recordings(ctx.db, ctx.paths.root) == []
    finally:
        ctx.close()


@pytest.mark.skipif(pulse_missing() is not None, reason=pulse_missing() or "")
@pytest.mark.timeout(120)
def test_record_session_cli_on_a_full_disk_says_one_line(small_disk: Path) -> None:
    data_dir = small_disk / "data"
    ctx = open_app(data_dir)
    try:
        session_id = make_session(ctx.db)
    finally:
        ctx.close()
    with VirtualMic(16000) as mic:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cxfield", "--data-dir", str(data_dir), "record",
             "--session", session_id, "--seconds", "30"],
            env=mic.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            err = LineReader(proc.stderr)  # type: ignore[arg-type]
            assert err.wait_for("recording started", 20), err.text()
            time.sleep(1.5)
            fill(small_disk)
            code = proc.wait(30)
        finally:
            proc.kill()
    assert code == 1, err.text()
    line = _one_error_line(err.text())
    assert "disk is full" in line or "free on the disk" in line
    assert "recorded until then are saved in the session" in line
    assert proc.stdout is not None
    recording_id = proc.stdout.read().strip()
    ctx = open_app(data_dir)
    try:
        with ctx.db.session() as db:
            row = db.get(Recording, recording_id)
            assert row is not None and row.state == "complete" and (row.duration_s or 0) > 1
        assert pcm_info(data_dir / row.path).frames == round(row.duration_s * 16000)
    finally:
        ctx.close()


@pytest.fixture
def study_on_small_disk(small_disk: Path) -> Iterator[tuple[Path, str]]:
    """A study in a data directory on the small disk, held open as by a running app (so
    SQLite's -wal and -shm files exist: a command can still read the database)."""
    ctx = open_app(small_disk / "data")
    try:
        study_id = demo.create_demo(ctx.db, 4, seed=1).id
        ctx.paths.backups.mkdir()
        with ctx.db.engine.connect() as held:
            held.exec_driver_sql("SELECT count(*) FROM study").one()
            yield small_disk / "data", study_id
    finally:
        ctx.close()


@pytest.mark.parametrize(
    "command",
    [
        ["db", "backup"],
        ["db", "backup", "--out", "{disk}/copy.sqlite"],
        ["studies", "export", "{study}", "--out", "{disk}/study.json"],
        ["export", "study", "{study}", "--json", "{disk}/study-data.json"],
        ["export", "study", "{study}", "--csv", "{disk}/tables"],
        ["export", "study", "{study}", "--pdf", "{disk}/report.pdf"],
    ],
    ids=["backup", "backup-out", "studies-export", "json", "csv", "pdf"],
)
def test_writers_on_a_full_disk_fail_in_one_line_and_leave_nothing(
    study_on_small_disk: tuple[Path, str], command: list[str]
) -> None:
    data_dir, study_id = study_on_small_disk
    disk = data_dir.parent
    if "{disk}/tables" in command:
        (disk / "tables").mkdir()
    before = sorted(str(p.relative_to(disk)) for p in disk.rglob("*"))
    filler = fill(disk)
    args = [a.format(disk=disk, study=study_id) for a in command]
    result = run(*args, data_dir=data_dir)
    filler.unlink()
    assert result.returncode == 1, result.stdout + result.stderr
    line = _one_error_line(result.stderr)
    assert "No space left on device" in line or "disk is full" in line, line
    after = sorted(str(p.relative_to(disk)) for p in disk.rglob("*"))
    assert after == before  # no .partial, .tmp, .part or journal left behind


def test_opening_the_database_on_a_full_disk_says_so(small_disk: Path) -> None:
    data_dir = small_disk / "data"
    assert run("demo", "--sessions", "1", data_dir=data_dir).returncode == 0
    fill(small_disk)
    result = run("studies", "list", data_dir=data_dir)
    assert result.returncode == 1
    assert "the disk is full" in _one_error_line(result.stderr)


def test_when_even_the_reserve_is_not_enough_the_audio_waits_for_the_next_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database cannot be written at stop: one line says where the audio is; the next
    start attaches it (state ``recovered``)."""
    from sqlalchemy.exc import OperationalError

    from cxfield.domain.errors import CxfieldError
    from tests.test_audio_session import GB

    ctx = open_app(tmp_path / "data")
    try:
        session_id = make_session(ctx.db)
        backend = FakeBackend()
        active = recording.start_session_recording(
            ctx.db, ctx.paths.root, session_id, backend, free_space=lambda _p: 10 * GB
        )
        backend.feed(tone(2.0))

        def disk_full(_result: object) -> None:
            raise OperationalError("UPDATE recording", {}, Exception("database or disk is full"))

        monkeypatch.setattr(active, "_finish", disk_full)
        with pytest.raises(CxfieldError, match=r"\(0:02\) is kept in .*attached to the session"):
            active.stop()
        assert not list(ctx.paths.recordings.glob(".*.reserve"))
        (message,) = recording.recover_interrupted_recordings(ctx.db, ctx.paths.root)
        assert message.startswith("Recovered an interrupted recording")
        with ctx.db.session() as db:
            row = db.get(Recording, active.recording_id)
            assert row is not None and row.state == "recovered" and row.duration_s == 2.0
    finally:
        ctx.close()
