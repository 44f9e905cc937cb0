"""The model store and `cxfield models ...`: import with verification, clear messages for
missing, unknown, corrupt and truncated checkpoints, offline download; nothing half-written."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from cxfield.domain.errors import NotFoundError, ValidationError
from cxfield.transcribe.model_store import ModelError, ModelStore, official_models
from tests.test_cli import run


def _leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_import_verifies_and_lists(tmp_path: Path, whisper_checkpoint: Path) -> None:
    store = ModelStore(tmp_path / "models")
    seen: list[tuple[int, int]] = []
    model = store.import_file(
        whisper_checkpoint, "interview-small", lambda d, t: seen.append((d, t))
    )
    assert model.verified and not model.official
    assert model.languages == "99 languages"
    assert model.sha256 == hashlib.sha256(whisper_checkpoint.read_bytes()).hexdigest()
    assert seen[-1] == (whisper_checkpoint.stat().st_size,) * 2
    assert _leftovers(store.root) == ["interview-small.json", "interview-small.pt"]
    assert store.resolve("interview-small") == (store.root / "interview-small.pt", None)
    assert store.verify("interview-small").verified
    # damaged after installation: no longer verified, and verify says why
    path = store.root / "interview-small.pt"
    path.write_bytes(path.read_bytes()[:-1000])
    assert not store.get("interview-small").verified
    with pytest.raises(ValidationError, match="truncated or corrupt"):
        store.verify("interview-small")
    assert store.get("interview-small").problem


def test_bad_checkpoints_are_refused_and_leave_nothing(
    tmp_path: Path,
    whisper_checkpoint: Path,
) -> None:
    store = ModelStore(tmp_path / "models")
    truncated = tmp_path / "usb" / "tiny.pt"
    truncated.parent.mkdir()
    truncated.write_bytes(whisper_checkpoint.read_bytes()[:2_000_000])
    # an official name must match whisper's own SHA-256
    with pytest.raises(ValidationError, match="not the official tiny model"):
        store.import_file(truncated)
    # under another name the structure is checked: a truncated zip is refused
    with pytest.raises(ValidationError, match="truncated or corrupt"):
        store.import_file(truncated, "mine")
    not_whisper = tmp_path / "usb" / "other.pt"
    import torch

    torch.save({"weights": torch.zeros(3)}, not_whisper)
    with pytest.raises(ValidationError, match="no 'dims' and 'model_state_dict'"):
        store.import_file(not_whisper)
    with pytest.raises(ValidationError, match="Invalid model name"):
        store.import_file(whisper_checkpoint, "../evil")
    with pytest.raises(NotFoundError):
        store.import_file(tmp_path / "nope.pt")
    assert _leftovers(store.root) == []


def test_names_resolve_with_instructions(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "models")
    assert official_models()["tiny"].startswith("65147644a518d12f")
    with pytest.raises(
        ModelError, match=r"not installed.*models import PATH.*models download base"
    ):
        store.resolve("base")
    with pytest.raises(ModelError, match="Unknown model 'tinyy'.*Official names: tiny.en, tiny"):
        store.resolve("tinyy")
    with pytest.raises(ModelError, match="does not exist"):
        store.resolve(str(tmp_path / "missing.pt"))


def test_download_offline_says_what_to_do(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "models")
    # whisper's real downloader against a port where nothing listens (no internet here)
    with pytest.raises(ModelError, match="offline or cannot reach.*models import PATH"):
        store.download("tiny", url="http://127.0.0.1:9/x/65147644/tiny.pt")
    assert _leftovers(store.root) == []


def test_models_cli(data_dir: Path, whisper_checkpoint: Path, tmp_path: Path) -> None:
    empty = run("models", "list", data_dir=data_dir)
    assert empty.returncode == 0 and "No models installed" in empty.stderr
    imported = run(
        "models", "import", str(whisper_checkpoint), "--name", "field", data_dir=data_dir
    )
    assert imported.returncode == 0, imported.stderr
    assert "Installed field" in imported.stderr
    listed = run("models", "list", "--json", data_dir=data_dir)
    rows = json.loads(listed.stdout)
    assert [(r["name"], r["verified"], r["languages"]) for r in rows] == [
        ("field", True, "99 languages")
    ]
    table = run("models", "list", data_dir=data_dir)
    assert table.stdout.splitlines()[1].split()[:2] == ["field", "14"]
    bad = tmp_path / "broken.pt"
    bad.write_bytes(b"not a checkpoint")
    refused = run("models", "import", str(bad), data_dir=data_dir)
    assert refused.returncode == 1
    assert "Traceback" not in refused.stderr
    assert refused.stderr.splitlines()[-1].startswith("cxfield: error: broken.pt is not a usable")
    assert "truncated or corrupt" in refused.stderr
    unknown = run("models", "download", "huge", data_dir=data_dir)
    assert unknown.returncode == 1 and "Unknown model 'huge'" in unknown.stderr


def test_remove_installed_and_missing(tmp_path: Path, whisper_checkpoint: Path) -> None:
    store = ModelStore(tmp_path / "models")
    store.import_file(whisper_checkpoint, name="small-test")
    with pytest.raises(NotFoundError, match=r"'tiny' is not installed \(installed: small-test\)"):
        store.remove("tiny")
    store.remove("small-test")
    assert store.list() == []
    assert not any((tmp_path / "models").iterdir())
