"""`cxfield keys export-laptop / import-laptop / encrypt-recordings`: the recording key of a
laptop saved to a file (0600, never over another file) and used on a new laptop, where the
old laptop's encrypted recordings then open."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from cxfield.app import open_app
from cxfield.audio import encrypted
from cxfield.services import at_rest
from tests.test_privacy_cli import _cli


def test_export_then_import_opens_the_old_laptops_recordings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    out = tmp_path / "laptop.key"
    code, stdout, err = _cli(capsys, old, "keys", "export-laptop", "--out", str(out))
    # a new data directory encrypts; the key is made now, and the warning said once
    assert code == 0 and "cannot be opened" in err and "Exported" in stdout
    assert (out.stat().st_mode & 0o777) == 0o600
    code, _stdout, err = _cli(capsys, old, "keys", "export-laptop", "--out", str(out))
    assert code == 1 and "exists already" in err and err.count("\n") == 1

    ctx = open_app(old)
    try:
        plain = tmp_path / "plain.wav"
        samples = np.arange(16000, dtype=np.int16)
        sf.write(str(plain), samples, 16000, subtype="PCM_16")
        recording = old / "recordings" / "moved.wav"
        recording.parent.mkdir(exist_ok=True)
        encrypted.encrypt_wav(plain, recording, encrypted.laptop_key(recording))
    finally:
        ctx.close()
    moved = new / "recordings" / "moved.wav"
    moved.parent.mkdir(parents=True)
    moved.write_bytes(recording.read_bytes())

    code, stdout, _err = _cli(capsys, new, "keys", "import-laptop", str(out))
    assert code == 0 and "Imported the recording key" in stdout
    ctx = open_app(new)
    try:
        reader = encrypted.open_pcm(moved)
        assert reader.read_frames(0, 16000) == samples.tobytes()
        reader.close()
    finally:
        ctx.close()


def test_import_of_a_junk_file_or_over_another_key_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "junk.key"
    junk.write_text("hello")
    code, _out, err = _cli(capsys, tmp_path / "d", "keys", "import-laptop", str(junk))
    assert code == 1 and "not a cxfield laptop key file" in err and err.count("\n") == 1
    other = tmp_path / "other.key"
    assert _cli(capsys, tmp_path / "e", "keys", "export-laptop", "--out", str(other))[0] == 0
    _cli(capsys, tmp_path / "d", "keys", "export-laptop", "--out", str(tmp_path / "d.key"))
    code, _out, err = _cli(capsys, tmp_path / "d", "keys", "import-laptop", str(other))
    assert code == 1 and "already has another recording key" in err


def test_encrypt_recordings_off_and_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "d"
    code, out, _err = _cli(capsys, data, "keys", "encrypt-recordings", "off")
    assert code == 0 and "plain WAV" in out
    ctx = open_app(data)
    try:
        assert not at_rest.encrypts_recordings(ctx.db)
        assert at_rest.recording_key(ctx.db, ctx.paths.root) == (None, None)
    finally:
        ctx.close()
    assert _cli(capsys, data, "keys", "encrypt-recordings", "on")[0] == 0
    ctx = open_app(data)
    try:
        key, notice = at_rest.recording_key(ctx.db, ctx.paths.root)
        assert key is not None and len(key) == 32 and notice is not None
        assert at_rest.recording_key(ctx.db, ctx.paths.root) == (key, None)  # said once
    finally:
        ctx.close()
