"""Reading and checking a study definition file (``studies import``, File → Import study).

A definition comes from another laptop, a USB stick or an e-mail, so every value is checked
before anything is written: its type, its vocabulary, and limits that a real study never
reaches (a journey map of 40 stages, a consent text of 20,000 characters...).  A file
that breaks any of them is refused with one line saying where; nothing is created.  What
passes is returned normalised (names trimmed, defaults filled in), so creating the study
only reads checked values.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from cxfield.domain.errors import ValidationError
from cxfield.domain.rules import check_role, clean_name, clean_roles
from cxfield.domain.survey import EFFECTIVENESS_VARIANTS, TRUST_VARIANTS, SurveyVersion
from cxfield.domain.vocabulary import (
    DEFAULT_STAFF_ROLES,
    DEFAULT_STAFF_SEGMENTS,
    AudioClock,
    BlueprintLane,
    Channel,
)
from cxfield.privacy import settings as redaction_settings
from cxfield.privacy.detect import check_case_pattern
from cxfield.services.journey_editor import (
    check_trust_population,
    clean_emotions,
    validate_segment_attributes,
)

FORMAT = "cxfield-study"
FORMAT_VERSION = 1

#: limits far above any real study (the shipped templates: 4 stages, at most 7 steps in one,
#: consent texts under 500 characters); they keep a broken or hostile file from filling
#: the database or making every report take minutes
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 8
MAX_STAGES = 40
MAX_STEPS_PER_STAGE = 60
MAX_STEPS = 300
MAX_SEGMENT_ATTRIBUTES = 20
MAX_SEGMENT_VALUES = 100
MAX_EXTRA_EMOTIONS = 30
MAX_SHORT_TEXT = 200  # names, program, agency, population, segment labels and values
MAX_DESCRIPTION = 10_000
MAX_CONSENT_TEXT = 20_000
MAX_PART_DESCRIPTION = 2_000  # a stage's or a step's description
MAX_STAFF_ROLES = 40
MAX_CASE_PATTERNS = 50
MAX_RETENTION_DAYS = 36500  # as cxfield.privacy.study_protection.MAX_DAYS

#: the study fields a definition carries, with their defaults
STUDY_DEFAULTS: dict[str, Any] = {
    "program": "",
    "agency": "",
    "a11_population": "",
    "description": "",
    "consent_text": "",
    "segment_attributes": [],
    "extra_emotions": [],
    "survey_version": SurveyVersion.V1.value,
    "survey_trust_variant": "confidence",
    "survey_effectiveness_variant": "need",
    "staff_roles": list(DEFAULT_STAFF_ROLES),
    "staff_segment_attributes": [dict(a) for a in DEFAULT_STAFF_SEGMENTS],
}


def parse_definition(raw: bytes, source: str) -> Any:
    """The JSON value in ``raw`` (UTF-8, with or without a byte-order mark)."""
    if len(raw) > MAX_FILE_BYTES:
        raise ValidationError(
            f"{source} is {len(raw) / 1e6:.1f} MB; a study definition is at most "
            f"{MAX_FILE_BYTES // (1024 * 1024)} MB."
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{source} is not a JSON study definition (not UTF-8 text).") from exc
    try:
        return json.loads(text)
    except RecursionError as exc:
        raise ValidationError(f"{source} is not a study definition (nested too deeply).") from exc
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{source} is not a JSON study definition ({exc}).") from exc
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise ValidationError(
            f"{source} is not a study definition (a number in it is too long)."
        ) from exc


def validate_definition(data: Any) -> dict[str, Any]:
    """Check a study definition document completely; raise ValidationError (one line) on
    any flaw.  Returns the normalised definition."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValidationError('Not a cxfield study definition (missing "format": "cxfield-study").')
    version = data.get("format_version")
    if type(version) is not int or version != FORMAT_VERSION:
        raise ValidationError(
            f"Study definition format version {_shown(version)} is not supported "
            f"(this cxfield reads version {FORMAT_VERSION})."
        )
    _check_depth(data)
    study = data.get("study")
    if not isinstance(study, dict) or not isinstance(study.get("name"), str):
        raise ValidationError("The study definition has no study name.")
    stages = data.get("stages")
    if not isinstance(stages, list):
        raise ValidationError("The study definition has no list of stages.")
    fields = _study_fields(study)
    checked = _stages(stages)
    for stage in checked:
        for step in stage["steps"]:
            step["staff_roles"] = [
                check_role(r, fields["staff_roles"]) for r in step["staff_roles"]
            ]
    result = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "study": fields,
        "stages": checked,
    }
    if data.get("protection") is not None:
        # an older file has none: a new study keeps everything, an existing one its own
        result["protection"] = _protection(data["protection"])
    return result


