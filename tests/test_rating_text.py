"""One rating, one way of writing it: the runner's key (1–5), its word and the −2..+2 valence,
the same in the step list, the session view, `sessions show` and the PDFs (issue 10 item 5:
the runner said 1–5 while everything else said −2..+2)."""

from __future__ import annotations

import re
from pathlib import Path

from cxfield.app import AppContext
from cxfield.domain.rating import rating_key, rating_text, scale_point
from cxfield.export import jobs
from cxfield.services import capture, participants, templates
from tests.conftest import PYTHON, cli_env
from tests.export_support import normal, pdf_text


def test_rating_text_names_the_key_the_word_and_the_valence() -> None:
    assert [rating_key(v) for v in range(-2, 3)] == [1, 2, 3, 4, 5]
    assert [rating_text(v) for v in range(-2, 3)] == [
        "1 · Very negative (−2)",
        "2 · Negative (−1)",
        "3 · Neutral (0)",
        "4 · Positive (+1)",
        "5 · Very positive (+2)",
    ]
    assert rating_text(None) == "" and rating_text(None, "–") == "–"
    assert [scale_point(v) for v in (-2, 0, 2)] == ["1 (−2)", "3 (0)", "5 (+2)"]


def _rated_session(ctx: AppContext) -> tuple[str, str, list[str]]:
    """An interview whose first three customer steps were rated with keys 2, 5 and 3."""
    study = templates.create_from_definition(
        ctx.db, templates.load_template("benefits-office-visit")
    )
    person = participants.add_participant(ctx.db, study.id)
    participants.record_consent(ctx.db, person.id, interview=True, recording=False)
    session = capture.start_session(ctx.db, study.id, participant_id=person.id)
    steps = [s for s in capture.load_runner_state(ctx.db, session.id).journey.steps]
    names = []
    for step, valence in zip(steps, (-1, 2, 0), strict=False):
        capture.save_capture(ctx.db, session.id, step.id, valence=valence)
        names.append(step.name)
    return study.id, session.id, names


def test_sessions_show_and_the_pdfs_write_ratings_alike(ctx: AppContext, tmp_path: Path) -> None:
    import subprocess

    study_id, session_id, names = _rated_session(ctx)
    shown = subprocess.run(
        [
            PYTHON,
            "-m",
            "cxfield",
            "--data-dir",
            str(ctx.paths.root),
            "sessions",
            "show",
            session_id,
        ],
        capture_output=True,
        text=True,
        env=cli_env(),
        check=True,
    ).stdout
    for name, text in zip(
        names, ("2 · Negative (−1)", "5 · Very positive (+2)", "3 · Neutral (0)"), strict=True
    ):
        assert f"/ {name}: {text}" in shown, shown

    summary = tmp_path / "session.pdf"
    jobs.export_session_pdf(ctx.db, session_id, summary)
    plain = normal(pdf_text(summary))
    for text in ("2 · Negative (−1)", "5 · Very positive (+2)", "3 · Neutral (0)"):
        assert text in plain, plain

    report = tmp_path / "study.pdf"
    jobs.export_study_pdf(ctx.db, study_id, report)
    table = normal(pdf_text(report))
    # the step table heads each count column with the key over its valence: 1 over (−2) …
    heads = r"1 \(−2\).*2 \(−1\).*3 \(0\).*4 \(\+1\).*5 \(\+2\).*Pain points"
    assert re.search(heads, table), table
