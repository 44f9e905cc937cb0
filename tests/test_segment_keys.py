"""Segment attribute keys keep the letters of every script ("Tamaño del hogar" ->
tamaño_del_hogar, not tama_o_del_hogar); keys already stored stay as they are, and
`export study --segment KEY=VALUE` matches both."""

from __future__ import annotations

import csv
import unicodedata
from pathlib import Path

import pytest

from cxfield.app import AppContext
from cxfield.cli import main
from cxfield.domain.errors import ValidationError
from cxfield.domain.rules import check_segment_key, segment_key
from cxfield.services import analysis, capture, journey_editor, participants, studies
from cxfield.storage.models import Study


@pytest.mark.parametrize(
    ("label", "key"),
    [
        ("Tamaño del hogar", "tamaño_del_hogar"),
        (unicodedata.normalize("NFD", "Tamaño del hogar"), "tamaño_del_hogar"),  # macOS input
        ("Age band", "age_band"),
        ("Langue parlée à la maison", "langue_parlée_à_la_maison"),
        ("हिन्दी भाषा", "हिन्दी_भाषा"),  # vowel signs and virama are kept (not letters to isalnum)
        ("Ngôn ngữ", "ngôn_ngữ"),
        ("اللغة المنطوقة", "اللغة_المنطوقة"),
        ("使用语言", "使用语言"),
        ("18+ years", "a_18_years"),
        ("  First / returning visit? ", "first_returning_visit"),
    ],
)
def test_keys_keep_letters_of_every_script(label: str, key: str) -> None:
    assert segment_key(label) == key
    assert check_segment_key(key) == key


def test_key_rules() -> None:
    assert check_segment_key("tama_o_del_hogar") == "tama_o_del_hogar"  # stored before
    assert len(segment_key("Ñ" * 60)) == 40
    for bad in ("9bad", "_lead", "Tamaño", "a-b", 'a"b', "", "x" * 41,
                unicodedata.normalize("NFD", "tamaño")):  # fmt: skip
        with pytest.raises(ValidationError, match="Segment key"):
            check_segment_key(bad)


def _study(ctx: AppContext) -> Study:
    study = studies.create_study(ctx.db, Study(name="Hogares"))
    stage = studies.add_stage(ctx.db, study.id, "Llegada")
    studies.add_step(ctx.db, stage.id, "Recepción")
    return study


def test_new_keys_keep_unicode_and_stored_keys_stay(ctx: AppContext) -> None:
    study = _study(ctx)
    saved = journey_editor.set_segment_attributes(
        ctx.db,
        study.id,
        [
            {"label": "Tamaño del hogar", "values": ["1", "2", "3+"]},
            # stored by an earlier version, then its label corrected: the key stays
            {"key": "tama_o_de_la_casa", "label": "Tamaño de la casa", "values": ["a", "b"]},
        ],
    )
    keys = [a["key"] for a in saved.segment_attributes]
    assert keys == ["tamaño_del_hogar", "tama_o_de_la_casa"]


def _export_sessions(data_dir: Path, study_id: str, segment: str, out: Path) -> list[str]:
    code = main(["--data-dir", str(data_dir), "export", "study", study_id, "--csv", str(out),
                 "--segment", segment])  # fmt: skip
    assert code == 0
    with (out / "sessions.csv").open(encoding="utf-8-sig", newline="") as handle:
        return [row["participant_code"] for row in csv.DictReader(handle)]


def test_cli_segment_filter_matches_unicode_and_old_keys(
    ctx: AppContext, data_dir: Path, tmp_path: Path
) -> None:
    study = _study(ctx)
    journey_editor.set_segment_attributes(
        ctx.db,
        study.id,
        [
            {"label": "Tamaño del hogar", "values": ["1", "3+"]},
            {"key": "tama_o_de_la_casa", "label": "Tamaño de la casa", "values": ["a", "b"]},
        ],
    )
    codes = {}
    for size, house in (("1", "a"), ("3+", "b"), ("3+", "a")):
        person = participants.add_participant(
            ctx.db, study.id, {"tamaño_del_hogar": size, "tama_o_de_la_casa": house}
        )
        participants.record_consent(ctx.db, person.id, interview=True, recording=False)
        capture.start_session(ctx.db, study.id, participant_id=person.id)
        codes[(size, house)] = person.code
    big = sorted([codes[("3+", "b")], codes[("3+", "a")]])
    found = _export_sessions(data_dir, study.id, "tamaño_del_hogar=3+", tmp_path / "a")
    assert sorted(found) == big
    nfd = unicodedata.normalize("NFD", "tamaño_del_hogar=3+")
    assert sorted(_export_sessions(data_dir, study.id, nfd, tmp_path / "b")) == big
    old = _export_sessions(data_dir, study.id, "tama_o_de_la_casa=b", tmp_path / "c")
    assert old == [codes[("3+", "b")]]
    header = (tmp_path / "a" / "participants.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert "segment_tamaño_del_hogar" in header.split(",")
    # the journey map's "compare by segment" reads the same key
    curves = analysis.segment_curves(ctx.db, study.id, "tamaño_del_hogar")
    assert curves.sessions == {"1": 1, "3+": 2}
