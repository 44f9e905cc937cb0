"""Study definition files keep the study's identity: same ids, same rows on every laptop,
an import of a known study updates it when newer and never makes a copy."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from cxfield.app import AppContext, open_app
from cxfield.domain.errors import ValidationError
from cxfield.services import journey_editor, studies, templates
from cxfield.sync import protocol
from cxfield.sync.state import table_of
from tests.test_cli import run

DEFINITION_TABLES = ("study", "consent_text", "stage", "step")


@pytest.fixture
def laptops(tmp_path: Path) -> Iterator[tuple[AppContext, AppContext]]:
    a, b = open_app(tmp_path / "lead"), open_app(tmp_path / "researcher")
    yield a, b
    a.close()
    b.close()


def _rows(ctx: AppContext, study_id: str) -> dict[str, dict[str, str]]:
    """table -> row id -> content hash, as the sync would send them."""
    found: dict[str, dict[str, str]] = {}
    with ctx.db.engine.connect() as conn:
        for name in DEFINITION_TABLES:
            table = table_of(name)
            key = table.c.id if name == "study" else table.c.study_id
            found[name] = {
                row.id: protocol.content_hash(protocol.encode_row(protocol.TABLES[name], row), name)
                for row in conn.execute(select(table).where(key == study_id))
            }
    return found


def _lead_study(ctx: AppContext) -> Any:
    study = templates.create_from_definition(
        ctx.db, templates.load_template("benefits-office-visit"), name="Eastside 2026"
    )
    journey_editor.set_consent_text(ctx.db, study.id, "Second wording.")
    first = studies.get_journey(ctx.db, study.id).steps[0]
    journey_editor.delete_step(ctx.db, first.id)  # a tombstone travels too
    return study


def test_two_laptops_importing_one_file_hold_the_same_rows(
    laptops: tuple[AppContext, AppContext], tmp_path: Path
) -> None:
    lead, researcher = laptops
    study = _lead_study(lead)
    path = templates.write_definition(lead.db, study.id, tmp_path / "study.json")
    result = templates.import_study(researcher.db, path)
    assert result.outcome == "created" and result.study.id == study.id
    # Every definition row, tombstones and consent wordings included, has the same id and
    # the same content: syncing both laptops sends duplicates, not conflicts.
    assert _rows(researcher, study.id) == _rows(lead, study.id)
    assert len(_rows(lead, study.id)["consent_text"]) == 2
    journey = studies.get_journey(researcher.db, study.id)
    assert [s.id for s in journey.steps] == [
        s.id for s in studies.get_journey(lead.db, study.id).steps
    ]
    # The same file again: nothing changes, and no copy appears.
    again = templates.import_study(researcher.db, path)
    assert again.outcome == "unchanged" and again.study.id == study.id
    assert [s.id for s in studies.list_studies(researcher.db)] == [study.id]


def test_a_newer_file_updates_and_an_older_one_changes_nothing(
    laptops: tuple[AppContext, AppContext], tmp_path: Path
) -> None:
    lead, researcher = laptops
    study = _lead_study(lead)
    old = templates.write_definition(lead.db, study.id, tmp_path / "v1.json")
    templates.import_study(researcher.db, old)
    wait = next(s for s in studies.get_journey(lead.db, study.id).steps if s.name == "Wait")
    journey_editor.update_step(lead.db, wait.id, name="Wait for a number")
    journey_editor.set_consent_text(lead.db, study.id, "Third wording.")
    added = studies.add_step(
        lead.db, studies.get_journey(lead.db, study.id).stages[0].stage.id, "Greeter"
    )
    new = templates.write_definition(lead.db, study.id, tmp_path / "v2.json")
    assert (
        json.loads(new.read_text())["study"]["revision"]
        > json.loads(old.read_text())["study"]["revision"]
    )

    updated = templates.import_study(researcher.db, new)
    assert updated.outcome == "updated" and updated.study.consent_text == "Third wording."
    assert _rows(researcher, study.id) == _rows(lead, study.id)
    names = [s.name for s in studies.get_journey(researcher.db, study.id).steps]
    assert "Wait for a number" in names and "Greeter" in names
    assert added.id in {s.id for s in studies.get_journey(researcher.db, study.id).steps}

    before = _rows(researcher, study.id)
    stale = templates.import_study(researcher.db, old)
    assert stale.outcome == "older" and _rows(researcher, study.id) == before
    assert len(studies.list_studies(researcher.db)) == 1


def test_a_renamed_import_of_a_file_with_ids_is_refused(
    laptops: tuple[AppContext, AppContext], tmp_path: Path
) -> None:
    lead, researcher = laptops
    study = _lead_study(lead)
    path = templates.write_definition(lead.db, study.id, tmp_path / "study.json")
    with pytest.raises(ValidationError, match="carries its study's id"):
        templates.import_study(researcher.db, path, name="My copy")
    assert studies.list_studies(researcher.db) == []


def test_a_file_with_a_broken_id_creates_nothing(
    laptops: tuple[AppContext, AppContext], tmp_path: Path
) -> None:
    lead, researcher = laptops
    study = _lead_study(lead)
    path = templates.write_definition(lead.db, study.id, tmp_path / "study.json")
    data = json.loads(path.read_text())
    data["stages"][1]["steps"][0]["id"] = 42
    path.write_text(json.dumps(data))
    with pytest.raises(ValidationError, match="no valid id"):
        templates.import_study(researcher.db, path)
    assert studies.list_studies(researcher.db) == []


def test_cli_import_says_up_to_date(data_dir: Path, tmp_path: Path) -> None:
    lead = open_app(tmp_path / "lead")
    study = _lead_study(lead)
    path = templates.write_definition(lead.db, study.id, tmp_path / "study.json")
    lead.close()
    first = run("studies", "import", str(path), data_dir=data_dir)
    assert first.returncode == 0 and first.stdout.strip() == study.id, first.stderr
    second = run("studies", "import", str(path), data_dir=data_dir)
    assert second.returncode == 0 and second.stdout.strip() == study.id
    assert "already up to date; nothing changed" in second.stderr
    listed = json.loads(run("studies", "list", "--json", data_dir=data_dir).stdout)
    assert [s["id"] for s in listed] == [study.id]
