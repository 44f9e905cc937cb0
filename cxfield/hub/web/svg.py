"""The page's charts as SVG drawn by the server: the emotion curve (mean, spread, n) and
the equity lens (one small curve per segment value, 95 % intervals).  Each SVG is an image
with a title and a description for screen readers; the page puts a table beside each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from cxfield.domain.journey import ValenceSummary, curve_runs

__all__ = ["Panel", "Point", "ValenceSummary", "emotion_curve", "equity_panels"]
from cxfield.export.charts import signed

INK, MUTED, LINE, BAND, FLAG, GRID = (
    "#1b1b1b",
    "#595959",
    "#1a4b8c",
    "#c6d6ee",
    "#b3261e",
    "#d0d0d0",
)
#: the staff's curve: dashed, square points (as in the app and the report)
STAFF = "#8a4b00"


@dataclass(frozen=True)
class Point:
    label: str  # the step's number and name
    summary: ValenceSummary
    low: float | None = None  # an interval, when drawn
    high: float | None = None
    flagged: bool = False


def _y(value: float, top: float, height: float) -> float:
    return top + (2 - max(-2.0, min(2.0, value))) / 4 * height


def _axis(left: float, top: float, width: float, height: float, labels: bool) -> list[str]:
    out = []
    for v in range(-2, 3):
        y = _y(v, top, height)
        dash = "" if v == 0 else ' stroke-dasharray="2 3"'
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + width}" y2="{y:.1f}" '
            f'stroke="{MUTED if v == 0 else GRID}"{dash}/>'
        )
        if labels:
            out.append(
                f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}" '
                f'font-size="12">{signed(v, 0) if v else "0"}</text>'
            )
    return out


def _close_below(mean: float, other: float | None) -> bool:
    """Is ``other`` (the other side's mean) at or just above ``mean``?  Then this value
    goes below its point, the other's above (as the report places them)."""
    return other is not None and 0 <= other - mean <= 1.0


def _curve(
    points: Sequence[Point],
    left: float,
    top: float,
    col: float,
    height: float,
    *,
    dashed: bool,
    beside: Sequence[float | None] = (),
) -> list[str]:
    out: list[str] = []
    means = [p.summary.mean for p in points]
    colour = MUTED if dashed else LINE
    for run in curve_runs(means):
        xs = [left + (i + 0.5) * col for i in run]
        upper, lower = [], []
        for x, i in zip(xs, run, strict=True):
            s = points[i].summary
            assert s.mean is not None
            high, low = points[i].high, points[i].low
            hi = high if high is not None else s.mean + (s.stdev or 0)
            lo = low if low is not None else s.mean - (s.stdev or 0)
            upper.append(f"{x:.1f},{_y(hi, top, height):.1f}")
            lower.append(f"{x:.1f},{_y(lo, top, height):.1f}")
        if not dashed:
            poly = " ".join(upper + list(reversed(lower)))
            out.append(f'<polygon points="{poly}" fill="{BAND}" opacity="0.8"/>')
        path = " ".join(
            f"{'M' if k == 0 else 'L'}{x:.1f},{_y(points[i].summary.mean or 0, top, height):.1f}"
            for k, (x, i) in enumerate(zip(xs, run, strict=True))
        )
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        out.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2.5"{dash}/>')
    for i, p in enumerate(points):
        if p.summary.mean is None:
            continue
        x, y = left + (i + 0.5) * col, _y(p.summary.mean, top, height)
        fill = FLAG if p.flagged else colour
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{6 if p.flagged else 4}" fill="{fill}"/>')
        below = _close_below(p.summary.mean, beside[i] if i < len(beside) else None)
        out.append(
            f'<text x="{x:.1f}" y="{y + 19 if below else y - 9:.1f}" text-anchor="middle" '
            f'fill="{INK}" font-size="12">{signed(p.summary.mean, 1)}</text>'
        )
    return out


def _staff_curve(
    points: Sequence[Point],
    left: float,
    top: float,
    col: float,
    height: float,
    beside: Sequence[float | None],
) -> list[str]:
    """The staff's means: a dashed line, square points, each value below its point, or
    above it where the staff's point is the upper of two close ones."""
    out: list[str] = []
    for run in curve_runs([p.summary.mean for p in points]):
        path = " ".join(
            f"{'M' if k == 0 else 'L'}{left + (i + 0.5) * col:.1f},"
            f"{_y(points[i].summary.mean or 0, top, height):.1f}"
            for k, i in enumerate(run)
        )
        out.append(
            f'<path class="staff" d="{path}" fill="none" stroke="{STAFF}" stroke-width="2.5" '
            'stroke-dasharray="7 4"/>'
        )
    for i, p in enumerate(points):
        if p.summary.mean is None:
            continue
        x, y = left + (i + 0.5) * col, _y(p.summary.mean, top, height)
        other = beside[i] if i < len(beside) else None
        below = not (other is not None and 0 <= p.summary.mean - other <= 1.0)
        out.append(
            f'<rect x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" '
            f'fill="{FLAG if p.flagged else "#ffffff"}" stroke="{STAFF}" stroke-width="2"/>'
            f'<text x="{x:.1f}" y="{y + 20 if below else y - 9:.1f}" text-anchor="middle" '
            f'fill="{STAFF}" font-size="12">{signed(p.summary.mean, 1)}</text>'
        )
    return out


def emotion_curve(
    points: Sequence[Point],
    title: str,
    description: str,
    uid: str,
    staff: Sequence[Point] | None = None,
) -> str:
    """Mean rating per step with the spread (±1 sd) as a band and n under each step; with
    ``staff`` (one point per step, the same steps) the staff's curve over it, dashed, with
    its own n under the customers'."""
    col, left, top, height = 120.0, 44.0, 16.0, 180.0
    width = left + col * max(1, len(points)) + 8
    total = top + height + (60 if staff else 44)
    parts = [
        f'<svg class="chart" role="img" aria-labelledby="{uid}-t {uid}-d" '
        f'viewBox="0 0 {width:.0f} {total:.0f}" width="{width:.0f}" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="DejaVu Sans, Arial, sans-serif">',
        f'<title id="{uid}-t">{escape(title)}</title>'
        f'<desc id="{uid}-d">{escape(description)}</desc>',
        *_axis(left, top, col * len(points), height, True),
        *_curve(
            points,
            left,
            top,
            col,
            height,
            dashed=False,
            beside=[p.summary.mean for p in staff] if staff else (),
        ),
        *(
            _staff_curve(staff, left, top, col, height, [p.summary.mean for p in points])
            if staff
            else []
        ),
    ]
    for i, p in enumerate(points):
        x = left + (i + 0.5) * col
        who = "customers " if staff else ""
        parts.append(
            f'<text x="{x:.1f}" y="{top + height + 18:.1f}" text-anchor="middle" fill="{INK}" '
            f'font-size="12">{escape(p.label[:18])}</text>'
            f'<text x="{x:.1f}" y="{top + height + 34:.1f}" text-anchor="middle" '
            f'fill="{MUTED}" font-size="12">{who}n = {p.summary.n}</text>'
        )
        if staff:
            parts.append(
                f'<text x="{x:.1f}" y="{top + height + 50:.1f}" text-anchor="middle" '
                f'fill="{STAFF}" font-size="12">staff n = {staff[i].summary.n}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class Panel:
    heading: str
    points: list[Point]
    too_few: bool


def equity_panels(panels: Sequence[Panel], title: str, description: str, uid: str) -> str:
    """One small curve per segment value, side by side (wrapping on narrow screens is done
    by the page: each panel is its own SVG inside a flex row)."""
    out = [f'<div class="panels" role="group" aria-labelledby="{uid}-t">']
    out.append(f'<p id="{uid}-t" class="sr-only">{escape(title)}. {escape(description)}</p>')
    for k, panel in enumerate(panels):
        n = max(1, len(panel.points))
        col, left, top, height = 44.0, 30.0, 40.0, 120.0
        width = left + col * n + 8
        total = top + height + 28
        colour = MUTED if panel.too_few else INK
        sub = "too few sessions: not compared" if panel.too_few else "95 % interval per point"
        body = [
            f'<svg class="panel" aria-hidden="true" viewBox="0 0 {width:.0f} {total:.0f}" '
            f'width="{width:.0f}" xmlns="http://www.w3.org/2000/svg" '
            'font-family="DejaVu Sans, Arial, sans-serif">',
            f'<text x="4" y="15" fill="{colour}" font-size="13" font-weight="bold">'
            f"{escape(panel.heading)}</text>",
            f'<text x="4" y="31" fill="{MUTED}" font-size="11">{sub}</text>',
            *_axis(left, top, col * n, height, True),
            *_curve(panel.points, left, top, col, height, dashed=panel.too_few),
        ]
        for i, p in enumerate(panel.points):
            x = left + (i + 0.5) * col
            body.append(
                f'<text x="{x:.1f}" y="{top + height + 14:.1f}" text-anchor="middle" '
                f'fill="{INK}" font-size="11">{i + 1}</text>'
                f'<text x="{x:.1f}" y="{top + height + 26:.1f}" text-anchor="middle" '
                f'fill="{MUTED}" font-size="10">n={p.summary.n}</text>'
            )
        body.append("</svg>")
        out.append(f'<figure class="panel-box" id="{uid}-{k}">{"".join(body)}</figure>')
    out.append("</div>")
    return "".join(out)
