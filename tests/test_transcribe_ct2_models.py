"""CTranslate2 model folders: converted offline from an installed .pt, imported from a
folder (checked like .pt files: files present, loads, dimensions), and used by a study set
to the ctranslate2 engine through the same queue, batch and live."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import select

from cxfield.app import open_app
from cxfield.domain.errors import ValidationError
from cxfield.services import transcript, transcription
from cxfield.storage.models import ResearchSession, TranscriptionJob
from cxfield.transcribe.live import LiveSettings
from cxfield.transcribe.model_store import CTRANSLATE2, OPENAI_WHISPER, ModelStore
from tests.conftest import REPO
from tests.test_cli import run
from tests.transcribe_support import (
    fast_setup,
    place,
    session_with_recording,
    speech_like,
    write_wav,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def installed(data_dir: Path, engine_models: tuple[Path, Path]) -> Path:
    """A data directory with the test model installed for both engines (the CT2 folder
    imported, as a user with a faster-whisper folder would)."""
    checkpoint, folder = engine_models
    ctx = open_app(data_dir)
    try:
        store = ModelStore(ctx.paths.models)
        store.import_file(checkpoint, "test")
        store.import_folder(folder, "test")
        fast_setup(ctx)
    finally:
        ctx.close()
    return data_dir


def test_convert_an_installed_pt_offline(data_dir: Path, engine_models: tuple[Path, Path]) -> None:
    checkpoint, _ = engine_models
    store = ModelStore(data_dir / "models")
    store.import_file(checkpoint, "field")
    steps: list[str] = []
    model = store.convert("field", on_step=steps.append)
    assert model.engine == CTRANSLATE2 and model.verified
    assert model.dims == store.get("field").dims  # the same dimensions as the .pt
    assert {"model.bin", "config.json", "tokenizer.json", "vocabulary.json"} <= {
        p.name for p in model.path.iterdir()
    }
    assert "converting to CTranslate2" in steps
    assert not [p for p in (data_dir / "models").iterdir() if p.name.startswith(".")]
    listed = json.loads(run("models", "list", "--json", data_dir=data_dir).stdout)
    assert [(r["name"], r["engine"]) for r in listed] == [
        ("field", CTRANSLATE2), ("field", OPENAI_WHISPER)
    ]  # fmt: skip
    both = run("models", "remove", "field", data_dir=data_dir)
    assert both.returncode == 1 and "--engine" in both.stderr
    assert (
        run("models", "remove", "field", "--engine", "ctranslate2", data_dir=data_dir).returncode
        == 0
    )
    assert [m.engine for m in store.list()] == [OPENAI_WHISPER]


def test_import_checks_a_folder_like_a_pt_file(
    data_dir: Path, engine_models: tuple[Path, Path], tmp_path: Path
) -> None:
    _, folder = engine_models
    good = tmp_path / "faster-whisper-field"
    shutil.copytree(folder, good)
    (good / "README.md").write_text("published with the model")
    imported = run("models", "import", str(good), data_dir=data_dir)
    assert imported.returncode == 0, imported.stderr
    assert "Installed field for the ctranslate2 engine" in imported.stderr
    installed = data_dir / "models" / "field.ct2"
    assert not (installed / "README.md").exists()  # only the model's own files are kept

    def refused(change: object, expect: str) -> None:
        bad = tmp_path / f"bad-{len(list(tmp_path.iterdir()))}"
        shutil.copytree(folder, bad)
        change(bad)  # type: ignore[operator]
        result = run("models", "import", str(bad), "--name", "other", data_dir=data_dir)
        assert result.returncode == 1, result.stderr
        assert expect in result.stderr.splitlines()[-1]
        assert not (data_dir / "models" / "other.ct2").exists()
        assert not [p for p in (data_dir / "models").iterdir() if p.name.startswith(".")]

    def truncate(bad: Path) -> None:
        data = (bad / "model.bin").read_bytes()
        (bad / "model.bin").write_bytes(data[: len(data) // 2])

    refused(truncate, "model.bin is truncated")
    refused(lambda bad: (bad / "tokenizer.json").unlink(), "no tokenizer.json")
    refused(lambda bad: (bad / "vocabulary.json").unlink(), "vocabulary.json or vocabulary.txt")
    refused(lambda bad: (bad / "model.bin").write_bytes(b"\x06\0\0\0"), "truncated")
    # a tokenizer of another model (English-only) for a multilingual model
    from cxfield.transcribe.tokenizer_files import write_tokenizer

    refused(lambda bad: write_tokenizer(51864, bad / "tokenizer.json"), "51864 tokens")
    assert run("models", "verify", "field", data_dir=data_dir).returncode == 0


def test_transcribe_a_file_with_the_ctranslate2_engine(installed: Path, tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "a.wav", place(40, [(10.0, speech_like(20))]))
    result = run(
        "transcribe", str(wav), "--model", "test", "--engine", "ctranslate2", "--format", "json",
        data_dir=installed,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    segments = json.loads(result.stdout)["segments"]
    assert segments and all(9.0 <= s["start"] <= s["end"] <= 40.0 for s in segments)
    missing = run("transcribe", str(wav), "--model", "base", "--engine", "ctranslate2",
                  data_dir=installed)  # fmt: skip
    assert missing.returncode == 1
    assert "no CTranslate2 version" in missing.stderr.splitlines()[-1]


def test_a_study_set_to_ctranslate2_runs_through_the_queue(installed: Path) -> None:
    ctx = open_app(installed)
    try:
        session_id, _ = session_with_recording(ctx, place(60, [(5.0, speech_like(40))]))
        with ctx.db.session() as db:
            study_id = db.get(ResearchSession, session_id).study_id  # type: ignore[union-attr]
        transcription.update_study_options(ctx.db, study_id, engine="ctranslate2")
        with pytest.raises(ValidationError, match="Unknown engine"):
            transcription.update_study_options(ctx.db, study_id, engine="whisper.cpp")
        options = transcription.get_options(ctx.db, study_id)
        assert options.engine == CTRANSLATE2 and transcription.get_options(ctx.db).engine == (
            OPENAI_WHISPER
        )
        jobs = transcription.enqueue(ctx.db, ctx.paths.root, ctx.paths.models, session_id, options)
        progress: list[float] = []
        outcomes = transcription.run_queue(
            ctx.db, ctx.paths.root, ctx.paths.models,
            on_progress=lambda _job, done, total: progress.append(done / total),
        )  # fmt: skip
        assert [o.state for o in outcomes] == ["done"], outcomes
        assert progress and progress[-1] == pytest.approx(1.0)
        with ctx.db.session() as db:
            assert db.get(TranscriptionJob, jobs[0].id).engine == CTRANSLATE2  # type: ignore[union-attr]
        assert transcript.segments(ctx.db, session_id)
    finally:
        ctx.close()


def test_cancel_stops_a_ctranslate2_job(installed: Path) -> None:
    ctx = open_app(installed)
    try:
        session_id, _ = session_with_recording(ctx, speech_like(240.0))
        options = transcription.get_options(ctx.db)
        options.engine = CTRANSLATE2
        transcription.enqueue(ctx.db, ctx.paths.root, ctx.paths.models, session_id, options)
        started = time.monotonic()
        seen: list[float] = []

        def cancel() -> bool:
            return bool(seen)  # cancel as soon as the first progress came

        outcomes = transcription.run_queue(
            ctx.db, ctx.paths.root, ctx.paths.models,
            on_progress=lambda _job, done, _total: seen.append(done), should_cancel=cancel,
        )  # fmt: skip
        assert [o.state for o in outcomes] == ["cancelled"]
        assert time.monotonic() - started < 60
        assert transcript.segments(ctx.db, session_id) == []
    finally:
        ctx.close()


def test_live_transcription_with_ctranslate2(installed: Path) -> None:
    ctx = open_app(installed)
    try:
        samples = place(50, [(2.0, speech_like(18)), (25.0, speech_like(20, seed=2))])
        session_id, rec_id = session_with_recording(ctx, samples)
        options = transcription.get_options(ctx.db)
        options.engine = CTRANSLATE2
        started = transcription.start_live(
            ctx.db, ctx.paths.root, ctx.paths.models, rec_id, options,
            LiveSettings(min_stretch_s=10, poll_s=0.2),
        )  # fmt: skip
        assert started is not None
        job, live = started
        assert live.engine == CTRANSLATE2
        outcome = transcription.finish_live(ctx.db, job, live, timeout_s=120)
        assert outcome.state == "done" and outcome.segments > 0
        stored = transcript.segments(ctx.db, session_id)
        assert stored and stored[0].start_s >= 1.5
    finally:
        ctx.close()


def test_a_study_set_to_ctranslate2_from_the_command_line(installed: Path) -> None:
    """`studies transcription ID --engine ctranslate2 --speakers 2`, then a plain
    `transcribe --session ID`: the study's engine, model and speaker suggestions apply."""
    ctx = open_app(installed)
    try:
        session_id, _ = session_with_recording(
            ctx, place(40, [(2.0, speech_like(12)), (20.0, speech_like(12, seed=7))])
        )
        with ctx.db.session() as db:
            study_id = db.get(ResearchSession, session_id).study_id  # type: ignore[union-attr]
    finally:
        ctx.close()
    bad = run("studies", "transcription", study_id, "--speakers", "9", data_dir=installed)
    assert bad.returncode == 1 and "1 to 8" in bad.stderr
    missing = run("studies", "transcription", "no-such-study", "--engine", "ctranslate2",
                  data_dir=installed)  # fmt: skip
    assert missing.returncode == 1 and "No study" in missing.stderr
    shown = run("studies", "transcription", study_id, "--engine", "ctranslate2", "--model",
                "test", "--speakers", "2", "--json", data_dir=installed)  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    options = json.loads(shown.stdout)
    assert options["engine"] == {"value": "ctranslate2", "from": "study"}
    assert options["speakers"] == {"value": 2, "from": "study"}
    assert options["compute_type"]["from"] == "installation"
    default = json.loads(
        run("studies", "transcription", "--default", "--json", data_dir=installed).stdout
    )
    assert default["engine"]["value"] == OPENAI_WHISPER  # the installation's stays
    done = run("transcribe", "--session", session_id, data_dir=installed)
    assert done.returncode == 0, done.stderr
    assert "with model test (ctranslate2)" in done.stderr
    assert "Speakers suggested" in done.stderr and "need checking" in done.stderr
    ctx = open_app(installed)
    try:
        with ctx.db.session() as db:
            (job,) = db.exec(
                select(TranscriptionJob).where(TranscriptionJob.session_id == session_id)
            ).all()
            assert job.engine == CTRANSLATE2
        assert any(s.speaker_suggested for s in transcript.segments(ctx.db, session_id))
    finally:
        ctx.close()


