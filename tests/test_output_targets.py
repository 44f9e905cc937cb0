"""Every writer refuses a target that is not a regular file (a device, a FIFO, a folder, a
link to one of them) and leaves it as it was; research data is written 0600 in 0700
folders.  Run as a user runs the CLI: a subprocess, one line on stderr."""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from cxfield.app import open_app
from cxfield.services import demo
from cxfield.storage.files import OutputPathError, atomic_file, check_target
from tests.test_cli import run


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A data directory with a small demo study: (data dir, study id, session id)."""
    data_dir = tmp_path_factory.mktemp("targets") / "data"
    ctx = open_app(data_dir)
    try:
        study = demo.create_demo(ctx.db, 3, seed=5)
    finally:
        ctx.close()
    listed = run("sessions", "list", "--json", data_dir=data_dir)
    return data_dir, study.id, json.loads(listed.stdout)[0]["id"]


def _char_device(path: Path) -> Path:
    """/dev/full's numbers (char 1, 7): writing to it fails with ENOSPC."""
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    except (PermissionError, AttributeError):
        pytest.skip("creating a device node needs root")
    return path


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _link_to_fifo(path: Path) -> Path:
    path.symlink_to(_fifo(path.with_name(path.name + ".fifo")))
    return path


def _folder(path: Path) -> Path:
    path.mkdir()
    return path


TARGETS: dict[str, Callable[[Path], Path]] = {
    "char-device": _char_device,
    "fifo": _fifo,
    "link-to-fifo": _link_to_fifo,
}
COMMANDS = {
    "study pdf": ["export", "study", "{study}", "--pdf", "{target}"],
    "study json": ["export", "study", "{study}", "--json", "{target}"],
    "session pdf": ["export", "session", "{session}", "--pdf", "{target}"],
    "a11 csv": ["export", "a11", "{study}", "--quarter", "2026Q4", "--csv", "{target}"],
    "studies export": ["studies", "export", "{study}", "--out", "{target}"],
    "db backup": ["db", "backup", "--out", "{target}"],
}


def _kind(path: Path) -> int:
    return stat.S_IFMT(os.stat(path).st_mode)


@pytest.mark.parametrize("kind", TARGETS)
@pytest.mark.parametrize("command", COMMANDS)
def test_special_targets_are_refused_and_left_as_they_are(
    exported: tuple[Path, str, str], tmp_path: Path, kind: str, command: str
) -> None:
    data_dir, study_id, session_id = exported
    target = TARGETS[kind](tmp_path / "target")
    before = (_kind(target), os.lstat(target).st_mode, os.lstat(target).st_ino)
    args = [a.format(study=study_id, session=session_id, target=target) for a in COMMANDS[command]]
    result = run(*args, data_dir=data_dir)
    assert result.returncode == 1, result.stderr
    err = result.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("cxfield: error:"), err
    assert "not a regular file" in err and "left as it is" in err
    assert (_kind(target), os.lstat(target).st_mode, os.lstat(target).st_ino) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_csv_tables_refuse_a_fifo_among_them_and_a_device_as_folder(
    exported: tuple[Path, str, str], tmp_path: Path
) -> None:
    data_dir, study_id, _ = exported
    folder = _folder(tmp_path / "tables")
    _fifo(folder / "notes.csv")
    result = run("export", "study", study_id, "--csv", str(folder), data_dir=data_dir)
    assert result.returncode == 1 and "notes.csv is a named pipe" in result.stderr
    assert [p.name for p in folder.iterdir()] == ["notes.csv"]  # no table, no temp file
    assert stat.S_ISFIFO(os.stat(folder / "notes.csv").st_mode)
    device = _char_device(tmp_path / "full")
    result = run("export", "study", study_id, "--csv", str(device), data_dir=data_dir)
    assert result.returncode == 1 and "is a character device, not a folder" in result.stderr
    assert stat.S_ISCHR(os.stat(device).st_mode)