#: a study's protection settings a definition carries (``study_protection``), with defaults
PROTECTION_DEFAULTS: dict[str, Any] = {
    "encrypt": False,
    "public_key": "",
    "key_id": "",
    "audio_days": None,
    "audio_clock": None,
    "transcript_days": None,
}


def _protection(value: Any) -> dict[str, Any]:
    """Encryption (the study's public key, never the private one) and retention: a laptop
    that imports the study protects its participants before its first sync."""
    if not isinstance(value, dict):
        raise ValidationError(f"The protection settings must be an object, not {_kind(value)}.")
    raw = {k: PROTECTION_DEFAULTS[k] if value.get(k) is None else value[k]
           for k in PROTECTION_DEFAULTS}  # fmt: skip
    if not isinstance(raw["encrypt"], bool):
        raise ValidationError(
            f"protection.encrypt must be true or false, not {_kind(raw['encrypt'])}."
        )
    for key, size in (("public_key", 64), ("key_id", 16)):
        raw[key] = _text(raw[key], f"protection.{key}", size)
    if raw["encrypt"] and not raw["public_key"]:
        raise ValidationError("protection.encrypt is on but the file has no public_key.")
    for key in ("audio_days", "transcript_days"):
        days = raw[key]
        if days is not None and (type(days) is not int or not 0 <= days <= MAX_RETENTION_DAYS):
            raise ValidationError(
                f"protection.{key} must be a number of days from 0 to {MAX_RETENTION_DAYS} "
                f"or null (kept), not {_shown(days)}."
            )
    if raw["audio_clock"] is not None:
        raw["audio_clock"] = _choice(raw["audio_clock"], "protection.audio_clock",
                                     [c.value for c in AudioClock])  # fmt: skip
    return raw


def _study_fields(study: dict[str, Any]) -> dict[str, Any]:
    raw = {key: study.get(key) for key in STUDY_DEFAULTS}
    raw = {key: STUDY_DEFAULTS[key] if value is None else value for key, value in raw.items()}
    fields: dict[str, Any] = {"name": _name(study["name"], "Study name")}
    for key, what in (("program", "program name"), ("agency", "agency name"),
                      ("a11_population", "A-11 population")):  # fmt: skip
        fields[key] = " ".join(_text(raw[key], f"The {what}", MAX_SHORT_TEXT).split())
    fields["description"] = _text(raw["description"], "The description", MAX_DESCRIPTION).strip()
    fields["consent_text"] = _text(raw["consent_text"], "The consent text", MAX_CONSENT_TEXT)
    fields["survey_version"] = _choice(
        raw["survey_version"], "survey_version", [v.value for v in SurveyVersion]
    )
    fields["survey_trust_variant"] = _choice(
        raw["survey_trust_variant"], "survey_trust_variant", list(TRUST_VARIANTS)
    )
    fields["survey_effectiveness_variant"] = _choice(
        raw["survey_effectiveness_variant"],
        "survey_effectiveness_variant",
        list(EFFECTIVENESS_VARIANTS),
    )
    fields["segment_attributes"] = _segments(raw["segment_attributes"])
    emotions = _list(raw["extra_emotions"], "extra_emotions", MAX_EXTRA_EMOTIONS)
    fields["extra_emotions"] = clean_emotions(
        _text(e, f"Extra emotion {n}", MAX_SHORT_TEXT) for n, e in enumerate(emotions, 1)
    )
    check_trust_population(fields["survey_trust_variant"], fields["a11_population"])
    roles = _list(raw["staff_roles"], "staff_roles", MAX_STAFF_ROLES)
    fields["staff_roles"] = clean_roles(
        _text(r, f"Staff role {n}", MAX_SHORT_TEXT) for n, r in enumerate(roles, 1)
    ) or list(DEFAULT_STAFF_ROLES)
    fields["staff_segment_attributes"] = _segments(
        raw["staff_segment_attributes"], "staff_segment_attributes", open_allowed=True
    )
    if study.get("redaction") is not None:
        # an older file has none: a new study takes the defaults, an existing one keeps its own
        fields["redaction"] = _redaction(study["redaction"])
    return fields


