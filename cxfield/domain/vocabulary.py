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


class ParticipantKind(StrEnum):
    """Who a participant is: a customer of the service or a member of its staff (customer and
    staff research together: the caseworker's backstage steps are where the wait comes from)."""

    CUSTOMER = "customer"
    STAFF = "staff"

    @property
    def code_letter(self) -> str:
        """The first letter of the participant's code: P-001 for customers, S-001 for staff."""
        return "S" if self is ParticipantKind.STAFF else "P"

    @property
    def path_lanes(self) -> tuple[BlueprintLane, ...]:
        """The blueprint lanes of the steps this kind of participant goes through: customers
        the user steps and the frontstage they meet, staff the frontstage, backstage and
        support work they do (the runner's next/previous walk these)."""
        if self is ParticipantKind.STAFF:
            return (BlueprintLane.FRONTSTAGE, BlueprintLane.BACKSTAGE, BlueprintLane.SUPPORT)
        return (BlueprintLane.USER, BlueprintLane.FRONTSTAGE)


#: staff roles a new study offers (editable per study)
DEFAULT_STAFF_ROLES: tuple[str, ...] = (
    "front desk",
    "caseworker",
    "eligibility worker",
    "supervisor",
    "call-centre agent",
)

#: segment attributes asked of staff, apart from the customers' (editable per study); an
#: attribute without values takes any answer (an office's name)
DEFAULT_STAFF_SEGMENTS: tuple[dict[str, object], ...] = (
    {"key": "years_in_post", "label": "Years in post", "values": ["under 1", "1–5", "over 5"]},
    {"key": "office", "label": "Office", "values": []},
)


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


class AudioClock(StrEnum):
    """When a study's audio retention days start: the session approved, or the recording's
    transcript checked (the approval counts if it comes first)."""

    APPROVED = "approved"
    CHECKED = "checked"


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
