"""Validation rules shared by every front end (CLI, GUI, import, sync)."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping

from cxfield.domain.errors import ValidationError
from cxfield.domain.vocabulary import (
    INTENSITY_MAX,
    INTENSITY_MIN,
    PREFER_NOT_TO_SAY,
    VALENCE_MAX,
    VALENCE_MIN,
    NoteTag,
    ParticipantKind,
)

#: Crockford's base32: no I, L, O or U, so a code read aloud or handwritten is unambiguous
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#: P-001 (a customer) or S-001 (a staff member), with or without a device prefix
#: (P-7KQ2-001: Crockford base32, no I, L, O or U)
_CODE_RE = re.compile(r"^([PS])-(?:([0-9A-HJKMNP-TV-Z]{4})-)?(\d{3,})$")
SEGMENT_KEY_MAX = 40


def clean_name(value: str, what: str = "Name", max_length: int = 200) -> str:
    """Strip a display name and reject empty or over-long ones, and ones holding control
    characters (a NUL cuts the name short in other programs)."""
    cleaned = " ".join(value.split())
    if not cleaned:
        raise ValidationError(f"{what} must not be empty.")
    if len(cleaned) > max_length:
        raise ValidationError(f"{what} is longer than {max_length} characters.")
    for char in cleaned:
        if unicodedata.category(char) in ("Cc", "Cs"):
            raise ValidationError(f"{what} holds a control character (U+{ord(char):04X}).")
    return cleaned


def check_valence(value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"Valence must be a whole number, not {value!r}.")
    if not VALENCE_MIN <= value <= VALENCE_MAX:
        raise ValidationError(
            f"Valence must be between {VALENCE_MIN} and +{VALENCE_MAX}, not {value}."
        )
    return value


def check_intensity(value: int | None) -> int | None:
    if value is None:
        return None
    if not INTENSITY_MIN <= value <= INTENSITY_MAX:
        raise ValidationError(
            f"Intensity must be between {INTENSITY_MIN} and {INTENSITY_MAX}, not {value}."
        )
    return value


def check_likert(value: int | None, item: str) -> int | None:
    if value is None:
        return None
    if not 1 <= value <= 5:
        raise ValidationError(f"Answer to {item} must be 1..5, not {value}.")
    return value


def check_tags(tags: Iterable[str]) -> list[str]:
    known = {t.value for t in NoteTag}
    result: list[str] = []
    for tag in tags:
        if tag not in known:
            raise ValidationError(
                f"Unknown note tag {tag!r}; use one of: {', '.join(sorted(known))}."
            )
        if tag not in result:
            result.append(tag)
    return result


def device_prefix(device_id: str) -> str:
    """Four Crockford base32 characters derived from the device id: participant codes made
    on two laptops without a network never collide (P-7KQ2-001 beside P-M3XD-001)."""
    bits = int.from_bytes(hashlib.sha256(device_id.encode("utf-8")).digest()[:3], "big") >> 4
    return "".join(_CROCKFORD[(bits >> shift) & 31] for shift in (15, 10, 5, 0))


def pseudonym_code(
    number: int, prefix: str = "", kind: ParticipantKind = ParticipantKind.CUSTOMER
) -> str:
    """The code of the n-th customer (P-001, P-002 ...) or staff member (S-001 ...) of a
    study, with the device prefix when one is given (P-7KQ2-001, S-7KQ2-001).  Every code
    is made here, so customer and staff codes always follow the same scheme."""
    if number < 1:
        raise ValidationError("Participant numbers start at 1.")
    letter = ParticipantKind(kind).code_letter
    return f"{letter}-{prefix}-{number:03d}" if prefix else f"{letter}-{number:03d}"


def pseudonym_number(code: str) -> int | None:
    match = _CODE_RE.match(code)
    return int(match.group(3)) if match else None


def pseudonym_prefix(code: str) -> str | None:
    """The device prefix of a code ("" for the form without one, None if not a code)."""
    match = _CODE_RE.match(code)
    return (match.group(2) or "") if match else None


def pseudonym_kind(code: str) -> ParticipantKind | None:
    """Whose code it is: P- a customer, S- a staff member (None if not a code)."""
    match = _CODE_RE.match(code)
    if match is None:
        return None
    return ParticipantKind.STAFF if match.group(1) == "S" else ParticipantKind.CUSTOMER


def check_role(role: str, roles: Iterable[str]) -> str:
    """A staff member's role as the study lists it (case and spaces as typed do not
    matter: "Case worker " finds "caseworker" only if the study spells it so)."""
    wanted = " ".join(role.split()).casefold()
    known = [str(r) for r in roles]
    for name in known:
        if name.casefold() == wanted:
            return name
    raise ValidationError(
        f"Unknown staff role {role.strip()!r}; this study has: {', '.join(known) or 'none'}."
    )


def clean_roles(roles: Iterable[str]) -> list[str]:
    """A study's staff roles: names as typed (single spaces), none empty, no repeats."""
    result: list[str] = []
    for role in roles:
        if not role.strip():
            continue
        name = clean_name(role, "A staff role", 60)
        if name.casefold() in (r.casefold() for r in result):
            raise ValidationError(f"The staff role {name!r} is listed twice.")
        result.append(name)
    if len(result) > 40:
        raise ValidationError("A study lists at most 40 staff roles.")
    return result


