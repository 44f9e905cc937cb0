"""What a test needs from the machine: a Python package or a program.

On a developer's laptop a missing optional package (faster-whisper, resemblyzer, …) or
program (espeak-ng, sox) skips the tests that need it.  ``./dev.sh test`` (CI) installs all
of them and sets ``CXFIELD_REQUIRE_EXTRAS=1``: there a missing one is a failure, not a skip,
since a skipped test on CI proves nothing.  :data:`CI_PACKAGES` and :data:`CI_PROGRAMS`
list what CI must have; ``tests/test_requires.py`` checks that dev.sh installs them."""

from __future__ import annotations

import importlib
import os
import shutil
from types import ModuleType

import pytest

REQUIRE_ENV = "CXFIELD_REQUIRE_EXTRAS"

#: Python modules of the optional engine and speaker suggestions (import name: dev.sh source)
CI_PACKAGES = {
    "faster_whisper": "faster-whisper",
    "ctranslate2": "ctranslate2",
    "transformers": "transformers",
    "resemblyzer": "resemblyzer",
    "sklearn": "scikit-learn",
    "librosa": "librosa",
    "whisper": "openai-whisper",
}
#: programs the generated-speech tests run (Debian package: program)
CI_PROGRAMS = {"espeak-ng": "espeak-ng", "sox": "sox", "ffmpeg": "ffmpeg"}


def required() -> bool:
    return os.environ.get(REQUIRE_ENV) == "1"


def missing(what: str) -> None:
    """Skip the test for lack of ``what`` — or fail it where everything must be there."""
    if required():
        pytest.fail(f"{REQUIRE_ENV}=1 but {what} is missing: `./dev.sh setup` installs it.")
    pytest.skip(f"{what} is not installed (`./dev.sh setup` installs it)", allow_module_level=True)


def module(name: str) -> ModuleType:
    """``pytest.importorskip`` that fails instead under ``CXFIELD_REQUIRE_EXTRAS=1``."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        missing(f"the Python package {CI_PACKAGES.get(name, name)} ({exc})")
        raise  # not reached: missing() skips or fails


def programs(*names: str) -> None:
    """Skip (or fail, see :func:`missing`) unless every program is on PATH."""
    absent = [n for n in names if shutil.which(n) is None]
    if absent:
        missing(" and ".join(absent))
