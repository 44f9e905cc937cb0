"""The controlled vocabularies of journey maps, blueprints and sessions."""

from __future__ import annotations

from enum import StrEnum


class BlueprintLane(StrEnum):
    """Service-blueprint rows (18F convention)."""

    USER = "user"
    FRONTSTAGE = "frontstage"
    BACKSTAGE = "backstage"
    SUPPORT = "support"

    @property
    def label(self) -> str:
        return _LANE_LABELS[self]


_LANE_LABELS = {
    BlueprintLane.USER: "User steps",
    BlueprintLane.FRONTSTAGE: "Frontstage actions",
    BlueprintLane.BACKSTAGE: "Backstage actions",
    BlueprintLane.SUPPORT: "Support processes",
}


class Channel(StrEnum):
    IN_PERSON = "in_person"
    PHONE = "phone"
    ONLINE = "online"
    MAIL = "mail"
    OTHER = "other"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class SessionMode(StrEnum):
    INTERVIEW = "interview"
    OBSERVATION = "observation"


class SessionStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    HAS_ISSUES = "has_issues"
    REJECTED = "rejected"


class NoteTag(StrEnum):
    PAIN_POINT = "pain_point"
    QUOTE = "quote"
    IDEA = "idea"
    WORKAROUND = "workaround"
    BARRIER = "barrier"
    HARM = "harm"
    EQUITY = "equity"


class Speaker(StrEnum):
    INTERVIEWER = "interviewer"
    PARTICIPANT = "participant"
    UNKNOWN = "unknown"


class ResearcherRole(StrEnum):
    RESEARCHER = "researcher"
    OBSERVER = "observer"
    SUPERVISOR = "supervisor"


VALENCE_MIN = -2
VALENCE_MAX = 2
VALENCE_LABELS: dict[int, str] = {
    -2: "Very negative",
    -1: "Negative",
    0: "Neutral",
    1: "Positive",
    2: "Very positive",
}

#: Named emotions offered as chips for every study; studies may add their own.
BASE_EMOTIONS: tuple[str, ...] = (
    "frustrated",
    "confused",
    "anxious",
    "embarrassed",
    "angry",
    "hopeful",
    "relieved",
    "respected",
    "satisfied",
)

INTENSITY_MIN = 1
INTENSITY_MAX = 5

PREFER_NOT_TO_SAY = "prefer not to say"
