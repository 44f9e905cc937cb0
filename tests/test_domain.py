from __future__ import annotations

import pytest

from cxfield.domain import rules, survey
from cxfield.domain.errors import ValidationError
from cxfield.domain.journey import step_durations, summarise_counts


def test_valence_range() -> None:
    assert rules.check_valence(-2) == -2
    assert rules.check_valence(None) is None
    for bad in (-3, 3):
        with pytest.raises(ValidationError, match="between -2 and \\+2"):
            rules.check_valence(bad)
    with pytest.raises(ValidationError):
        rules.check_valence(True)  # type: ignore[arg-type]


def test_pseudonym_codes() -> None:
    assert rules.pseudonym_code(1) == "P-001"
    assert rules.pseudonym_code(1234) == "P-1234"
    assert rules.pseudonym_number("P-042") == 42
    assert rules.pseudonym_number("Maria") is None
    # Codes made since sync carry the device's prefix; the older form stays valid.
    assert rules.pseudonym_code(7, "7KQ2") == "P-7KQ2-007"
    assert rules.pseudonym_number("P-7KQ2-007") == 7
    assert rules.pseudonym_prefix("P-7KQ2-007") == "7KQ2"
    assert rules.pseudonym_prefix("P-042") == ""
    assert rules.pseudonym_prefix("P-7KQ-007") is None  # not a code: prefix of 3
    assert rules.pseudonym_number("P-OIL1-001") is None  # O, I, L are not Crockford letters


def test_device_prefixes_are_stable_and_spread() -> None:
    ids = [f"device-{n}" for n in range(2000)]
    prefixes = [rules.device_prefix(i) for i in ids]
    assert prefixes == [rules.device_prefix(i) for i in ids]  # stable
    assert all(rules.pseudonym_prefix(f"P-{p}-001") == p for p in prefixes)
    # 20 bits: 2,000 laptops share a prefix only by rare chance (birthday bound ~1.9 pairs)
    assert len(set(prefixes)) >= 1990


def test_clean_name_rejects_empty() -> None:
    assert rules.clean_name("  Front   desk ") == "Front desk"
    with pytest.raises(ValidationError, match="must not be empty"):
        rules.clean_name("   ", "Step name")


def test_segments_allow_prefer_not_to_say() -> None:
    defs = [{"key": "language", "values": ["English", "Spanish"]}]
    assert rules.check_segments({"language": "prefer not to say"}, defs) == {
        "language": "prefer not to say"
    }
    assert rules.check_segments({"language": None}, defs) == {}
    with pytest.raises(ValidationError, match="not a value"):
        rules.check_segments({"language": "Klingon"}, defs)
    with pytest.raises(ValidationError, match="Unknown segment"):
        rules.check_segments({"shoe_size": "42"}, defs)


def test_tags_are_checked() -> None:
    assert rules.check_tags(["quote", "quote", "harm"]) == ["quote", "harm"]
    with pytest.raises(ValidationError, match="Unknown note tag"):
        rules.check_tags(["gossip"])


def test_a11_wording_is_exact_and_filled() -> None:
    items = {i.key: i for i in survey.v1_items("commitment", "issue")}
    assert items["effectiveness"].wording == "My issue was resolved."
    assert survey.fill(items["satisfaction"].wording, "SNAP") == (
        "I am satisfied with the service I received from SNAP."
    )
    assert survey.fill(items["trust"].wording, "SNAP", "the Agency", "families") == (
        "I trust the Agency to fulfill our country's commitment to families."
    )
    assert [q for q, _ in survey.REPORTING_QUESTIONS][0] == "q1_satisfaction"
    assert len(survey.REPORTING_QUESTIONS) == 7


def test_valence_summary_from_counts() -> None:
    summary = summarise_counts({-2: 1, 2: 1})
    assert summary.n == 2 and summary.mean == 0 and summary.stdev == 2
    assert summarise_counts({}).mean is None


def test_step_durations_handle_skips_and_out_of_order() -> None:
    assert step_durations([0.0, None, 100.0, 50.0]) == [50.0, None, None, 50.0]


def test_counts_of_things() -> None:
    from cxfield.domain.wording import count_of

    assert [count_of(n, "session") for n in (0, 1, 2)] == ["0 sessions", "1 session", "2 sessions"]
    assert count_of(1200, "audio file") == "1,200 audio files"
    assert count_of(1, "person", "people") == "1 person"
    assert count_of(3, "person", "people") == "3 people"


def test_a_typed_moment_is_read_or_refused_in_one_line() -> None:
    from cxfield.domain.clock import parse_moment
    from cxfield.domain.errors import ValidationError

    assert parse_moment("83.5") == 83.5
    assert parse_moment(" 1:23.5 ") == 83.5
    assert parse_moment("1:00:02") == 3602.0
    for bad in ("", "1:", "a:10", "1:75", "-3", "1:2:3:4", "nan"):
        with pytest.raises(ValidationError, match="is not a time"):
            parse_moment(bad)


def test_a_moment_is_written_back_as_typed() -> None:
    from cxfield.domain.clock import parse_moment, typed_moment_text

    assert [typed_moment_text(s) for s in (83.5, 90.25, 4.5, 2.0, 3602.1)] == [
        "1:23.5",
        "1:30.25",
        "0:04.5",
        "0:02",
        "1:00:02.1",
    ]
    for typed in ("83.5", "1:30.25", "0:59.99", "1:00:00.5"):
        assert parse_moment(typed_moment_text(parse_moment(typed))) == parse_moment(typed)
