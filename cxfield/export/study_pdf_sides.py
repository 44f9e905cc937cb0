"""The study report's sections on staff research and operations data: the customers' and
the staff's curve over the same steps (each with its own n), where both agree a step hurts,
and the operations lane (median and 90th-percentile time, customers per step, per site and
per day) beside the observed times and the feelings, with the correlation and its caution.

Mixed into :class:`~cxfield.export.study_pdf.StudyReport`; the numbers are the report's
own aggregates (:class:`~cxfield.export.study_data.StudyReportData`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reportlab.graphics.shapes import Drawing, Group, Rect
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, PageBreak, Spacer

from cxfield.domain.operations import CORRELATION_CAUTION, correlation_words
from cxfield.export.charts import LINE, MUTED, CurvePoint, emotion_curve, signed, text
from cxfield.export.layout import Styles, fmt_seconds, p, table
from cxfield.services.analysis import StepAggregate
from cxfield.services.step_records import AGREE_SHARE

if TYPE_CHECKING:
    from cxfield.export.study_data import StudyReportData
    from cxfield.storage.models import Step

AGREE_TITLE = "Staff and customers agree this step hurts"
VOICES_TITLE = "What staff said, and their workarounds"


def share(part: int, whole: int) -> str:
    return f"{part / whole * 100:.0f}%" if whole else "–"


def felt(agg: StepAggregate | None) -> str:
    """A side's mean rating of a step with its n: "−1.4 (n=10)"."""
    if agg is None or agg.valence.mean is None:
        return "–"
    return f"{signed(agg.valence.mean, 1)} (n={agg.valence.n})"


