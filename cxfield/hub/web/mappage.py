"""The shared journey map of one study as HTML: filters, the blueprint grid, the emotion
curve, the equity lens, pain points, quotes, observed times and the A-11 results — each
chart with a table beside it and words for screen readers."""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from cxfield.domain.survey import REPORTING_QUESTIONS, fill
from cxfield.domain.vocabulary import BlueprintLane, SessionStatus
from cxfield.export.charts import signed
from cxfield.export.layout import fmt_seconds
from cxfield.hub.web import equity, sealed, sides, svg
from cxfield.hub.web.data import MapData, PageQuery
from cxfield.services.analysis import MIN_SESSIONS_PER_SEGMENT, step_numbers
from cxfield.storage.models import Step

DASH = "–"


def mean_text(value: float | None) -> str:
    return DASH if value is None else signed(value, 2)


def pct(part: int, whole: int) -> str:
    return f"{part / whole * 100:.0f}%" if whole else DASH


class MapPage:
    def __init__(self, data: MapData, query: PageQuery, study_id: str) -> None:
        self.d = data
        self.q = query
        self.study_id = study_id
        self.numbers = step_numbers(data.journey)
        self.stage_of = {s.id: v.stage.name for v in data.journey.stages for s in v.steps}
        self.steps = [
            s
            for s in data.journey.steps
            if s.lane == BlueprintLane.USER
            or s.id in data.aggregates
            or s.id in data.staff_aggregates
        ]

    def label(self, step: Step) -> str:
        return f"{self.numbers[step.id]}. {step.name}"

    def render(self, error: str = "") -> str:
        d = self.d
        parts = [
            f"<h1>{escape(d.journey.study.name)}</h1>",
            self.overview(),
            self.filters(),
        ]
        if error:
            parts.append(f'<p class="error" role="alert">{escape(error)}</p>')
        parts += [
            self.exports(),
            self.grid(),
            self.curve(),
            sides.agreement(self),
            sides.operations(self),
            self.lens(),
            self.pains(),
            self.quotes(),
            self.times(),
            self.survey(),
        ]
        return "".join(parts)

    def overview(self) -> str:
        o = self.d.overview
        span = ""
        if o.first and o.last:
            span = f", {o.first:%Y-%m-%d} to {o.last:%Y-%m-%d}"
        chosen = "; ".join(self.d.filters) or "everything"
        staff = self.d.staff_interviews
        of_staff = f", {staff} of them with staff" if staff else ""
        return (
            f'<p id="overview"><b>{o.sessions}</b> sessions ({o.interviews} interviews'
            f"{of_staff}, {o.observations} observations) from {o.participants} participants"
            f"{span}, "
            f"{o.sites} sites, {o.researchers} researchers.</p>"
            f'<p class="muted">Selection: {escape(chosen)}.</p>'
        )

    def filters(self) -> str:
        q, c = self.q, self.d.choices

        def options(pairs: list[tuple[str, str]], chosen: str, blank: str) -> str:
            out = [f'<option value="">{escape(blank)}</option>']
            for value, text in pairs:
                sel = " selected" if value == chosen else ""
                out.append(f'<option value="{escape(value)}"{sel}>{escape(text)}</option>')
            return "".join(out)

        segments = [
            (f"{key}={value}", f"{label}: {value}")
            for key, label, values in c.segments
            for value in values
        ]
        lenses = [(key, label) for key, label, _ in c.segments]
        boxes = "".join(
            f'<label><input type="checkbox" name="status" value="{s.value}"'
            f"{' checked' if s.value in q.statuses else ''}> {s.value.replace('_', ' ')}</label>"
            for s in SessionStatus
        )
        return (
            '<form class="filters" method="get" aria-label="Filters">'
            f'<label>From<input type="date" name="from" value="{escape(q.date_from)}"></label>'
            f'<label>To<input type="date" name="to" value="{escape(q.date_to)}"></label>'
            f'<label>Site<select name="site">{options(c.sites, q.site, "All sites")}</select>'
            "</label>"
            f'<label>Researcher<select name="researcher">'
            f"{options(c.researchers, q.researcher, 'All researchers')}</select></label>"
            f'<label>Segment<select name="segment">'
            f"{options(segments, q.segment, 'Everyone')}</select></label>"
            f"<fieldset><legend>Review state</legend>{boxes}</fieldset>"
            f'<label>Equity lens<select name="lens">'
            f"{options(lenses, q.lens, 'First attribute')}</select></label>"
            '<button class="primary" type="submit">Apply filters</button>'
            f'<a href="/studies/{escape(self.study_id)}">Reset</a></form>'
        )

    def exports(self) -> str:
        qs = urlencode(self.q.params())
        base = f"/studies/{escape(self.study_id)}"
        links = [("report.pdf", "Study report (PDF)")] + [
            (f"{name}.csv", f"CSV: {text}")
            for name, text in (
                ("steps", "steps"),
                ("equity", "equity lens"),
                ("pain_points", "pain points"),
                ("observed_times", "observed times"),
                ("a11", "A-11 results"),
            )
        ]
        items = "".join(f'<a href="{base}/{n}?{escape(qs)}">{t}</a>' for n, t in links)
        return f'<nav class="exports" aria-label="Exports"><b>Export:</b> {items}</nav>'

    def grid(self) -> str:
        journey, agg = self.d.journey, self.d.aggregates
        steps = journey.steps
        head1 = "".join(
            f'<th scope="colgroup" colspan="{len(v.steps)}">{escape(v.stage.name)}</th>'
            for v in journey.stages
            if v.steps
        )
        head2 = "".join(f'<th scope="col">{escape(self.label(s))}</th>' for s in steps)
        rows = []
        for lane in BlueprintLane:
            cells = []
            for s in steps:
                if s.lane != lane:
                    cells.append("<td></td>")
                    continue
                a = agg.get(s.id)
                facts = f"{escape(s.channel.replace('_', ' '))}"
                if a is not None:
                    facts += (
                        f"<br>mean {mean_text(a.valence.mean)}, n = {a.valence.n}"
                        f"<br>pain points {a.pain_points} of {a.captures}"
                    )
                cells.append(f'<td class="card"><b>{escape(s.name)}</b>{facts}</td>')
            rows.append(f'<tr><th scope="row" class="lane">{lane.label}</th>{"".join(cells)}</tr>')
        return (
            '<h2 id="map">Journey map and service blueprint</h2><div class="scroll">'
            '<table class="map"><caption class="sr-only">Stages and steps as columns, the '
            "four blueprint lanes as rows</caption>"
            f'<thead><tr><td></td>{head1}</tr><tr><th scope="col" class="lane">Lane</th>'
            f"{head2}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        )

    def curve(self) -> str:
        agg, staff_agg = self.d.aggregates, self.d.staff_aggregates
        with_staff = self.d.staff_interviews > 0
        points, staff_points, rows, words, staff_words = [], [], [], [], []
        for s in self.steps:
            a = agg.get(s.id)
            v = a.valence if a else None
            summary = v if v else _empty()
            points.append(svg.Point(self.label(s), summary))
            b = staff_agg.get(s.id)
            staff = b.valence if b else _empty()
            staff_points.append(svg.Point(self.label(s), staff))
            staff_cells = (
                f'<td class="num" data-staff-n="{s.id}">{staff.n}</td>'
                f'<td class="num">{mean_text(staff.mean)}</td>'
                f'<td class="num">{b.pain_points if b else 0} '
                f"({pct(b.pain_points, b.captures) if b else DASH})</td>"
                if with_staff
                else ""
            )
            rows.append(
                f'<tr><th scope="row">{escape(self.label(s))}</th>'
                f"<td>{escape(self.stage_of.get(s.id, ''))}</td>"
                f'<td class="num">{a.captures if a else 0}</td>'
                f'<td class="num" data-n="{s.id}">{summary.n}</td>'
                f'<td class="num">{mean_text(summary.mean)}</td>'
                f'<td class="num">{DASH if summary.stdev is None else f"{summary.stdev:.2f}"}</td>'
                f'<td class="num">{a.pain_points if a else 0} '
                f"({pct(a.pain_points, a.captures) if a else DASH})</td>{staff_cells}</tr>"
            )
            if summary.mean is not None:
                words.append(f"{s.name} {mean_text(summary.mean)} (n = {summary.n})")
            if staff.mean is not None:
                staff_words.append(f"{s.name} {mean_text(staff.mean)} (n = {staff.n})")
        description = (
            "Mean feeling per step on a scale from −2 to +2, band one standard deviation: "
            + ("customers: " if with_staff else "")
            + ("; ".join(words) or "no ratings in this selection")
            + (f". Staff: {'; '.join(staff_words) or 'no ratings'}" if with_staff else "")
            + "."
        )
        chart = svg.emotion_curve(
            points, "Emotion curve", description, "curve", staff_points if with_staff else None
        )
        staff_head = (
            "<th>Staff n</th><th>Staff mean</th><th>Staff pain points</th>" if with_staff else ""
        )
        return (
            '<h2 id="curve">Emotion curve</h2>'
            '<p class="muted">Mean rating per step (−2 very negative … +2 very positive); '
            "the band is one standard deviation either side; n is the number of ratings.</p>"
            + (sides.curve_key(self.d) if with_staff else "")
            + f'<div class="scroll">{chart}</div>'
            '<div class="scroll"><table id="steps-table"><caption>Emotion per step (table)'
            "</caption><thead><tr><th>Step</th><th>Stage</th><th>Captures</th><th>n</th>"
            f"<th>Mean</th><th>Spread (sd)</th><th>Pain points</th>{staff_head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>"
        )

    def lens(self) -> str:
        view = self.d.lens
        out = ['<h2 id="equity">Equity lens</h2>']
        if view is None:
            return out[0] + '<p class="muted">This study defines no segment attributes.</p>'
        gaps = equity.gaps(view, self.steps)
        flagged = {(g.value, g.step_id) for g in gaps}
        panels, rows = [], []
        for value in view.values:
            curve = view.curves.curves.get(value, {})
            sessions = view.curves.sessions.get(value, 0)
            thin = view.curves.too_few(value)
            points = []
            for s in self.steps:
                a = curve.get(s.id)
                summary = a.valence if a else _empty()
                ci = equity.interval(summary)
                points.append(
                    svg.Point(
                        self.label(s),
                        summary,
                        ci[0] if ci and not thin else None,
                        ci[1] if ci and not thin else None,
                        (value, s.id) in flagged,
                    )
                )
                ci_text = f"{signed(ci[0], 2)} to {signed(ci[1], 2)}" if ci else DASH
                mark = ' <span class="flag">flagged</span>' if (value, s.id) in flagged else ""
                rows.append(
                    f'<tr><th scope="row">{escape(equity.value_label(value))}</th>'
                    f'<td>{escape(self.label(s))}</td><td class="num">{summary.n}</td>'
                    f'<td class="num">{mean_text(summary.mean)}</td>'
                    f'<td class="num">{ci_text}</td><td>{"too few sessions" if thin else ""}'
                    f"{mark}</td></tr>"
                )
            heading = f"{equity.value_label(value)} ({sessions} sessions)"
            panels.append(svg.Panel(heading, points, thin))
        thin_values = [equity.value_label(v) for v in view.values if view.curves.too_few(v)]
        words = "; ".join(g.sentence for g in gaps) or "no step differs beyond the intervals"
        out.append(
            f'<p class="muted">{escape(view.label)}: one curve per value, 95 % interval per '
            f"point. A step is flagged when a segment's mean differs from the rest of the "
            f"selection beyond the interval; segments with fewer than "
            f"{MIN_SESSIONS_PER_SEGMENT} sessions are drawn dashed and not compared. Steps "
            f"are numbered as on the map.</p>"
        )
        out.append(svg.equity_panels(panels, f"Equity lens by {view.label}", words + ".", "lens"))
        items = "".join(f'<li class="gap">{escape(g.sentence)}.</li>' for g in gaps)
        out.append(
            "<h3>Flagged differences</h3>"
            + (
                f'<ul class="gaps" id="gaps">{items}</ul>'
                if items
                else '<p id="gaps">No step differs beyond the 95 % intervals.</p>'
            )
        )
        if thin_values:
            out.append(
                '<p class="too-few">Too few sessions to compare: '
                f"{escape(', '.join(thin_values))}.</p>"
            )
        out.append(
            "<details><summary>The equity lens as a table</summary>"
            '<div class="scroll"><table id="equity-table"><caption>Equity lens (table)</caption>'
            "<thead><tr><th>Segment</th><th>Step</th><th>n</th><th>Mean</th>"
            "<th>95 % interval</th><th>Note</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div></details>"
        )
        return "".join(out)

    def pains(self) -> str:
        steps = {s.id: s for s in self.d.journey.steps}
        rows = []
        for rank, item in enumerate(self.d.pain_points, start=1):
            step = steps.get(item.step_id)
            a = self.d.aggregates.get(item.step_id)
            text = (
                escape(item.text)
                if item.text
                else '<span class="muted">(flagged, no description written)</span>'
            )
            rows.append(
                f'<tr><td class="num">{rank}</td><td>{text}</td>'
                f"<td>{escape(self.label(step)) if step else DASH}</td>"
                f'<td class="num">{item.count}</td>'
                f'<td class="num">{pct(item.count, a.captures) if a else DASH}</td></tr>'
            )
        if not rows:
            return (
                '<h2 id="pains">Pain points</h2>'
                '<p class="muted">No pain points in this selection.</p>'
            )
        return (
            '<h2 id="pains">Pain points, ranked</h2><div class="scroll"><table id="pains-table">'
            "<thead><tr><th>#</th><th>Pain point</th><th>Step</th><th>Times</th>"
            f"<th>Share of step</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        )

    def quotes(self) -> str:
        head = '<h2 id="quotes">Representative quotes</h2>'
        if self.d.encrypted:
            return head + f'<p class="muted">{escape(sealed.NOTICE)}</p>'
        if self.d.quotes is None:
            return head + (
                '<p class="muted">Quotes are not shown for this study (a hub admin turns them '
                "on with <code>cxfield hub studies quotes STUDY on</code>).</p>"
            )
        items = []
        for s in self.d.journey.steps:
            for q in self.d.quotes.get(s.id, []):
                items.append(
                    f'<li><q>{escape(q.text)}</q> <span class="muted">— {escape(self.label(s))}, '
                    f"heard {q.count}×</span></li>"
                )
        return head + (f"<ul>{''.join(items)}</ul>" if items else '<p class="muted">No quotes.</p>')

    def times(self) -> str:
        rows = []
        for s in self.d.journey.steps:
            d = self.d.observation.get(s.id)
            if d is None:
                continue
            rows.append(
                f'<tr><th scope="row">{escape(self.label(s))}</th><td class="num">{d.n}</td>'
                f'<td class="num">{fmt_seconds(d.median_s)}</td>'
                f'<td class="num">{fmt_seconds(d.min_s)} – {fmt_seconds(d.max_s)}</td></tr>'
            )
        head = '<h2 id="times">Observed time per step</h2>'
        if not rows:
            return head + '<p class="muted">No observation sessions in this selection.</p>'
        return head + (
            '<div class="scroll"><table id="times-table"><thead><tr><th>Step</th>'
            "<th>Observed sessions</th><th>Median</th><th>Range</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>"
        )

    def survey(self) -> str:
        s, study = self.d.survey, self.d.journey.study
        head = '<h2 id="a11">A-11 customer survey</h2>'
        if s.responses == 0:
            return head + '<p class="muted">No A-11 survey responses in this selection.</p>'
        order = {column: i for i, (_, column) in enumerate(REPORTING_QUESTIONS)}
        items = sorted(self.d.survey_items, key=lambda it: order.get(it.key, len(order)))
        program = study.program or study.name
        rows = []
        for item in items:
            counts = s.counts.get(item.key, {})
            answered = sum(counts.values())
            wording = fill(item.wording, program, study.agency, study.a11_population)
            cells = "".join(f'<td class="num">{counts.get(k, 0)}</td>' for k in range(1, 6))
            rows.append(
                f'<tr><th scope="row">{escape(item.driver)}</th><td>{escape(wording)}</td>'
                f'{cells}<td class="num">{answered}</td>'
                f'<td class="num">{pct(counts.get(4, 0) + counts.get(5, 0), answered)}</td></tr>'
            )
        return head + (
            f'<p class="muted">{s.responses} responses from {s.sessions} sessions; 1 strongly '
            "disagree … 5 strongly agree; Agree counts 4 and 5.</p>"
            '<div class="scroll"><table id="a11-table"><thead><tr><th>Item</th><th>Wording</th>'
            "<th>1</th><th>2</th><th>3</th><th>4</th><th>5</th><th>n</th><th>Agree</th></tr>"
            f"</thead><tbody>{''.join(rows)}</tbody></table></div>"
        )


def _empty() -> svg.ValenceSummary:
    return svg.ValenceSummary(0, None, None, {})
