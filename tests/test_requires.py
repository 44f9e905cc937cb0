"""CI has every optional package and program the engine and speaker tests need: dev.sh
installs them, and ``./dev.sh test`` turns a missing one into a failure instead of a skip."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from tests import requires

REPO = Path(__file__).resolve().parent.parent


def _dev_sh() -> str:
    return (REPO / "dev.sh").read_text(encoding="utf-8")


def test_a_missing_package_skips_on_a_laptop_and_fails_on_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(requires.REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception):
        requires.module("cxfield_no_such_package")
    with pytest.raises(pytest.skip.Exception):
        requires.programs("cxfield-no-such-program")
    monkeypatch.setenv(requires.REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="cxfield_no_such_package"):
        requires.module("cxfield_no_such_package")
    with pytest.raises(pytest.fail.Exception, match="cxfield-no-such-program"):
        requires.programs("sh", "cxfield-no-such-program")
    assert requires.module("json").dumps([]) == "[]"
    requires.programs("sh")  # present: nothing happens


def test_dev_sh_test_requires_the_extras() -> None:
    command = _dev_sh().split("  test)", 1)[1].split(";;", 1)[0]
    assert f"{requires.REQUIRE_ENV}=1" in command and "pytest" in command


def test_dev_sh_installs_every_program_the_tests_need() -> None:
    block = _dev_sh().split("APT_PACKAGES=(", 1)[1].split(")", 1)[0]
    packages = set(re.sub(r"#.*", "", block).split())
    assert set(requires.CI_PROGRAMS.values()) <= packages


def test_dev_sh_installs_every_package_the_tests_need() -> None:
    text = _dev_sh()
    extras_used = re.search(r'pip install -q -e "\.\[([^\]]+)\]"', text)
    assert extras_used is not None
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    installed = " ".join(
        dep for extra in extras_used.group(1).split(",") for dep in extras[extra.strip()]
    )
    installed += " " + " ".join(re.findall(r'pip install -q (?:--no-deps )?"([^"]+)"', text))
    names = {re.split(r"[=<>\[ ]", dep, maxsplit=1)[0].lower() for dep in installed.split()}
    assert set(requires.CI_PACKAGES.values()) <= names, names


def test_where_required_every_package_is_there() -> None:
    if not requires.required():
        pytest.skip(f"{requires.REQUIRE_ENV} is not set (./dev.sh test sets it)")
    for name in requires.CI_PACKAGES:
        requires.module(name)
    requires.programs(*requires.CI_PROGRAMS)