def test_check_target_rules(tmp_path: Path) -> None:
    (tmp_path / "old.pdf").write_bytes(b"old")
    assert check_target(tmp_path / "old.pdf") == tmp_path / "old.pdf"  # a regular file: fine
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    assert check_target(tmp_path / "dangling")  # only a name: the rename replaces the link
    (tmp_path / "to-folder").symlink_to(_folder(tmp_path / "folder"))
    with pytest.raises(OutputPathError, match="is a link to a folder"):
        check_target(tmp_path / "to-folder")
    _link_to_fifo(tmp_path / "pipe")
    with pytest.raises(OutputPathError, match="is a link to a named pipe"):
        check_target(tmp_path / "pipe")


def test_a_device_appearing_while_writing_is_not_replaced(tmp_path: Path) -> None:
    """The check runs again just before the rename."""
    target = tmp_path / "report.pdf"
    with pytest.raises(OutputPathError, match="named pipe"), atomic_file(target) as handle:
        handle.write(b"%PDF")
        _fifo(target)
    assert stat.S_ISFIFO(os.stat(target).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["report.pdf"]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_research_data_is_private(tmp_path: Path) -> None:
    """The data dir and its folders 0700; the database, backups, exports and recordings
    0600, whatever the umask lets other files be."""
    old = os.umask(0o022)
    try:
        data_dir = tmp_path / "new" / "data"
        assert run("demo", "--sessions", "2", data_dir=data_dir).returncode == 0
        assert _mode(data_dir) == 0o700
        assert _mode(data_dir / "cxfield.sqlite") == 0o600
        study = json.loads(run("studies", "list", "--json", data_dir=data_dir).stdout)[0]["id"]
        assert run("db", "backup", data_dir=data_dir).returncode == 0
        (backup,) = (data_dir / "backups").iterdir()
        assert _mode(data_dir / "backups") == 0o700 and _mode(backup) == 0o600
        out = tmp_path / "out"
        out.mkdir()
        for args in (
            ["db", "backup", "--out", str(out / "copy.sqlite")],
            ["studies", "export", study, "--out", str(out / "study.json")],
            ["export", "study", study, "--json", str(out / "s.json"), "--csv", str(out / "csv")],
        ):
            assert run(*args, data_dir=data_dir).returncode == 0
        written = [p for p in out.rglob("*") if p.is_file()]
        assert len(written) == 9 and {_mode(p) for p in written} == {0o600}
        assert _mode(out / "csv") == 0o700
    finally:
        os.umask(old)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_recordings_are_private(tmp_path: Path) -> None:
    from cxfield.audio import encrypted
    from cxfield.services import recording
    from tests.audio_support import FakeBackend, tone
    from tests.test_audio_session import GB, make_session

    old = os.umask(0o022)
    try:
        ctx = open_app(tmp_path / "data")
        try:
            session_id = make_session(ctx.db)
            backend = FakeBackend()
            active = recording.start_session_recording(
                ctx.db, ctx.paths.root, session_id, backend, free_space=lambda _p: 10 * GB
            )
            backend.feed(tone(0.5))
            summary = active.stop()
            wav = ctx.paths.recordings / f"{summary['id']}.wav"
            assert summary["state"] == "complete"
            assert _mode(ctx.paths.recordings) == 0o700 and _mode(wav) == 0o600
            keys = ctx.paths.root / "keys"  # no system keyring here: the key's file
            assert _mode(keys) == 0o700 and _mode(keys / "laptop.key") == 0o600
            phone = tmp_path / "phone.wav"  # a file from elsewhere, readable by all
            encrypted.write_plain_wav(wav, phone)  # the recording is encrypted at rest
            phone.chmod(0o644)
            imported = recording.attach_audio(ctx.db, ctx.paths.root, session_id, phone)
            copies = [ctx.paths.root / imported["path"], ctx.paths.root / imported["original_path"]]
            assert {_mode(p) for p in copies} == {0o600}
        finally:
            ctx.close()
    finally:
        os.umask(old)
