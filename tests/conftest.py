"""Test set-up: never touch a real user's data, run Qt offscreen, keep torch to one thread."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from cxfield.app import AppContext, open_app  # noqa: E402

#: real hubs (subprocess or in-process, SQLite and PostgreSQL) and PostgreSQL databases
pytest_plugins = ["tests.pg_support", "tests.hub_support"]

REPO = Path(__file__).resolve().parent.parent
#: small real recordings kept in the repository (see tests/fixtures/README.md)
FIXTURES = REPO / "tests" / "fixtures"


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """platformdirs must never resolve to the real user's directories in tests."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.delenv("CXFIELD_DATA_DIR", raising=False)


@pytest.fixture(autouse=True)
def _qt_garbage_goes_with_its_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test with Qt objects: Qt's deferred deletions and the cyclic collector run at
    once, so a window or timer the test left behind is destroyed here, in that test's
    teardown (and a crash in a destructor names it), not at a random allocation in a later
    test in the same worker."""
    yield
    if "qapp" not in request.fixturenames or "PySide6.QtCore" not in sys.modules:
        return
    import gc

    from PySide6.QtCore import QCoreApplication, QEvent

    if QCoreApplication.instance() is not None:
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def ctx(data_dir: Path) -> Iterator[AppContext]:
    context = open_app(data_dir)
    yield context
    context.close()


def cli_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    return env


PYTHON = sys.executable


@pytest.fixture
def whisper_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small random Whisper checkpoint (no weights can be downloaded), built once per
    test session; see tests/transcribe_support.py."""
    from tests.transcribe_support import build_checkpoint

    path = tmp_path_factory.getbasetemp() / "whisper-test-ckpt.pt"
    if not path.exists():
        build_checkpoint(path.with_suffix(".tmp")).replace(path)
    return path


@pytest.fixture(scope="session")
def engine_models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same random weights for both engines, built once per test session: a sharpened
    checkpoint (tokens that follow the audio) and its CTranslate2 conversion (float32)."""
    from tests import requires

    requires.module("faster_whisper")
    requires.module("ctranslate2")
    requires.module("transformers")
    from cxfield.transcribe.ct2_convert import convert_checkpoint
    from tests.transcribe_support import build_checkpoint

    base = tmp_path_factory.mktemp("engines")
    checkpoint = build_checkpoint(base / "sharp.pt", sharpen=True)
    folder = convert_checkpoint(checkpoint, base / "sharp.ct2")
    return checkpoint, folder


@pytest.fixture(scope="session")
def qapp() -> object:
    """pytest-qt's application, set up as the app sets up its own (bundled fonts included),
    so screens under test draw what users see."""
    from cxfield.gui.application import create_application

    return create_application()