class SidesAndOperations:
    """Report sections; expects the attributes :class:`StudyReport` sets."""

    data: StudyReportData
    s: Styles
    steps: list[Step]
    width: float
    numbers: dict[str, int]

    if TYPE_CHECKING:

        def step_label(self, step: Step) -> str: ...

        def none(self, message: str) -> list[Flowable]: ...

    def numbered(self, step: Step) -> str:
        return f"{self.numbers[step.id]}. {self.step_label(step)}"

    # -- customers and staff ------------------------------------------------------------

    def staff_steps(self) -> list[Step]:
        """Steps either side recorded, in journey order."""
        staff = self.data.staff.aggregates if self.data.staff else {}
        return [s for s in self.steps if s.id in self.data.aggregates or s.id in staff]

    def staff_section(self) -> list[Flowable]:
        s, staff = self.s, self.data.staff
        out: list[Flowable] = [PageBreak(), p("Customers and staff, step by step", s.h1)]
        if staff is None:
            return out + self.none(
                "No staff interviews in this selection: only the customers' side is shown."
            )
        customers = self.data.overview.interviews - self.data.overview.staff_interviews
        roles = ", ".join(f"{role or 'no role'} {n}" for role, n in sorted(staff.roles.items()))
        out.append(
            p(
                f"The same journey from both sides: {customers} customer interviews and "
                f"{staff.interviews} staff interviews ({roles}). Staff rated how it felt to do "
                "the work at the steps they take part in. Each side has its own n; the solid "
                "line is the customers' mean, the dashed line with square points the staff's.",
                s.muted,
            )
        )
        steps = self.staff_steps()
        points, staff_points = [], []
        rows: list[list[Any]] = [
            [
                p(h, s.head)
                for h in (
                    "Step",
                    "Customers felt",
                    "Customer pain points",
                    "Staff felt",
                    "Staff pain points",
                )
            ]
        ]
        for step in steps:
            c, w = self.data.aggregates.get(step.id), staff.aggregates.get(step.id)
            points.append(_point(step, c, self.numbers))
            staff_points.append(_point(step, w, self.numbers))
            rows.append(
                [
                    p(self.numbered(step), s.cell),
                    felt(c),
                    f"{c.pain_points} of {c.captures} ({share(c.pain_points, c.captures)})"
                    if c
                    else "–",
                    felt(w),
                    f"{w.pain_points} of {w.captures} ({share(w.pain_points, w.captures)})"
                    if w
                    else "–",
                ]
            )
        out.append(
            emotion_curve(
                points, self.width, 66 * mm, spread=True, show_n=True, staff_points=staff_points
            )
        )
        out.append(Spacer(1, 4))
        out.append(table(rows, [62 * mm, 26 * mm, 30 * mm, 26 * mm, 30 * mm], numeric_from=1))
        out += self.agreement()
        out += self.staff_voices()
        return out

    def staff_voices(self) -> list[Flowable]:
        """What staff said at each step and the workarounds they use (notes tagged
        workaround), up to two of each, the most often heard first."""
        s, quotes, fixes = self.s, self.data.staff_quotes, self.data.staff_workarounds
        out: list[Flowable] = [Spacer(1, 6), p(VOICES_TITLE, s.h2)]
        rows: list[list[Any]] = [
            [p(h, s.head) for h in ("Step", "Staff said", "Workarounds staff use")]
        ]
        for step in self.staff_steps():
            said, fixed = quotes.get(step.id, []), fixes.get(step.id, [])
            if said or fixed:
                rows.append([p(self.numbered(step), s.cell), _heard(said, s), _heard(fixed, s)])
        if len(rows) == 1:
            return out + [
                p("Staff gave no quotes and noted no workarounds at these steps.", s.muted)
            ]
        out.append(
            p(
                "From the staff interviews: quotes (the steps' quote fields and notes tagged "
                "quote) and notes tagged workaround, up to two per step, the most often heard "
                "first.",
                s.muted,
            )
        )
        out.append(table(rows, [52 * mm, (self.width - 52 * mm) / 2, (self.width - 52 * mm) / 2]))
        return out

    def agreement(self) -> list[Flowable]:
        s = self.s
        out: list[Flowable] = [Spacer(1, 6), p(AGREE_TITLE, s.h2)]
        rule = (
            f"Listed where, on each side, at least {AGREE_SHARE * 100:.0f}% of that side's "
            "captures of the step are pain points."
        )
        if not self.data.agreement:
            return out + [
                p(f"No step is flagged as painful by both sides. {rule}", s.muted),
            ]
        out.append(p(rule, s.muted))
        by_id = {step.id: step for step in self.steps}
        for item in self.data.agreement:
            step = by_id[item.step_id]
            said = _said(self.data.pain_points, item.step_id)
            heard = _said(self.data.staff_pain_points, item.step_id)
            line = (
                f"{self.numbered(step)} — customers: {item.customer_pains} of "
                f"{item.customer_captures} captures "
                f"({share(item.customer_pains, item.customer_captures)}); staff: "
                f"{item.staff_pains} of {item.staff_captures} "
                f"({share(item.staff_pains, item.staff_captures)})."
            )
            if said:
                line += f" Customers: “{said}”."
            if heard:
                line += f" Staff: “{heard}”."
            out.append(p("• " + line, s.body))
        return out

    # -- operations -------------------------------------------------------------------

    def operations(self) -> list[Flowable]:
        s, ops = self.s, self.data.ops
        out: list[Flowable] = [PageBreak(), p("Operations data beside the experience", s.h1)]
        if ops is None:
            return out + self.none(
                "No operations data imported for this study (cxfield ops import, or "
                "File → Import operations data…)."
            )
        out.append(
            p(
                f"{ops.records:,} customer records from {ops.imports} imported file"
                f"{'' if ops.imports == 1 else 's'}, {ops.first_day} to {ops.last_day}. A "
                "step's time runs from its column's time to the next mapped column's time "
                "(the end column for the last step). p90: nine in ten customers took less. "
                "Observed: timed by cxfield observers; felt: the mean rating with its n.",
                s.muted,
            )
        )
        staff = self.data.staff.aggregates if self.data.staff else {}
        rows: list[list[Any]] = [
            [
                p(h, s.head)
                for h in (
                    "Step",
                    "Ops median",
                    "Ops p90",
                    "Customers",
                    "Per day",
                    "Observed median",
                    "Customers felt",
                    "Staff felt",
                )
            ]
        ]
        shown = [step for step in self.steps if step.id in ops.steps]
        for step in shown:
            stat = ops.steps[step.id]
            observed = self.data.observation.get(step.id)
            rows.append(
                [
                    p(self.numbered(step), s.cell),
                    fmt_seconds(stat.median_s) if stat.median_s is not None else "–",
                    fmt_seconds(stat.p90_s) if stat.p90_s is not None else "–",
                    f"{stat.volume:,}",
                    f"{stat.mean_per_day:.1f}",
                    f"{fmt_seconds(observed.median_s)} (n={observed.n})" if observed else "–",
                    felt(self.data.aggregates.get(step.id)),
                    felt(staff.get(step.id)),
                ]
            )
        widths = [40 * mm, 17 * mm, 17 * mm, 21 * mm, 14 * mm, 24 * mm, 22 * mm, 22 * mm]
        out.append(table(rows, widths, numeric_from=1))
        out += self.ops_per_site(shown)
        out += self.ops_per_day(shown)
        out += self.correlation(shown)
        return out

    def ops_per_site(self, shown: list[Step]) -> list[Flowable]:
        ops = self.data.ops
        assert ops is not None
        sites = sorted({site for st in shown for site in ops.steps[st.id].per_site})
        if not sites:
            return []
        s = self.s
        rows: list[list[Any]] = [
            [p("Step", s.head), *[p(site or "(no site)", s.head) for site in sites]]
        ]
        for step in shown:
            counts = ops.steps[step.id].per_site
            rows.append([p(self.numbered(step), s.cell), *[f"{counts.get(x, 0):,}" for x in sites]])
        width = (self.width - 70 * mm) / len(sites)
        block = [
            Spacer(1, 6),
            p("Customers per site", s.h2),
            table(rows, [70 * mm] + [width] * len(sites), numeric_from=1),
        ]
        return [KeepTogether(block)]

    def ops_per_day(self, shown: list[Step]) -> list[Flowable]:
        ops = self.data.ops
        assert ops is not None and shown
        first = ops.steps[shown[0].id]
        if not first.per_day:
            return []
        title = f"Customers per day entering {self.numbered(shown[0])}"
        return [
            KeepTogether([Spacer(1, 6), p(title, self.s.h2), _day_bars(first.per_day, self.width)])
        ]

    def correlation(self, shown: list[Step]) -> list[Flowable]:
        s, ops = self.s, self.data.ops
        assert ops is not None
        out: list[Flowable] = [Spacer(1, 6), p("Time and feeling together", s.h2)]
        lines = []
        for step in shown:
            found = ops.correlations.get(step.id)
            if found is None:
                continue
            whose = "customers'" if found.side == "customers" else "staff's"
            lines.append(
                f"• {self.numbered(step)}: {correlation_words(found.r, found.n, found.by)}"
                f", comparing each {found.by[:-1]}'s median time with its {whose} mean rating."
            )
        if not lines:
            lines.append(
                "Too few sites or weeks have both operations times and ratings at the same "
                "step to say how the two move together (at least 4 are needed)."
            )
        out += [p(line, s.body) for line in lines]
        out.append(p(CORRELATION_CAUTION, s.note))
        return out