#: loaded by every Python process started with it on PYTHONPATH (the spawned worker too):
#: any attempt to reach another machine is written down and refused
NETWORK_GUARD = """
import os, socket

def _refuse(what):
    with open(os.environ["CXFIELD_NET_LOG"], "a") as log:
        log.write(f"{os.getpid()} {what}\\n")
    raise OSError("network access refused by the test")

_connect = socket.socket.connect

def _guarded_connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _refuse(f"connect {address!r}")
    return _connect(self, address)

socket.socket.connect = _guarded_connect
socket.socket.connect_ex = lambda self, address: _refuse(f"connect_ex {address!r}")
socket.getaddrinfo = lambda *a, **k: _refuse(f"getaddrinfo {a[:2]!r}")
socket.create_connection = lambda address, *a, **k: _refuse(f"create_connection {address!r}")
"""


def test_nothing_reaches_the_network_in_any_ct2_command(
    data_dir: Path, engine_models: tuple[Path, Path], tmp_path: Path
) -> None:
    """Convert, import a folder, transcribe with ctranslate2 (in the spawned worker) and
    suggest speakers, each as a user runs them, with every network call refused and logged
    in every process — and without HF_HUB_OFFLINE in the environment (cxfield sets it)."""
    checkpoint, folder = engine_models
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(NETWORK_GUARD)
    log = tmp_path / "network.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    env.update(
        CXFIELD_NET_LOG=str(log),
        PYTHONPATH=os.pathsep.join([str(guard), env.get("PYTHONPATH", ""), str(REPO)]),
    )
    probe = subprocess.run(
        [sys.executable, "-c", "import socket; socket.getaddrinfo('pypi.org', 443)"],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert probe.returncode != 0 and log.read_text().strip()  # the guard works
    log.unlink()
    fw = tmp_path / "faster-whisper-field"
    shutil.copytree(folder, fw)
    wav = write_wav(tmp_path / "a.wav", place(40, [(5.0, speech_like(20))]))
    steps = [
        ("models", "import", str(checkpoint), "--name", "pt"),
        ("models", "convert", "pt", "--to", "ctranslate2"),
        ("models", "import", str(fw)),
        ("transcribe", str(wav), "--model", "field", "--engine", "ctranslate2", "--threads", "1"),
        ("transcribe", str(wav), "--model", "pt", "--engine", "ctranslate2", "--threads", "1"),
        ("speakers", str(wav)),
    ]
    for step in steps:
        result = run(*step, data_dir=data_dir, env=env)
        assert result.returncode == 0, (step, result.stderr[-1500:])
    assert not log.exists(), log.read_text()
