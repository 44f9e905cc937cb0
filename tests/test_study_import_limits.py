"""`studies import` checks every value of a definition against limits no real study
reaches, with one-line messages; no input makes it crash or create half a study."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import func, select

from cxfield.app import AppContext
from cxfield.cli import main
from cxfield.domain.errors import CxfieldError, ValidationError
from cxfield.services import studies, templates
from cxfield.storage.models import ConsentText, Stage, Step, Study
from tests.test_cli import run


def _valid() -> dict[str, Any]:
    return templates.load_template("benefits-office-visit")


def _with(change: Any) -> bytes:
    data = _valid()
    change(data)
    return json.dumps(data).encode()


def _set(path: str, value: Any) -> Any:
    """A change that sets ``data[a][b]...`` (numbers index lists)."""
    keys = [int(k) if k.isdigit() else k for k in path.split(".")]

    def change(data: Any) -> None:
        for key in keys[:-1]:
            data = data[key]
        data[keys[-1]] = value

    return change


def _nested(depth: int, opener: str, middle: str, closer: str) -> bytes:
    return (
        b'{"format": "cxfield-study", "format_version": 1, "study": {"name": "X"}, "stages": '
        + opener.encode() * depth
        + middle.encode()
        + closer.encode() * depth
        + b"}"
    )


BAD: list[tuple[str, bytes, str]] = [
    ("step name null", _with(_set("stages.0.steps.0.name", None)), "name is missing"),
    ("step name list", _with(_set("stages.0.steps.0.name", ["a"])), "must be text, not a list"),
    ("stage name number", _with(_set("stages.1.name", 7)), "must be text, not a number"),
    ("arrays 100k deep", _nested(100_000, "[", "", "]"), "nested too deeply"),
    ("objects 100k deep", _nested(100_000, '{"a":', "0", "}"), "nested too deeply"),
    ("arrays 50 deep", _nested(50, "[", "", "]"), "nested more than 8 levels"),
    (
        "100,000-digit version",
        b'{"format": "cxfield-study", "format_version": ' + b"9" * 100_000 + b"}",
        "a number in it is too long",
    ),
    ("version true", _with(_set("format_version", True)), "format version true"),
    ("version 1.0", _with(_set("format_version", 1.0)), "format version 1.0"),
    ("trust zzz", _with(_set("study.survey_trust_variant", "zzz")), "survey_trust_variant"),
    ("effectiveness 3", _with(_set("study.survey_effectiveness_variant", 3)), "effectiveness"),
    ("survey v9", _with(_set("study.survey_version", "v9")), "survey_version"),
    ("NUL in study name", _with(_set("study.name", "Office\x00visit")), "control character"),
    ("NUL in step name", _with(_set("stages.0.steps.0.name", "Queue\x00")), "control character"),
    ("NUL in consent", _with(_set("study.consent_text", "I agree\x00")), "control character"),
    ("lone surrogate", _with(_set("stages.0.name", "\ud800")), "control character"),
    ("10 MB description", _with(_set("study.description", "x" * 10_000_000)), "at most 5 MB"),
    ("100 KB description", _with(_set("study.description", "x" * 100_000)), "10,000 characters"),
    ("1 MB consent", _with(_set("study.consent_text", "y" * 1_000_000)), "longer than 20,000"),
    (
        "10,000 stages",
        _with(_set("stages", [{"name": f"S{n}", "steps": []} for n in range(10_000)])),
        "10,000 stages",
    ),
    (
        "1,000 steps",
        _with(_set("stages.0.steps", [{"name": f"T{n}"} for n in range(1_000)])),
        "1,000 entries",
    ),
    ("lane list", _with(_set("stages.0.steps.0.lane", ["user"])), "lane of step 1 of stage 1"),
    ("segments object", _with(_set("study.segment_attributes", {"a": 1})), "must be a list"),
    ("segment value number", _with(_set("study.segment_attributes.0.values", [3])), "must be text"),
    ("emotions text", _with(_set("study.extra_emotions", "tired")), "must be a list"),
    ("program list", _with(_set("study.program", ["a"])), "program name must be text"),
    ("stage not object", _with(_set("stages.0", "Arrive")), "Stage 1 is not an object"),
    ("steps object", _with(_set("stages.0.steps", {"name": "x"})), "must be a list"),
]


@pytest.mark.parametrize(("content", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_definitions_are_refused_in_one_line(
    data_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes,
    message: str,
) -> None:
    path = tmp_path / "study.json"
    path.write_bytes(content)
    assert main(["--data-dir", str(data_dir), "studies", "import", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("cxfield: error:"), err[:500]
    assert len(err) < 400 and message in err, err
    assert main(["--data-dir", str(data_dir), "studies", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_import_as_a_user_runs_it(data_dir: Path, tmp_path: Path) -> None:
    """The same through the console command: a step name null, then a good file with a BOM."""
    path = tmp_path / "study.json"
    path.write_bytes(_with(_set("stages.0.steps.0.name", None)))
    result = run("studies", "import", str(path), data_dir=data_dir)
    assert result.returncode == 1
    assert result.stderr == "cxfield: error: Step 1 of stage 1 name is missing.\n"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(_valid()).encode())
    result = run("studies", "import", str(path), data_dir=data_dir)
    assert result.returncode == 0, result.stderr


def test_a_byte_order_mark_is_accepted(ctx: AppContext, tmp_path: Path) -> None:
    path = tmp_path / "from-notepad.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(_valid()).encode())
    study = templates.import_definition(ctx.db, path, name="With BOM")
    assert len(studies.get_journey(ctx.db, study.id).steps) == 9


def test_limits_leave_room_for_a_large_real_study(ctx: AppContext, tmp_path: Path) -> None:
    data = _valid()
    data["study"]["consent_text"] = "Consent paragraph. " * 1000  # 19,000 characters
    data["stages"] = [
        {"name": f"Stage {s}", "description": "d" * 2000,
         "steps": [{"name": f"Step {s}.{t}", "lane": "backstage"} for t in range(15)]}
        for s in range(20)
    ]  # fmt: skip
    path = tmp_path / "big.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    study = templates.import_definition(ctx.db, path)
    assert len(studies.get_journey(ctx.db, study.id).steps) == 300


# --- property: no input crashes the import or leaves half a study ----------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=25,
)
PATHS = [
    "format_version", "study", "study.name", "study.program", "study.description",
    "study.consent_text", "study.segment_attributes", "study.segment_attributes.0",
    "study.segment_attributes.0.label", "study.segment_attributes.0.key",
    "study.segment_attributes.0.values", "study.extra_emotions", "study.survey_version",
    "study.survey_trust_variant", "study.survey_effectiveness_variant", "study.a11_population",
    "stages", "stages.0", "stages.0.name", "stages.0.description", "stages.0.steps",
    "stages.0.steps.0", "stages.0.steps.0.name", "stages.0.steps.0.lane",
    "stages.0.steps.0.channel", "stages.0.steps.0.description",
]  # fmt: skip


def _mutated(value: Any, path: str) -> dict[str, Any]:
    data = _valid()
    data["study"]["segment_attributes"] = data["study"].get("segment_attributes") or [
        {"label": "Language", "values": ["English"]}
    ]
    keys = [int(k) if k.isdigit() else k for k in path.split(".")]
    target: Any = data
    for key in keys[:-1]:
        target = target[key]
    target[keys[-1]] = value
    return data


def _counts(ctx: AppContext) -> tuple[int, ...]:
    with ctx.db.session() as db:
        return tuple(
            db.exec(select(func.count()).select_from(model)).one()
            for model in (Study, Stage, Step, ConsentText)
        )


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    document=st.one_of(
        JSON,
        st.builds(_mutated, JSON, st.sampled_from(PATHS)),
        st.binary(max_size=200),
    )
)
def test_no_input_crashes_or_half_creates(ctx: AppContext, tmp_path: Path, document: Any) -> None:
    raw = document if isinstance(document, bytes) else json.dumps(document).encode()
    path = tmp_path / "any.json"
    path.write_bytes(raw)
    before = _counts(ctx)
    try:
        study = templates.import_definition(ctx.db, path, name=f"S{len(before)}-{before[0]}")
    except (ValidationError, CxfieldError) as exc:
        message = str(exc)
        assert message and "\n" not in message and len(message) < 400, message
        assert _counts(ctx) == before  # nothing half-created
        return
    # accepted: a complete study with its consent text and every stage and step
    after = _counts(ctx)
    journey = studies.get_journey(ctx.db, study.id)
    assert after[0] == before[0] + 1 and after[3] == before[3] + 1
    assert after[1] - before[1] == len(journey.stages)
    assert after[2] - before[2] == len(journey.steps)
