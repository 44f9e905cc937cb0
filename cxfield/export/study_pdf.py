"""The study report PDF: the shared picture of a study for program leadership."""

from __future__ import annotations

from datetime import datetime
from typing import IO, Any

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    Spacer,
    Table,
    TableStyle,
)

from cxfield.domain.rating import scale_point
from cxfield.domain.review import STATUS_LABEL
from cxfield.domain.survey import REPORTING_QUESTIONS, fill
from cxfield.domain.vocabulary import BlueprintLane
from cxfield.export.charts import CurvePoint, emotion_curve, likert_bars, signed
from cxfield.export.fonts import REGULAR, text_width
from cxfield.export.journey_map import chunks, journey_figure
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
from cxfield.export.study_data import StudyReportData
from cxfield.export.study_pdf_sides import SidesAndOperations
from cxfield.privacy.sealed_texts import SHOWN
from cxfield.services.analysis import MIN_SESSIONS_PER_SEGMENT, step_numbers
from cxfield.storage.models import Step

_Q_LABEL = {column: key.split("_")[0].upper() for key, column in REPORTING_QUESTIONS}


#: The one definition behind every number of the report (cxfield.services.step_records).
HOW_TO_READ = (
    "How to read this report: a capture is what one interview recorded about one step (a "
    "rating, emotions, a pain point, notes or a quote, or a note taken at that step); "
    "observation sessions are timed, not captured, so they count only in observed times. "
    "Feelings are rated on a 5-point scale from −2 (very negative) to +2 (very positive); "
    "curves show the mean, the shaded band is one standard deviation either side (the "
    "spread), and n is the number of ratings behind a point. A pain point is a capture "
    "flagged as one or with a note tagged pain point, counted once per interview and step; "
    "its share is of the step's captures. Quotes are those typed in a step's quote field "
    "or as notes tagged quote (Ctrl+Q), from any session, the same words once per session. "
    "Customers and staff are counted apart, each side with its own n (the curves, pain "
    "points and quotes are the customers' unless marked staff); staff and customers agree a "
    "step hurts when at least a quarter of each side's captures of it are pain points. "
    "Operations times come from imported records, not from interviews. "
    "Rejected sessions are left out unless asked for."
)
NO_DESCRIPTION = "(flagged, no description written)"

#: the step table's columns per point of the scale: "1 (−2)" … "5 (+2)"
SCALE_HEADS = tuple(scale_point(v) for v in range(-2, 3))
#: the same on two lines ("1" over "(−2)"), so the narrow count columns never break a word
SCALE_HEADS_2 = tuple(h.replace(" ", "\n", 1) for h in SCALE_HEADS)


def fmt_valence(value: float | None) -> str:
    return "–" if value is None else signed(value, 2)


def pct(part: int, whole: int) -> str:
    return f"{part / whole * 100:.0f}%" if whole else "–"


