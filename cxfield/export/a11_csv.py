"""The A-11 quarterly reporting table (OMB Circular A-11 Section 280) as CSV.

One row per reporting question q1..q7 with the count of answers at each point 1..5; every
row also carries the quarter, the number of sessions (customer interviews in the quarter,
rejected ones left out), the number of survey responses, and what HISP reporting asks for
that cxfield can know: surveys offered (every session with a customer offers it), customers
served (from the imported operations data; empty when none was imported) and the channel
(the journey's customer steps), so the file stands on its own when pasted into an agency's
reporting template.  Text typed by people (the study, program,
agency and population names) is escaped like every cxfield CSV cell (no formulas)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import IO

from cxfield.domain.survey import REPORTING_QUESTIONS, fill, quarter_bounds, v1_items
from cxfield.export.csv_format import csv_writer, safe
from cxfield.services.analysis import A11Counts
from cxfield.storage.models import Study

A11_COLUMNS = [
    "study_id", "study", "quarter", "quarter_start", "quarter_end", "question", "driver",
    "item_wording", "count_1", "count_2", "count_3", "count_4", "count_5", "answered",
    "sessions", "responses", "surveys_offered", "customers_served", "channel",
]  # fmt: skip


def write_a11_csv(handle: IO[str], study: Study, counts: A11Counts) -> None:
    (y0, m0, d0), (y1, m1, d1) = quarter_bounds(counts.quarter)
    first, last = date(y0, m0, d0), date(y1, m1, d1) - timedelta(days=1)
    try:
        items = {
            i.key: i
            for i in v1_items(study.survey_trust_variant, study.survey_effectiveness_variant)
        }
    except ValueError:
        items = {i.key: i for i in v1_items()}
    program = study.program or study.name
    writer = csv_writer(handle)
    writer.writerow(A11_COLUMNS)
    for key, column in REPORTING_QUESTIONS:
        item = items[column]
        points = counts.counts[key]
        writer.writerow([
            study.id, safe(study.name), counts.quarter, first.isoformat(), last.isoformat(), key,
            item.driver, safe(fill(item.wording, program, study.agency, study.a11_population)),
            *[points[p] for p in range(1, 6)], sum(points.values()), counts.sessions,
            counts.responses, counts.surveys_offered,
            "" if counts.customers_served is None else counts.customers_served,
            "; ".join(counts.channels),
        ])  # fmt: skip