def _point(step: Step, agg: StepAggregate | None, numbers: dict[str, int]) -> CurvePoint:
    v = agg.valence if agg else None
    return CurvePoint(
        step.name,
        v.mean if v else None,
        v.stdev if v else None,
        v.n if v else 0,
        number=numbers[step.id],
    )


def _heard(items: list[Any], s: Styles) -> list[Flowable] | str:
    """Ranked texts in one cell, one paragraph each, with how often each was heard."""
    if not items:
        return "–"
    return [
        p(f"“{i.text}”" + (f" (heard {i.count}×)" if i.count > 1 else ""), s.cell) for i in items
    ]


def _said(items: list[Any], step_id: str) -> str:
    """The most frequent described pain point of a step (a ranked list, most first)."""
    for item in items:
        if item.step_id == step_id and item.text:
            return str(item.text)
    return ""


def _day_bars(per_day: dict[str, int], width: float) -> Drawing:
    """Customers per day as thin bars, with the first and last day and the busiest day."""
    height = 36 * mm
    drawing = Drawing(width, height)
    g = Group()
    days = sorted(per_day)
    most = max(per_day.values())
    left, bottom, top = 24.0, 14.0, height - 8
    bar_w = (width - left) / max(1, len(days))
    for index, day in enumerate(days):
        h = per_day[day] / most * (top - bottom)
        g.add(
            Rect(
                left + index * bar_w,
                bottom,
                max(0.6, bar_w * 0.8),
                h,
                fillColor=LINE,
                strokeColor=None,
            )
        )
    text(g, left - 3, top - 3, str(most), 6.5, color=MUTED, anchor="end")
    text(g, left - 3, bottom, "0", 6.5, color=MUTED, anchor="end")
    text(g, left, 3, days[0], 6.5, color=MUTED)
    text(g, width, 3, days[-1], 6.5, color=MUTED, anchor="end")
    busiest = max(days, key=lambda d: per_day[d])  # the first of the busiest days
    text(g, width / 2, 3, f"busiest: {busiest} ({per_day[busiest]})", 6.5, anchor="middle")
    g.add(Rect(left, bottom, width - left, 0.4, fillColor=colors.black, strokeColor=None))
    drawing.add(g)
    return drawing