def _redaction(value: Any) -> dict[str, Any]:
    """The study's redaction settings (review before sync and export, threshold, case-number
    patterns, word list), checked like every field.  The names listed for a session are no
    part of a study and never in a file."""
    if not isinstance(value, dict):
        raise ValidationError(f"The redaction settings must be an object, not {_kind(value)}.")
    if not value:  # never set: the defaults, stored as the lead's laptop stores them
        return {}
    defaults = redaction_settings.StudyRedaction()
    review = value.get("review", defaults.review)
    if not isinstance(review, bool):
        raise ValidationError(f"redaction.review must be true or false, not {_kind(review)}.")
    threshold = value.get("threshold", defaults.threshold)
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise ValidationError(f"redaction.threshold must be a number, not {_kind(threshold)}.")
    patterns = _list(value.get("case_patterns", []), "redaction.case_patterns", MAX_CASE_PATTERNS)
    for n, pattern in enumerate(patterns, 1):
        problem = check_case_pattern(
            _text(pattern, f"redaction.case_patterns entry {n}", MAX_SHORT_TEXT)
        )
        if problem:
            raise ValidationError(f"redaction.case_patterns entry {n}: {problem}")
    words = _list(value.get("words", []), "redaction.words", redaction_settings.MAX_WORDS)
    try:
        checked = redaction_settings.checked(
            defaults,
            review=review,
            threshold=float(threshold),
            case_patterns=list(patterns),
            words=[_text(w, f"redaction.words entry {n}", MAX_SHORT_TEXT)
                   for n, w in enumerate(words, 1)],
        )  # fmt: skip
    except ValueError as exc:
        raise ValidationError(f"Redaction settings: {exc}") from None
    return checked.as_json()


def _segments(
    value: Any, field: str = "segment_attributes", *, open_allowed: bool = False
) -> list[dict[str, Any]]:
    attributes = _list(value, field, MAX_SEGMENT_ATTRIBUTES)
    checked = []
    for n, attribute in enumerate(attributes, 1):
        what = f"Segment attribute {n}"
        if not isinstance(attribute, dict):
            raise ValidationError(f"{what} is not an object.")
        label = _text(attribute.get("label", ""), f"The label of {what.lower()}", MAX_SHORT_TEXT)
        key = attribute.get("key")
        if key is not None:
            key = _text(key, f"The key of {what.lower()}", MAX_SHORT_TEXT)
        values = _list(attribute.get("values", []), f"The values of {label!r}", MAX_SEGMENT_VALUES)
        texts = [_text(v, f"A value of {label!r}", MAX_SHORT_TEXT) for v in values]
        checked.append({"key": key, "label": label, "values": texts})
    return validate_segment_attributes(checked, open_allowed=open_allowed)


