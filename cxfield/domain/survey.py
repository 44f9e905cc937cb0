"""OMB Circular A-11 Section 280 post-transaction survey.

Item wording is quoted exactly from the circular (agencies must use it "without
modification"); only the bracketed program/agency names are filled in."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SurveyVersion(StrEnum):
    V1 = "v1"  # post-transaction, 5-point Likert per driver
    V2 = "v2"  # GSA Touchpoints: trust + what went well / what didn't


LIKERT_LABELS: dict[int, str] = {
    1: "Strongly disagree",
    2: "Disagree",
    3: "Neither agree nor disagree",
    4: "Agree",
    5: "Strongly agree",
}

TRUST_VARIANTS: dict[str, str] = {
    "confidence": "This interaction increased my confidence in [Program/Service name].",
    "commitment": "I trust [Agency] to fulfill our country's commitment to [relevant population].",
}

EFFECTIVENESS_VARIANTS: dict[str, str] = {
    "need": "My need was addressed.",
    "issue": "My issue was resolved.",
    "found": "I found what I was looking for.",
}


@dataclass(frozen=True)
class SurveyItem:
    key: str  # column name in SurveyResponse
    driver: str
    wording: str  # with [Program/Service name] etc. placeholders


V1_ITEMS: tuple[SurveyItem, ...] = (
    SurveyItem(
        "satisfaction",
        "Satisfaction",
        "I am satisfied with the service I received from [Program/Service name].",
    ),
    SurveyItem("trust", "Trust", TRUST_VARIANTS["confidence"]),
    SurveyItem("effectiveness", "Effectiveness", EFFECTIVENESS_VARIANTS["need"]),
    SurveyItem("ease", "Ease", "It was easy to complete what I needed to do."),
    SurveyItem(
        "efficiency",
        "Efficiency",
        "It took a reasonable amount of time to do what I needed to do.",
    ),
    SurveyItem("equity", "Equity", "I was treated fairly."),
    SurveyItem("employee", "Employee helpfulness", "Employees I interacted with were helpful."),
    SurveyItem(
        "transparency",
        "Transparency",
        "I understood what was being asked of me throughout the process.",
    ),
)

#: Drivers offered as checkboxes in v2 Q2 ("What went well?") and Q3.
V2_DRIVERS: tuple[str, ...] = (
    "effectiveness",
    "ease",
    "efficiency",
    "transparency",
    "humanity",
    "employee",
    "other",
)
V2_TRUST_WORDING = TRUST_VARIANTS["confidence"]
V2_WENT_WELL = "What went well?"
V2_NOT_WELL = "What didn't go so well?"
V2_FREE_TEXT = "Is there anything else you would like to share?"

#: Quarterly reporting order (q1..q7) and the SurveyResponse column behind each.
REPORTING_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("q1_satisfaction", "satisfaction"),
    ("q2_trust", "trust"),
    ("q3_effectiveness", "effectiveness"),
    ("q4_ease", "ease"),
    ("q5_efficiency", "efficiency"),
    ("q6_transparency", "transparency"),
    ("q7_employee", "employee"),
)


def fill(wording: str, program: str, agency: str = "", population: str = "") -> str:
    """Fill the bracketed names into an item's exact wording."""
    text = wording.replace("[Program/Service name]", program or "[Program/Service name]")
    if agency:
        text = text.replace("[Agency]", agency)
    if population:
        text = text.replace("[relevant population]", population)
    return text


def v1_items(
    trust_variant: str = "confidence", effectiveness_variant: str = "need"
) -> list[SurveyItem]:
    """The v1 items with the study's chosen trust and effectiveness variants."""
    if trust_variant not in TRUST_VARIANTS:
        raise ValueError(f"unknown trust variant {trust_variant!r}")
    if effectiveness_variant not in EFFECTIVENESS_VARIANTS:
        raise ValueError(f"unknown effectiveness variant {effectiveness_variant!r}")
    items: list[SurveyItem] = []
    for item in V1_ITEMS:
        if item.key == "trust":
            item = SurveyItem("trust", "Trust", TRUST_VARIANTS[trust_variant])
        elif item.key == "effectiveness":
            item = SurveyItem(
                "effectiveness", "Effectiveness", EFFECTIVENESS_VARIANTS[effectiveness_variant]
            )
        items.append(item)
    return items


def quarter_bounds(quarter: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """First day and first day after a quarter written like ``2026Q4`` (as y, m, d tuples).

    Raises ValueError with a readable message for anything else."""
    text = quarter.strip().upper()
    if len(text) != 6 or text[4] != "Q" or not text[:4].isdigit() or text[5] not in "1234":
        raise ValueError(f"{quarter!r} is not a quarter; write it like 2026Q4.")
    year, q = int(text[:4]), int(text[5])
    start = (year, 3 * (q - 1) + 1, 1)
    end = (year + 1, 1, 1) if q == 4 else (year, 3 * q + 1, 1)
    return start, end