class StudyReport(SidesAndOperations):
    """Builds the flowables of the report from :class:`StudyReportData`."""

    def __init__(self, data: StudyReportData, doc: ReportDocument, styles: Styles) -> None:
        self.data = data
        self.doc = doc
        self.s = styles
        self.study = data.journey.study
        self.steps = data.journey.steps
        self.stage_of = {
            step.id: view.stage.name for view in data.journey.stages for step in view.steps
        }
        self.width = doc.portrait_width
        self.numbers = step_numbers(data.journey)

    def story(self) -> list[Flowable]:
        story: list[Flowable] = []
        story += self.cover()
        story += self.journey_map()
        story += self.step_table()
        story += self.staff_section()
        story += self.pain_points()
        story += self.quotes()
        story += self.observation_times()
        story += self.operations()
        story += self.equity()
        story += self.survey()
        story += self.review()
        story += self.appendix()
        return story

    # -- helpers ----------------------------------------------------------------------

    def step_label(self, step: Step) -> str:
        return f"{self.stage_of.get(step.id, '')} › {step.name}"

    def user_steps(self) -> list[Step]:
        """Steps with captures, in journey order (the customer's steps)."""
        return [
            s for s in self.steps if s.lane == BlueprintLane.USER or s.id in self.data.aggregates
        ]

    def none(self, message: str) -> list[Flowable]:
        return [p(message, self.s.muted), Spacer(1, 4)]

    # -- sections ---------------------------------------------------------------------

    def cover(self) -> list[Flowable]:
        s, o = self.s, self.data.overview
        study = self.study
        out: list[Flowable] = [
            p("STUDY REPORT", s.muted),
            Spacer(1, 2),
            p(study.name, s.title),
            Spacer(1, 3),
        ]
        sub = " · ".join(x for x in (study.program, study.agency) if x)
        if sub:
            out.append(p(sub, s.subtitle))
        if study.description:
            out += [Spacer(1, 4), p(study.description, s.body)]
        out.append(Spacer(1, 8))
        period = f"{o.first:%Y-%m-%d} to {o.last:%Y-%m-%d}" if o.first and o.last else "no sessions"
        responses = self.data.survey.responses
        facts = [
            (
                "Sessions",
                f"{o.sessions} ({o.interviews} interviews, {o.observations} observations)",
            ),
            ("Participants", str(o.participants)),
            ("Staff interviews", f"{o.staff_interviews} (counted apart from customers')"),
            ("Period", period),
            ("Sites / researchers", f"{o.sites} / {o.researchers}"),
            ("A-11 survey responses", str(responses)),
            ("Selection", "; ".join(self.data.filters) or "all sessions"),
        ]
        out.append(
            table(
                [[p(k, s.cell_bold), p(v, s.cell)] for k, v in facts],
                [45 * mm, self.width - 45 * mm],
                header_rows=0,
                extra=[("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#e8eef5"))],
            )
        )
        out.append(Spacer(1, 8))
        if o.sessions == 0:
            out.append(
                p(
                    "No sessions match this selection, so there is nothing to aggregate yet. "
                    "The journey map below shows the study's stages and steps; every other "
                    "section is empty.",
                    s.note,
                )
            )
        else:
            out += self.findings()
        out.append(p(HOW_TO_READ, s.muted))
        return out

    def findings(self) -> list[Flowable]:
        s, agg = self.s, self.data.aggregates
        scored = [
            (a.valence.mean, step)
            for step in self.steps
            if (a := agg.get(step.id)) is not None and a.valence.mean is not None
        ]
        lines: list[str] = []
        if scored:
            low = sorted(scored, key=lambda t: t[0])[:2]
            for mean, step in low:
                a = agg[step.id]
                lines.append(
                    f"Hardest step: {self.step_label(step)} (mean {fmt_valence(mean)}, "
                    f"n={a.valence.n}; pain point in {a.pain_points} of {a.captures} "
                    f"captures, {pct(a.pain_points, a.captures)})."
                )
            mean, step = max(scored, key=lambda t: t[0])
            lines.append(f"Best-rated step: {self.step_label(step)} (mean {fmt_valence(mean)}).")
        if self.data.agreement:
            by_id = {step.id: step for step in self.steps}
            named = ", ".join(self.numbered(by_id[a.step_id]) for a in self.data.agreement)
            lines.append(f"Staff and customers agree these steps hurt: {named}.")
        # a sealed wording (the study key not open here) is no finding to quote
        described = [item for item in self.data.pain_points if item.text and item.text != SHOWN]
        if described:
            top = described[0]
            lines.append(f"Most frequent pain point: “{top.text}” ({top.count} times).")
        sat = self.data.survey.counts.get("satisfaction", {})
        answered = sum(sat.values())
        if answered:
            lines.append(
                f"Satisfied (A-11 Q1, agree or strongly agree): "
                f"{pct(sat.get(4, 0) + sat.get(5, 0), answered)} of {answered} answers."
            )
        if not lines:
            return []
        return (
            [p("Key findings", s.h2)] + [p("• " + line, s.body) for line in lines] + [Spacer(1, 6)]
        )

    def journey_map(self) -> list[Flowable]:
        o = self.data.overview
        out: list[Flowable] = [NextPageTemplate("landscape"), PageBreak()]
        parts = chunks(self.data.journey)
        height = self.doc.landscape_height - 30
        for index, part in enumerate(parts):
            title = "Journey map and service blueprint"
            if len(parts) > 1:
                title += f" (part {index + 1} of {len(parts)})"
            out.append(p(title, self.s.h1))
            out.append(
                journey_figure(
                    part,
                    self.data.aggregates,
                    self.doc.landscape_width,
                    height,
                    self.numbers,
                    staff=self.data.staff.aggregates if self.data.staff else None,
                    ops=self.data.ops.steps if self.data.ops else None,
                    interviews=(o.interviews - o.staff_interviews, o.staff_interviews),
                )
            )
            if index + 1 < len(parts):
                out.append(PageBreak())
        out += [NextPageTemplate("portrait"), PageBreak()]
        return out

    def step_table(self) -> list[Flowable]:
        s = self.s
        title = "Emotion per step (customers)" if self.data.staff else "Emotion per step"
        out: list[Flowable] = [p(title, s.h1)]
        points = []
        rows: list[list[Any]] = [
            [
                p(h, s.head)
                for h in ("Step", "Captures", "n", "Mean", "Spread", *SCALE_HEADS_2, "Pain points")
            ]
        ]
        for step in self.user_steps():
            a = self.data.aggregates.get(step.id)
            v = a.valence if a else None
            points.append(
                CurvePoint(
                    step.name, v.mean if v else None, v.stdev if v else None, v.n if v else None
                )
            )
            counts = v.counts if v else {}
            rows.append(
                [
                    p(self.step_label(step), s.cell),
                    str(a.captures if a else 0),
                    str(v.n if v else 0),
                    fmt_valence(v.mean if v else None),
                    "–" if not v or v.stdev is None else f"{v.stdev:.2f}",
                    *[str(counts.get(k, 0)) for k in range(-2, 3)],
                    f"{a.pain_points} ({pct(a.pain_points, a.captures)})" if a else "0",
                ]
            )
        out.append(emotion_curve(points, self.width, 62 * mm, spread=True, show_n=True))
        out.append(Spacer(1, 6))
        widths = [50 * mm, 17 * mm, 10 * mm, 13 * mm, 14 * mm] + [9.6 * mm] * 5 + [26 * mm]
        out.append(table(rows, widths, numeric_from=1))
        out.append(
            p(
                "Captures: interviews that recorded something about the step; n: those that "
                "rated it, with columns 1 (−2) … 5 (+2) counting the ratings at each point of "
                "the scale (the runner's key 1 … 5 and the valence −2 … +2 that means and "
                "curves use). Pain points: captures flagged as a pain point or with a note "
                "tagged pain point, with their share of the step's captures.",
                s.muted,
            )
        )
        return out

    def pain_points(self) -> list[Flowable]:
        s = self.s
        out: list[Flowable] = [p("Pain points, ranked by how often they occurred", s.h1)]
        by_id = {step.id: step for step in self.steps}
        # the same pain points as the per-step table (one definition, step_records)
        total = sum(a.pain_points for a in self.data.aggregates.values() if a.step_id in by_id)
        items = [item for item in self.data.pain_points if item.step_id in by_id]
        if total == 0:
            return out + self.none("No pain points were recorded in this selection.")
        shown = sum(item.count for item in items)
        steps = len({a.step_id for a in self.data.aggregates.values() if a.pain_points})
        intro = (
            f"{total} pain point{'' if total == 1 else 's'} at {steps} "
            f"step{'' if steps == 1 else 's'}, grouped by what was written about them "
            "(the step's notes, or the note tagged pain point)"
        )
        if shown < total:
            intro += f"; the {len(items)} most frequent groups hold {shown} of them"
        out.append(p(intro + ".", s.muted))
        rows: list[list[Any]] = [
            [p(h, s.head) for h in ("#", "Pain point", "Step", "Times", "Share of step")]
        ]
        for rank, item in enumerate(items, start=1):
            step = by_id[item.step_id]
            agg = self.data.aggregates.get(item.step_id)
            rows.append(
                [
                    str(rank),
                    p(item.text, s.cell) if item.text else p(NO_DESCRIPTION, s.muted),
                    p(self.step_label(step), s.cell),
                    str(item.count),
                    pct(item.count, agg.captures) if agg else "–",
                ]
            )
        out.append(
            table(
                rows,
                [8 * mm, 80 * mm, 56 * mm, 14 * mm, 20 * mm],
                numeric_from=3,
                extra=[("ALIGN", (0, 0), (0, -1), "RIGHT")],
            )
        )
        return out

    def quotes(self) -> list[Flowable]:
        s = self.s
        out: list[Flowable] = [p("Representative quotes per step", s.h1)]
        if not self.data.quotes:
            return out + self.none("No quotes were recorded in this selection.")
        out.append(
            p(
                "Up to three quotes per step, the most often heard first: from the steps' "
                "quote fields and from notes tagged quote (Ctrl+Q).",
                s.muted,
            )
        )
        groups = [(self.step_label(step), self.data.quotes.get(step.id)) for step in self.steps]
        groups.append(("Not taken at a step", self.data.quotes.get("")))
        blocks: list[list[Flowable]] = []
        for heading, quotes in groups:
            if not quotes:
                continue
            # The count sits in its own column: inside the quote it would be reordered with
            # right-to-left text.
            rows = [
                [p(f"“{q.text}”", s.quote), p(f"heard {q.count}×" if q.count > 1 else "", s.muted)]
                for q in quotes
            ]
            grid = Table(
                rows,
                colWidths=[self.width - 24 * mm, 24 * mm],
                style=TableStyle(
                    [
                        ("VALIGN", (0, 0), (-1, -1), "TOP"),
                        ("LEFTPADDING", (0, 0), (-1, -1), 0),
                        ("TOPPADDING", (0, 0), (-1, -1), 1),
                        ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                    ]
                ),
            )
            blocks.append([p(heading, s.h2), grid])
        if not blocks:
            return out + self.none("No quotes were recorded at the steps of this journey.")
        # the section's heading never stays behind alone at the foot of a page
        return [KeepTogether(out + blocks[0])] + [KeepTogether(b) for b in blocks[1:]]

    def observation_times(self) -> list[Flowable]:
        s = self.s
        out: list[Flowable] = [p("Observed time per step", s.h1)]
        if not self.data.observation:
            return out + self.none("No observation sessions with step times in this selection.")
        rows: list[list[Any]] = [
            [p(h, s.head) for h in ("Step", "Observed", "Median", "Shortest", "Longest")]
        ]
        for step in self.steps:
            d = self.data.observation.get(step.id)
            if d is None:
                continue
            rows.append(
                [
                    p(self.step_label(step), s.cell),
                    str(d.n),
                    fmt_seconds(d.median_s),
                    fmt_seconds(d.min_s),
                    fmt_seconds(d.max_s),
                ]
            )
        out.append(table(rows, [86 * mm, 22 * mm, 22 * mm, 24 * mm, 24 * mm], numeric_from=1))
        out.append(
            p(
                "Times are minutes:seconds from entering to leaving the step, as timed by "
                "observers.",
                s.muted,
            )
        )
        return out

    def equity(self) -> list[Flowable]:
        s = self.s
        out: list[Flowable] = [PageBreak(), p("Equity view: the journey per segment", s.h1)]
        if not self.data.segments:
            return out + self.none("This study defines no segment attributes.")
        out.append(
            p(
                "The same steps, curve per segment value, side by side. Each point is the mean "
                "valence; n under a step is the number of ratings behind it; the dashed grey "
                f"line is everyone in this selection. Segments with fewer than "
                f"{MIN_SESSIONS_PER_SEGMENT} sessions are greyed out: too few to say anything.",
                s.muted,
            )
        )
        steps = self.user_steps()
        overall = [
            (a.valence.mean if (a := self.data.aggregates.get(st.id)) else None) for st in steps
        ]
        cols = 3
        cell_w = self.width / cols
        # numbered as on the journey map (every lane counts), so "3" is the map's "3. Wait"
        key = "Steps: " + " · ".join(f"{self.numbers[st.id]} {st.name}" for st in steps)
        for view in self.data.segments:
            charts: list[Any] = []
            for value in view.values:
                curve = view.curves.curves.get(value, {})
                points = [
                    CurvePoint(
                        st.name,
                        a.valence.mean if (a := curve.get(st.id)) else None,
                        None,
                        a.valence.n if a else 0,
                        number=self.numbers[st.id],
                    )
                    for st in steps
                ]
                n = view.curves.sessions.get(value, 0)
                thin = view.curves.too_few(value)
                name = value or "(not recorded)"
                charts.append(
                    emotion_curve(
                        points,
                        cell_w - 6,
                        50 * mm,
                        show_n=True,
                        reference=overall,
                        muted=thin,
                        compact=True,
                        title=f"{name} — {n} session{'' if n == 1 else 's'}",
                        note=f"Too few sessions (fewer than {MIN_SESSIONS_PER_SEGMENT}) to compare"
                        if thin
                        else None,
                    )
                )
            heading = [p(view.label, s.h2), p(key, s.muted)]
            if not charts:
                out += heading + self.none("No sessions in this selection have a value for it.")
                continue
            grid = [charts[i : i + cols] for i in range(0, len(charts), cols)]
            grid[-1] += [""] * (cols - len(grid[-1]))
            style = TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 6),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
                ]
            )
            # One attribute's curves stay on one page with their heading when they fit.
            out.append(
                KeepTogether([*heading, Table(grid, colWidths=[cell_w] * cols, style=style)])
            )
        return out

    def survey(self) -> list[Flowable]:
        s, data = self.s, self.data
        out: list[Flowable] = [p("A-11 customer survey results", s.h1)]
        if data.survey.responses == 0:
            return out + self.none("No A-11 survey responses in this selection.")
        out.append(
            p(
                f"{data.survey.responses} responses from {data.survey.sessions} sessions. Each "
                "item is answered on a 5-point scale from 1 (strongly disagree) to 5 (strongly "
                "agree); the share agreeing counts 4 and 5.",
                s.muted,
            )
        )
        program = self.study.program or self.study.name
        bars = []
        rows: list[list[Any]] = [
            [
                p(h, s.head)
                for h in ("", "Item (exact A-11 wording)", "1", "2", "3", "4", "5", "n", "Agree")
            ]
        ]
        order = {column: i for i, (_, column) in enumerate(REPORTING_QUESTIONS)}
        items = sorted(data.survey_items, key=lambda it: order.get(it.key, len(order)))
        for item in items:
            counts = data.survey.counts.get(item.key, {})
            answered = sum(counts.values())
            q = _Q_LABEL.get(item.key, "–")
            bars.append((f"{q} {item.driver}" if q != "–" else item.driver, counts))
            wording = fill(item.wording, program, self.study.agency, self.study.a11_population)
            rows.append(
                [
                    q,
                    p(f"{item.driver}: {wording}", s.cell),
                    *[str(counts.get(k, 0)) for k in range(1, 6)],
                    str(answered),
                    pct(counts.get(4, 0) + counts.get(5, 0), answered),
                ]
            )
        widths = [10 * mm, 86 * mm] + [11 * mm] * 5 + [13 * mm, 14 * mm]
        chart = likert_bars(bars, self.width)
        note = p(
            "Q1–Q7 are the quarterly reporting questions (q1 satisfaction … q7 "
            "employee); equity is asked but not part of the quarterly counts.",
            s.muted,
        )
        # heading, chart and table on one page
        block = [*out, chart, Spacer(1, 6), table(rows, widths, numeric_from=2), note]
        return [KeepTogether(block)]

    def review(self) -> list[Flowable]:
        """Sessions per review state, days from submission to decision, open issues."""
        summary, s = self.data.review, self.s
        if summary is None:
            return []
        out: list[Flowable] = [p("Review", s.h1)]
        out.append(
            p(
                "All sessions of the study, whatever this report's selection. Median days "
                "from submission to decision: "
                + (
                    "–"
                    if summary.median_days_to_decision is None
                    else f"{summary.median_days_to_decision:.1f}"
                )
                + ".",
                s.muted,
            )
        )
        rows: list[list[Any]] = [[p("State", s.head), p("Sessions", s.head)]]
        for state, label in STATUS_LABEL.items():
            rows.append([label, str(summary.per_state.get(state.value, 0))])
        out.append(table(rows, [50 * mm, 25 * mm], numeric_from=1))
        out.append(Spacer(1, 6))
        if summary.open_issues:
            issues: list[list[Any]] = [[p("Researcher", s.head), p("Returned, open", s.head)]]
            issues += [[p(name, s.cell), str(n)] for name, n in summary.open_issues.items()]
            out.append(table(issues, [70 * mm, 30 * mm], numeric_from=1))
        else:
            out += self.none("No session is waiting for its researcher.")
        return [KeepTogether(out)]

    def appendix(self) -> list[Flowable]:
        s = self.s
        out: list[Flowable] = [PageBreak(), p("Appendix: sessions in this report", s.h1)]
        if not self.data.sessions:
            return out + self.none("No sessions match this selection.")
        widths = [29 * mm, 20 * mm, 20 * mm, 19 * mm, 37 * mm, 28 * mm, 12 * mm, 11 * mm]
        rows: list[list[Any]] = [
            [
                p(h, s.head)
                for h in (
                    "Started (UTC)",
                    "Participant",
                    "Mode",
                    "Status",
                    "Site",
                    "Researcher",
                    "Steps",
                    "A-11",
                )
            ]
        ]
        cache: dict[tuple[str, int], Any] = {}

        def cell(value: str | None, col: int) -> Any:
            # Plain strings are much faster to lay out than paragraphs; names that need
            # another font or would not fit become paragraphs (wrapping, font fallback).
            text = value or "–"
            key = (text, col)
            if key not in cache:
                fits = text_width(text, REGULAR, 8) <= widths[col] - 8
                cache[key] = text if fits and text.isascii() else None
            return cache[key] if cache[key] is not None else p(text, s.cell)

        for row in self.data.sessions:
            rows.append(
                [
                    row.started_at.strftime("%Y-%m-%d %H:%M"),
                    cell(row.participant_code, 1),
                    row.mode.capitalize(),
                    row.status.replace("_", " "),
                    cell(row.site, 4),
                    cell(row.researcher, 5),
                    str(row.captures),
                    "yes" if row.surveyed else "–",
                ]
            )
        out.append(table(rows, widths, numeric_from=6))
        return out


def write_study_pdf(
    target: IO[bytes],
    data: StudyReportData,
    *,
    exported_at: datetime,
    on_progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> int:
    """Lay the report out into ``target``; returns the number of pages."""
    styles = make_styles()
    doc = ReportDocument(
        target, study_name=data.journey.study.name, title="Study report", exported_at=exported_at
    )
    story = StudyReport(data, doc, styles).story()
    pages = build(doc, story, on_progress, cancelled)
    return pages
