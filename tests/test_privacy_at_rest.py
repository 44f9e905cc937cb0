"""Audio encrypted at rest: streamed AES-GCM chunks (memory stays small for a long file),
a writer killed mid-recording leaves a file that recovers up to its last sync, a wrong key
or a changed byte is refused."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import pytest

from cxfield.privacy import at_rest, keys, sealing

KEY = bytes(range(32))


def _pattern(n: int) -> bytes:
    block = hashlib.sha256(b"audio").digest() * 256  # 8 KB
    return (block * (n // len(block) + 1))[:n]


def test_round_trip_streams_without_holding_the_file(tmp_path: Path) -> None:
    source = tmp_path / "long.wav"
    size = 24 * 1024 * 1024 + 1234  # ~12 minutes of 16 kHz mono
    with source.open("wb") as handle:
        for start in range(0, size, 1 << 20):
            handle.write(_pattern(min(1 << 20, size - start)))
    preamble, salt = at_rest.laptop_preamble()
    target = tmp_path / "long.cxar"
    tracemalloc.start()
    try:
        assert at_rest.encrypt_file(source, target, preamble, at_rest._file_key(KEY, salt)) == size
        digest = hashlib.sha256()
        for block in at_rest.chunks(target, laptop_key=KEY):
            digest.update(block)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * 1024 * 1024, peak  # a few chunks, never the file
    assert digest.hexdigest() == hashlib.sha256(source.read_bytes()).hexdigest()
    assert target.stat().st_mode & 0o777 == 0o600
    assert _pattern(4096) not in target.read_bytes()[: 1 << 20]
    # A file object for decoders that read a stream gives the same bytes.
    reader = at_rest.PlainReader(target, laptop_key=KEY)
    assert reader.read(10) + reader.read(5000) + reader.read() == source.read_bytes()


def test_wrong_key_and_changed_byte_are_refused(tmp_path: Path) -> None:
    source = tmp_path / "a.wav"
    source.write_bytes(_pattern(200_000))
    preamble, salt = at_rest.laptop_preamble()
    target = tmp_path / "a.cxar"
    at_rest.encrypt_file(source, target, preamble, at_rest._file_key(KEY, salt))
    with pytest.raises(at_rest.AtRestError, match="Wrong key"):
        list(at_rest.chunks(target, laptop_key=bytes(32)))
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 1
    target.write_bytes(bytes(data))
    with pytest.raises(at_rest.AtRestError, match="damaged"):
        list(at_rest.chunks(target, laptop_key=KEY))
    # Cutting the end off is seen too (the end record is missing).
    at_rest.encrypt_file(source, tmp_path / "b.cxar", preamble, at_rest._file_key(KEY, salt))
    whole = (tmp_path / "b.cxar").read_bytes()
    (tmp_path / "b.cxar").write_bytes(whole[: len(whole) - 40])
    with pytest.raises(at_rest.AtRestError, match="ends"):
        list(at_rest.chunks(tmp_path / "b.cxar", laptop_key=KEY))


def test_study_sealed_audio_opens_only_with_the_study_key(tmp_path: Path) -> None:
    locked = keys.create_study_key("s", "passphrase-1")
    source = tmp_path / "a.wav"
    source.write_bytes(_pattern(150_000))
    preamble, file_key = at_rest.study_preamble(locked.public_key, locked.key_id)
    target = tmp_path / "a.sealed"
    at_rest.encrypt_file(source, target, preamble, file_key)
    private = keys.unlock(locked, "passphrase-1")
    assert b"".join(at_rest.chunks(target, private_key=private)) == source.read_bytes()
    other = keys.unlock(keys.create_study_key("t", "passphrase-2"), "passphrase-2")
    with pytest.raises(at_rest.AtRestError, match="another study key"):
        list(at_rest.chunks(target, private_key=other))
    assert not sealing.is_sealed(target.read_bytes()[:20].decode("latin-1"))


WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from cxfield.privacy import at_rest
    from tests.test_privacy_at_rest import KEY, _pattern
    preamble, salt = at_rest.laptop_preamble()
    writer = at_rest.EncryptedWriter(Path(sys.argv[1]), preamble, at_rest._file_key(KEY, salt))
    data = _pattern(64 * 1024 * 1024)
    pos = 0
    while True:
        writer.write(data[pos:pos + 8000])  # a quarter of a second of 16 kHz mono
        pos += 8000
        if pos % 32000 == 0:  # a sync a second, like the recorder's
            writer.sync()
            print(pos, flush=True)
        time.sleep(0.002)
    """
)


def test_kill_mid_recording_recovers_up_to_the_last_sync(tmp_path: Path) -> None:
    target = tmp_path / "rec.cxar"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, env=env
    )
    assert child.stdout is not None
    synced = 0
    try:
        while synced < 320_000:
            line = child.stdout.readline()
            assert line, "the writer died"
            synced = int(line)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    with pytest.raises(at_rest.AtRestError):
        list(at_rest.chunks(target, laptop_key=KEY))  # not complete: no end record
    found = at_rest.recover(target, laptop_key=KEY)
    assert found.complete and found.plain_bytes >= synced
    plain = b"".join(at_rest.chunks(target, laptop_key=KEY))
    assert len(plain) == found.plain_bytes and plain == _pattern(len(plain))
    assert at_rest.recover(target, laptop_key=KEY).plain_bytes == found.plain_bytes  # no-op