def _stages(stages: list[Any]) -> list[dict[str, Any]]:
    if len(stages) > MAX_STAGES:
        raise ValidationError(
            f"The study definition has {len(stages):,} stages; a journey map has at most "
            f"{MAX_STAGES}."
        )
    result = []
    total = 0
    for s_index, stage in enumerate(stages, 1):
        if not isinstance(stage, dict):
            raise ValidationError(f"Stage {s_index} is not an object.")
        steps = stage.get("steps")
        steps = _list([] if steps is None else steps, f"The steps of stage {s_index}",
                      MAX_STEPS_PER_STAGE)  # fmt: skip
        total += len(steps)
        if total > MAX_STEPS:
            raise ValidationError(
                f"The study definition has more than {MAX_STEPS} steps; a journey map has "
                f"at most {MAX_STEPS}."
            )
        result.append({
            "name": _name(stage.get("name"), f"Stage {s_index} name"),
            "description": _description(stage, f"The description of stage {s_index}"),
            "steps": [_step(step, f"Step {t_index} of stage {s_index}")
                      for t_index, step in enumerate(steps, 1)],
        })  # fmt: skip
    return result


def _step(step: Any, what: str) -> dict[str, Any]:
    if not isinstance(step, dict):
        raise ValidationError(f"{what} is not an object.")
    lane = step.get("lane")
    channel = step.get("channel")
    roles = _list(step.get("staff_roles") or [], f"The staff roles of {what.lower()}",
                  MAX_STAFF_ROLES)  # fmt: skip
    return {
        "staff_roles": [_text(r, f"A staff role of {what.lower()}", MAX_SHORT_TEXT) for r in roles],
        "name": _name(step.get("name"), f"{what} name"),
        "description": _description(step, f"The description of {what.lower()}"),
        "lane": _choice(
            BlueprintLane.USER.value if lane is None else lane,
            f"The lane of {what.lower()}",
            [v.value for v in BlueprintLane],
        ),
        "channel": _choice(
            Channel.IN_PERSON.value if channel is None else channel,
            f"The channel of {what.lower()}",
            [v.value for v in Channel],
        ),
    }


# --- single values ----------------------------------------------------------------------


def _shown(value: Any) -> str:
    """A value as the user wrote it in JSON, cut short."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "text"


def _text(value: Any, what: str, max_length: int) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be text, not {_kind(value)}.")
    if len(value) > max_length:
        raise ValidationError(f"{what} is longer than {max_length:,} characters.")
    for char in value:
        category = unicodedata.category(char)
        if (category == "Cc" and char not in "\t\n\r") or category == "Cs":
            raise ValidationError(
                f"{what} holds a control character (U+{ord(char):04X}); remove it."
            )
    return value


def _name(value: Any, what: str) -> str:
    if value is None:
        raise ValidationError(f"{what} is missing.")
    return clean_name(_text(value, what, MAX_SHORT_TEXT * 5), what, MAX_SHORT_TEXT)


def _description(part: dict[str, Any], what: str) -> str:
    value = part.get("description")
    return "" if value is None else _text(value, what, MAX_PART_DESCRIPTION).strip()


def _choice(value: Any, what: str, allowed: list[str]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ValidationError(
            f"Invalid study definition: {what} is {_shown(value)}; use one of: "
            f"{', '.join(allowed)}."
        )
    return value


def _list(value: Any, what: str, max_items: int) -> list[Any]:
    if not isinstance(value, list):
        raise ValidationError(f"{what} must be a list, not {_kind(value)}.")
    if len(value) > max_items:
        raise ValidationError(
            f"{what} has {len(value):,} entries; at most {max_items} are allowed."
        )
    return value


def _check_depth(data: Any) -> None:
    """No real definition nests deeper than a step's fields: refuse deeper files early
    (without recursion, so no depth can crash the check itself)."""
    pending: list[tuple[Any, int]] = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise ValidationError(
                f"The study definition is nested more than {MAX_DEPTH} levels deep; "
                "it is not a cxfield study definition."
            )
        if isinstance(value, dict):
            pending.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            pending.extend((v, depth + 1) for v in value)
