"""The session summary PDF: one interview or observation in one to three pages."""

from __future__ import annotations

from datetime import datetime
from typing import IO, Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, PageBreak, Spacer

from cxfield.domain.clock import moment_text
from cxfield.domain.rating import rating_text
from cxfield.domain.survey import (
    LIKERT_LABELS,
    V2_NOT_WELL,
    V2_WENT_WELL,
    fill,
    v1_items,
)
from cxfield.domain.vocabulary import BlueprintLane
from cxfield.export.charts import VALENCE_COLORS, CurvePoint, emotion_curve
from cxfield.export.layout import (
    Cancelled,
    Progress,
    ReportDocument,
    Styles,
    build,
    fmt_seconds,
    make_styles,
    p,
    table,
)
from cxfield.storage.models import Study
from cxfield.transcribe.export import speaker_label


def clock(seconds: float | None) -> str:
    """A moment in the session or its recording, written as the app writes a note's time
    (HH:MM:SS, rounded down); "–" when unknown."""
    return "–" if seconds is None else moment_text(seconds)


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class SessionSummary:
    def __init__(
        self, detail: dict[str, Any], study: Study, styles: Styles, width: float, transcript: bool
    ) -> None:
        self.d = detail
        self.study = study
        self.s = styles
        self.width = width
        self.transcript = transcript
        self.step_names = {row["step_id"]: row["step"] for row in detail["steps"]}

    def story(self) -> list[Flowable]:
        out = self.header()
        out += self.curve()
        out += self.steps()
        out += self.quotes()
        out += self.observation()
        out += self.survey()
        out += self.transcript_appendix()
        return out

    def header(self) -> list[Flowable]:
        s, d = self.s, self.d
        started, ended = _when(d["started_at"]), _when(d["ended_at"])
        if d["participant_code"]:
            title = f"{d['mode'].capitalize()} with {d['participant_code']}"
        else:
            title = f"{d['mode'].capitalize()} at {d['site'] or 'an unnamed site'}"
        date = f"{started:%Y-%m-%d %H:%M} UTC" if started else "–"
        if started and ended:
            date += f" to {ended:%H:%M} ({fmt_seconds((ended - started).total_seconds())})"
        labels = {
            str(a.get("key")): str(a.get("label") or a.get("key"))
            for a in self.study.segment_attributes
        }
        segments = "; ".join(
            f"{labels.get(k, k)}: {v}" for k, v in sorted(d["participant_segments"].items())
        )
        facts = [
            ("Study", self.study.name),
            ("Site", d["site"] or "–"),
            ("Date", date),
            ("Mode / status", f"{d['mode'].capitalize()} / {d['status'].replace('_', ' ')}"),
            ("Researcher", d["researcher"] or "–"),
            ("Participant", d["participant_code"] or "–"),
            ("Segments", segments or "none recorded"),
        ]
        if d["notes_text"]:
            facts.append(("Session notes", d["notes_text"]))
        rows = [[p(k, s.cell_bold), p(v, s.cell)] for k, v in facts]
        return [
            p("SESSION SUMMARY", s.muted),
            p(title, s.title),
            Spacer(1, 6),
            table(
                rows,
                [36 * mm, self.width - 36 * mm],
                header_rows=0,
                extra=[("BACKGROUND", (0, 0), (0, -1), s.note.backColor)],
            ),
        ]

    def _shown_steps(self) -> list[dict[str, Any]]:
        return [
            row
            for row in self.d["steps"]
            if row["capture"] is not None or row["lane"] == BlueprintLane.USER.value
        ]

    def curve(self) -> list[Flowable]:
        rows = self._shown_steps()
        points = [CurvePoint(row["step"], (row["capture"] or {}).get("valence")) for row in rows]
        if not any(pt.mean is not None for pt in points):
            return []
        return [
            p("Emotion across the journey", self.s.h1),
            emotion_curve(points, self.width, 52 * mm),
        ]

    def steps(self) -> list[Flowable]:
        s = self.s
        captured = [row["capture"] for row in self.d["steps"] if row["capture"]]
        if not any(c["valence"] is not None or c["emotions"] or c["pain_point"] for c in captured):
            return []  # an observation: its notes go with the step times
        out: list[Flowable] = [p("Step by step", s.h1)]
        rows: list[list[Any]] = [
            [p(h, s.head) for h in ("Step", "Feeling", "Emotions", "Pain", "Notes")]
        ]
        extra: list[tuple[Any, ...]] = []
        for index, row in enumerate(self._shown_steps(), start=1):
            cap = row["capture"]
            if cap is None:
                rows.append(
                    [
                        p(f"{row['stage']} › {row['step']}", s.cell),
                        p("not captured", s.muted),
                        "",
                        "",
                        "",
                    ]
                )
                continue
            valence = cap["valence"]
            feeling = "–"
            if valence is not None:
                feeling = rating_text(valence)
                extra.append(("TEXTCOLOR", (1, index), (1, index), VALENCE_COLORS[valence]))
            emotions = ", ".join(cap["emotions"])
            if cap["intensity"]:
                emotions += f" (intensity {cap['intensity']}/5)"
            rows.append(
                [
                    p(f"{row['stage']} › {row['step']}", s.cell),
                    p(feeling, s.cell_bold) if valence is not None else "–",
                    p(emotions or "–", s.cell),
                    "Yes" if cap["pain_point"] else "",
                    p(cap["notes"] or "", s.cell),
                ]
            )
        out.append(
            table(rows, [40 * mm, 40 * mm, 34 * mm, 14 * mm, self.width - 128 * mm], extra=extra)
        )
        return out

    def quotes(self) -> list[Flowable]:
        s, d = self.s, self.d
        rates = {r["id"]: r["sample_rate"] for r in d["recordings"]}
        rows: list[list[Any]] = [
            [p(h, s.head) for h in ("Session time", "Audio", "Step", "Quote or note")]
        ]
        seen: set[str] = set()
        for note in d["notes"]:
            audio = None
            if note["recording_offset_frames"] is not None and note["recording_id"] in rates:
                audio = note["recording_offset_frames"] / max(1, rates[note["recording_id"]])
            is_quote = "quote" in note["tags"]
            text = f"“{note['text']}”" if is_quote else note["text"]
            tags = [t.replace("_", " ") for t in note["tags"] if t != "quote"]
            if tags:
                text += f"  [{', '.join(tags)}]"
            if is_quote:
                seen.add(note["text"].strip())
            rows.append(
                [
                    clock(note["offset_s"]),
                    clock(audio),
                    p(self.step_names.get(note["step_id"], "–"), s.cell),
                    p(text, s.cell_quote if is_quote else s.cell),
                ]
            )
        for row in d["steps"]:
            quote = (row["capture"] or {}).get("quote", "").strip()
            if quote and quote not in seen:
                rows.append(["–", "–", p(row["step"], s.cell), p(f"“{quote}”", s.cell_quote)])
        if len(rows) == 1:
            return []
        return [
            p("Quotes and notes", s.h1),
            table(rows, [22 * mm, 18 * mm, 36 * mm, self.width - 76 * mm]),
            p(
                "Session time counts from the start of the session; audio time is the position "
                "in the recording, where the note was linked to one.",
                s.muted,
            ),
        ]

    def observation(self) -> list[Flowable]:
        s, d = self.s, self.d
        started = _when(d["started_at"])
        rows: list[list[Any]] = [
            [p(h, s.head) for h in ("Step", "Entered", "Left", "Time in step", "Notes")]
        ]
        steps = {row["step_id"]: row for row in d["steps"]}
        seen: dict[str, int] = {}
        for visit in d.get("observation_visits", []):
            row = steps.get(visit["step_id"])
            entered, left = _when(visit["entered_at"]), _when(visit["left_at"])
            if row is None or entered is None:
                continue
            seen[visit["step_id"]] = seen.get(visit["step_id"], 0) + 1
            again = seen[visit["step_id"]] > 1
            label = f"{row['stage']} › {row['step']}" + (" (again)" if again else "")
            rel = clock((entered - started).total_seconds()) if started else "–"
            out_rel = clock((left - started).total_seconds()) if started and left else "–"
            duration = fmt_seconds((left - entered).total_seconds()) if left else "–"
            notes = "" if again else (row["capture"] or {}).get("notes") or ""
            rows.append(
                [
                    p(label, s.cell),
                    f"{entered:%H:%M:%S} (+{rel})",
                    f"{left:%H:%M:%S} (+{out_rel})" if left else "–",
                    duration,
                    p(notes, s.cell),
                ]
            )
        if len(rows) == 1:
            return []
        return [
            p("Observed step times", s.h1),
            table(rows, [50 * mm, 32 * mm, 32 * mm, 20 * mm, self.width - 134 * mm]),
            p("Clock times in UTC; + is the time since the session started.", s.muted),
        ]

    def survey(self) -> list[Flowable]:
        s = self.s
        survey = self.d["survey"]
        if not survey:
            return []
        try:
            items = v1_items(survey["trust_variant"], survey["effectiveness_variant"])
        except ValueError:
            items = v1_items()
        program = self.study.program or self.study.name
        rows: list[list[Any]] = [[p(h, s.head) for h in ("Item (exact A-11 wording)", "Answer")]]
        for item in items:
            answer = survey.get(item.key)
            label = f"{answer} – {LIKERT_LABELS[answer]}" if answer in LIKERT_LABELS else "–"
            wording = fill(item.wording, program, self.study.agency, self.study.a11_population)
            rows.append([p(f"{item.driver}: {wording}", s.cell), p(label, s.cell)])
        if survey.get("went_well"):
            rows.append([p(V2_WENT_WELL, s.cell), p(", ".join(survey["went_well"]), s.cell)])
        if survey.get("not_well"):
            rows.append([p(V2_NOT_WELL, s.cell), p(", ".join(survey["not_well"]), s.cell)])
        if survey.get("comments"):
            rows.append([p("Comments", s.cell), p(survey["comments"], s.cell)])
        return [
            KeepTogether(
                [
                    p("A-11 customer survey", s.h1),
                    table(rows, [self.width - 48 * mm, 48 * mm]),
                ]
            )
        ]

    def transcript_appendix(self) -> list[Flowable]:
        s = self.s
        segments = self.d["transcript"]
        if not self.transcript or not segments:
            return []
        rows: list[list[Any]] = [[p(h, s.head) for h in ("Time", "Speaker", "Text")]]
        for seg in segments:
            speaker = speaker_label(seg) or ""  # "Interviewer (suggested)" until confirmed
            text = seg["text"].strip() + ("  (edited)" if seg["edited"] else "")
            rows.append(
                [
                    f"{clock(seg['start_s'])}–{clock(seg['end_s'])}",
                    p(speaker, s.cell),
                    p(text, s.cell),
                ]
            )
        return [
            PageBreak(),
            p("Appendix: transcript", s.h1),
            table(rows, [34 * mm, 22 * mm, self.width - 56 * mm]),
        ]


def write_session_pdf(
    target: IO[bytes],
    detail: dict[str, Any],
    study: Study,
    *,
    exported_at: datetime,
    transcript: bool = True,
    on_progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> int:
    """Lay the session summary out into ``target``; returns the number of pages."""
    styles = make_styles()
    doc = ReportDocument(
        target, study_name=study.name, title="Session summary", exported_at=exported_at
    )
    story = SessionSummary(detail, study, styles, doc.portrait_width, transcript).story()
    return build(doc, story, on_progress, cancelled)
