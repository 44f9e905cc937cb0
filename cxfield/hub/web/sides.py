"""The shared map's customer and staff sides and its operations lane, as the app's journey
map and the study report show them: the staff's curve beside the customers' (each with its
own n), the steps both sides flag as painful, and the imported operations figures (median
and 90th-percentile time, customers a day and per site) beside the observed times and the
feelings, with the correlation and its caution."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from cxfield.domain.operations import CORRELATION_CAUTION, correlation_words
from cxfield.export.charts import signed
from cxfield.export.layout import fmt_seconds
from cxfield.hub.web.data import MapData
from cxfield.services.analysis import RankedText, StepAggregate
from cxfield.services.step_records import AGREE_SHARE

if TYPE_CHECKING:
    from cxfield.hub.web.mappage import MapPage

DASH = "–"


def _share(part: int, whole: int) -> str:
    return f"{part / whole * 100:.0f}%" if whole else DASH


def _time(seconds: float | None) -> str:
    return DASH if seconds is None else fmt_seconds(seconds)


def _felt(agg: StepAggregate | None) -> str:
    if agg is None or agg.valence.mean is None:
        return DASH
    return f"{signed(agg.valence.mean, 1)} (n = {agg.valence.n})"


def _said(items: list[RankedText], step_id: str) -> str:
    """The most often described pain point of a step (ranked lists, most first)."""
    return next((i.text for i in items if i.step_id == step_id and i.text), "")


def curve_key(data: MapData) -> str:
    """The chart's key: which line is whose, with each side's interviews."""
    customers = data.overview.interviews - data.staff_interviews
    roles = ", ".join(f"{role or 'no role'} {n}" for role, n in sorted(data.staff_roles.items()))
    return (
        f'<p class="key" id="curve-key"><span class="swatch customers"></span> customers '
        f'({customers} interviews) · <span class="swatch staff"></span> staff, dashed with '
        f"square points ({data.staff_interviews} interviews: {escape(roles)}). Staff rated how "
        "it felt to do the work at the steps they take part in; each side has its own n.</p>"
    )


def agreement(page: MapPage) -> str:
    """Where staff and customers agree a step hurts (nothing without staff interviews)."""
    d = page.d
    if not d.staff_interviews:
        return ""
    head = '<h2 id="agree">Staff and customers agree this step hurts</h2>'
    rule = (
        f"Listed where, on each side, at least {AGREE_SHARE * 100:.0f}% of that side's "
        "captures of the step are pain points."
    )
    if not d.agreement:
        return head + f'<p id="agreement">No step is flagged as painful by both sides. {rule}</p>'
    steps = {s.id: s for s in d.journey.steps}
    items = []
    for a in d.agreement:
        line = (
            f"{escape(page.label(steps[a.step_id]))} — customers: {a.customer_pains} of "
            f"{a.customer_captures} captures ({_share(a.customer_pains, a.customer_captures)});"
            f" staff: {a.staff_pains} of {a.staff_captures} "
            f"({_share(a.staff_pains, a.staff_captures)})."
        )
        said, heard = _said(d.pain_points, a.step_id), _said(d.staff_pain_points, a.step_id)
        if said:
            line += f" Customers: “{escape(said)}”."
        if heard:
            line += f" Staff: “{escape(heard)}”."
        items.append(f'<li class="agree" data-step="{a.step_id}">{line}</li>')
    return head + f'<p class="muted">{rule}</p><ul id="agreement">{"".join(items)}</ul>'


def operations(page: MapPage) -> str:
    """The operations lane: per step the imported times and volumes beside the observed
    times and the feelings, customers per site, and the correlation with its caution."""
    d, ops = page.d, page.d.ops
    head = '<h2 id="ops">Operations data beside the experience</h2>'
    if ops is None:
        return head + (
            '<p class="muted">No operations data: a lead imports a queue or case-system '
            "export on a laptop (<code>cxfield ops import</code>) and it syncs here.</p>"
        )
    shown = [s for s in d.journey.steps if s.id in ops.steps]
    rows = []
    for s in shown:
        st, seen = ops.steps[s.id], d.observation.get(s.id)
        observed = f"{_time(seen.median_s)} (n = {seen.n})" if seen else DASH
        rows.append(
            f'<tr data-step="{s.id}"><th scope="row">{escape(page.label(s))}</th>'
            f'<td class="num">{_time(st.median_s)}</td><td class="num">{_time(st.p90_s)}</td>'
            f'<td class="num">{st.volume}</td><td class="num">{st.mean_per_day:.1f}</td>'
            f'<td class="num">{observed}</td>'
            f'<td class="num">{_felt(d.aggregates.get(s.id))}</td>'
            f'<td class="num">{_felt(d.staff_aggregates.get(s.id))}</td></tr>'
        )
    sites = sorted({site for s in shown for site in ops.steps[s.id].per_site})
    site_rows = "".join(
        f'<tr><th scope="row">{escape(page.label(s))}</th>'
        + "".join(f'<td class="num">{ops.steps[s.id].per_site.get(x, 0)}</td>' for x in sites)
        + "</tr>"
        for s in shown
    )
    lines = []
    for s in shown:
        found = ops.correlations.get(s.id)
        if found is None:
            continue
        whose = "customers'" if found.side == "customers" else "staff's"
        lines.append(
            f"<li>{escape(page.label(s))}: {correlation_words(found.r, found.n, found.by)}, "
            f"comparing each {found.by[:-1]}'s median time with its {whose} mean rating.</li>"
        )
    together = (
        f'<ul id="correlations">{"".join(lines)}</ul>'
        if lines
        else '<p id="correlations">Too few sites or weeks have both operations times and '
        "ratings at the same step to say how the two move together (at least 4 are "
        "needed).</p>"
    )
    site_head = "".join(f"<th>{escape(x or 'no site')}</th>" for x in sites)
    return head + (
        f'<p class="muted">{ops.records} customer records from {ops.imports} imported '
        f"file(s), {ops.first_day} to {ops.last_day}. A step's time runs from its column's "
        "time to the next mapped column's; p90: nine in ten customers took less. Observed: "
        "timed by cxfield observers; felt: the mean rating with its n.</p>"
        '<div class="scroll"><table id="ops-table"><caption>Operations lane (table)'
        "</caption><thead><tr><th>Step</th><th>Median</th><th>p90</th><th>Customers</th>"
        "<th>Per day</th><th>Observed median</th><th>Customers felt</th><th>Staff felt</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        '<div class="scroll"><table id="ops-sites"><caption>Customers per site</caption>'
        f"<thead><tr><th>Step</th>{site_head}</tr></thead><tbody>{site_rows}</tbody>"
        "</table></div><h3>Time and feeling together</h3>"
        f'{together}<p class="caution" id="caution">{escape(CORRELATION_CAUTION)}</p>'
    )