def _is_word_char(char: str) -> bool:
    # letters, combining marks (Devanagari vowel signs, decomposed accents) and digits of
    # every script: str.isalnum() leaves the marks out, so "हिन्दी" would fall apart
    return unicodedata.category(char)[0] in "LMN"


def segment_key(label: str) -> str:
    """A segment attribute's key from its label, keeping the letters of every script:
    "Age band" -> "age_band", "Tamaño del hogar" -> "tamaño_del_hogar"."""
    text = unicodedata.normalize("NFC", unicodedata.normalize("NFC", label).lower())
    words = "".join(c if _is_word_char(c) else " " for c in text).split()
    key = "_".join(words)
    if key and unicodedata.category(key[0])[0] != "L":
        key = "a_" + key
    return key[:SEGMENT_KEY_MAX].rstrip("_")


def is_key_text(key: str) -> bool:
    """Only letters, marks, digits (any script) and ``_``: safe in a JSON path."""
    return bool(key) and all(c == "_" or _is_word_char(c) for c in key)


def check_segment_key(key: str) -> str:
    """A segment key as stored: lower case, starting with a letter, letters of any script,
    digits and ``_``, at most 40 characters (keys made before Unicode letters were kept,
    such as ``tama_o_del_hogar``, pass unchanged)."""
    if (
        not is_key_text(key)
        or len(key) > SEGMENT_KEY_MAX
        or unicodedata.category(key[0])[0] != "L"
        or key != key.lower()
        or key != unicodedata.normalize("NFC", key)
    ):
        raise ValidationError(
            f"Segment key {key!r} must start with a letter and hold only lower-case "
            f"letters, digits and _ (at most {SEGMENT_KEY_MAX} characters)."
        )
    return key


def check_segments(
    values: Mapping[str, str | None], definitions: Iterable[Mapping[str, object]]
) -> dict[str, str]:
    """Check participant segment values against the study's attribute definitions.

    Every attribute is optional; "prefer not to say" is always allowed."""
    allowed: dict[str, list[str]] = {}
    for definition in definitions:
        key = str(definition["key"])
        raw_values = definition.get("values", [])
        allowed[key] = [str(v) for v in raw_values] if isinstance(raw_values, list) else []
    result: dict[str, str] = {}
    for key, value in values.items():
        if value is None or value == "":
            continue
        if key not in allowed:
            raise ValidationError(
                f"Unknown segment attribute {key!r}; the study defines: "
                f"{', '.join(allowed) or 'none'}."
            )
        if value != PREFER_NOT_TO_SAY and allowed[key] and value not in allowed[key]:
            raise ValidationError(
                f"{value!r} is not a value of {key!r}; use one of: "
                f"{', '.join(allowed[key] + [PREFER_NOT_TO_SAY])}."
            )
        result[key] = value
    return result
