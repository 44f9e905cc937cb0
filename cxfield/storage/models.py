"""All tables of the local database.

Every record that will sync to the hub carries :class:`SyncFields`: a device-generated
UUID primary key, UTC ``created_at``/``updated_at``, a per-row ``version`` counter that
increases on every change, the ``device_id`` that made the last change, and a
``deleted_at`` tombstone (records are never hard-deleted while they may still sync).
The counter and timestamps are maintained by :mod:`cxfield.storage.database`, not by
callers.

Schema changes go through Alembic (``storage/migrations``); never ``create_all``.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel
from sqlmodel._compat import SQLModelConfig

from cxfield.domain.ids import new_id, utcnow
from cxfield.domain.review import AnchorKind, ReviewAction
from cxfield.domain.survey import SurveyVersion
from cxfield.domain.vocabulary import (
    DEFAULT_STAFF_ROLES,
    DEFAULT_STAFF_SEGMENTS,
    BlueprintLane,
    Channel,
    ParticipantKind,
    ResearcherRole,
    SessionMode,
    SessionStatus,
    Speaker,
)
from cxfield.storage.types import EnumText, JSONText, UTCDateTime


class StoredRow(SQLModel):
    """Every stored model: pydantic builds its validators on first use, not at import —
    a third of this module's import time, on the way to a usable window (issue 18)."""

    model_config = SQLModelConfig(defer_build=True)


class SyncFields(StoredRow):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = Field(default=1)
    device_id: str = Field(default="", max_length=36)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


# --- local-only ---------------------------------------------------------------------


class LocalSetting(StoredRow, table=True):
    """Key/value settings of this installation (device id, remembered choices). Never synced."""

    __tablename__ = "local_setting"

    key: str = Field(primary_key=True, max_length=100)
    value: Any = Field(default=None, sa_type=JSONText, nullable=True)


# --- study and journey map ----------------------------------------------------------


class StudyBase(StoredRow):
    name: str = Field(max_length=200)
    program: str = Field(default="", max_length=200)
    description: str = ""
    consent_text: str = ""
    consent_version: int = 1
    #: [{"key": "language", "label": "Language spoken", "values": ["English", ...]}, ...]
    segment_attributes: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONText)
    #: study-specific emotion chips, shown after the base set
    extra_emotions: list[str] = Field(default_factory=list, sa_type=JSONText)
    survey_version: SurveyVersion = Field(default=SurveyVersion.V1, sa_type=EnumText(SurveyVersion))
    survey_trust_variant: str = Field(default="confidence", max_length=20)
    survey_effectiveness_variant: str = Field(default="need", max_length=20)
    agency: str = Field(default="", max_length=200)
    #: fills "[relevant population]" in the A-11 "commitment" trust item (e.g. "veterans")
    a11_population: str = Field(default="", max_length=200)
    #: recordings upload to the team hub (chunked, resumable); off: they stay on the laptop
    audio_upload: bool = False
    #: the roles a staff participant can have (front desk, caseworker ...)
    staff_roles: list[str] = Field(
        default_factory=lambda: list(DEFAULT_STAFF_ROLES), sa_type=JSONText
    )
    #: segment attributes asked of staff (years in post, office), apart from customers'
    staff_segment_attributes: list[dict[str, Any]] = Field(
        default_factory=lambda: [dict(a) for a in DEFAULT_STAFF_SEGMENTS], sa_type=JSONText
    )
    #: redaction settings (cxfield.privacy.settings): {"review": bool (default on),
    #: "threshold": float, "case_patterns": [regex...], "words": [word list...]}
    redaction: dict[str, Any] = Field(default_factory=dict, sa_type=JSONText)


class Study(SyncFields, StudyBase, table=True):
    pass


class ConsentText(SyncFields, table=True):
    """Every version of a study's consent text, so old consents keep the text they saw."""

    __tablename__ = "consent_text"
    __table_args__ = (UniqueConstraint("study_id", "consent_version"),)

    study_id: str = Field(foreign_key="study.id", index=True)
    #: the number of this wording (1, 2 ...); ``version`` is the sync counter, as everywhere
    consent_version: int
    text: str


class StudyProtection(SyncFields, table=True):
    """How a study protects its participants (issue 14): end-to-end encryption of the texts
    and audio that leave the laptop (sealed with ``public_key``; the private key never
    syncs) and how long audio and transcripts are kept on the laptop."""

    __tablename__ = "study_protection"

    study_id: str = Field(foreign_key="study.id", index=True, unique=True)
    encrypt: bool = False
    #: the study's X25519 public key, base64 (empty until the owner creates the key pair)
    public_key: str = Field(default="", max_length=64)
    #: first 16 hex digits of the public key's SHA-256: which key sealed a value
    key_id: str = Field(default="", max_length=16)
    #: delete audio this many days after its clock started (None: keep); the clock is
    #: ``audio_clock`` (:data:`cxfield.privacy.retention.AUDIO_CLOCKS`)
    audio_days: int | None = None
    #: when the audio's clock starts: ``approved`` (the session was approved; also when
    #: None, as rows made before the setting say) or ``checked`` (the recording's transcript
    #: was checked, or the session approved if that comes first)
    audio_clock: str | None = Field(default=None, max_length=20)
    #: delete transcripts this many days after the session was approved (None: keep)
    transcript_days: int | None = None


class Stage(SyncFields, table=True):
    study_id: str = Field(foreign_key="study.id", index=True)
    position: int = 0
    name: str = Field(max_length=200)
    description: str = ""


class Step(SyncFields, table=True):
    study_id: str = Field(foreign_key="study.id", index=True)
    stage_id: str = Field(foreign_key="stage.id", index=True)
    position: int = 0
    name: str = Field(max_length=200)
    description: str = ""
    lane: BlueprintLane = Field(default=BlueprintLane.USER, sa_type=EnumText(BlueprintLane))
    channel: Channel = Field(default=Channel.IN_PERSON, sa_type=EnumText(Channel))
    #: the staff roles that take part in the step (a caseworker in the intake interview);
    #: empty: every staff role for a frontstage, backstage or support step, none for a
    #: user step (see :func:`cxfield.domain.journey.staff_takes_part`)
    staff_roles: list[str] = Field(default_factory=list, sa_type=JSONText)


# --- people and places --------------------------------------------------------------


class Site(SyncFields, table=True):
    name: str = Field(max_length=200)
    location: str = ""


class Researcher(SyncFields, table=True):
    name: str = Field(max_length=200)
    role: ResearcherRole = Field(
        default=ResearcherRole.RESEARCHER, sa_type=EnumText(ResearcherRole)
    )


class Participant(SyncFields, table=True):
    __table_args__ = (UniqueConstraint("study_id", "code"),)

    study_id: str = Field(foreign_key="study.id", index=True)
    code: str = Field(max_length=20)
    #: a customer (P-001) or a staff member (S-001)
    kind: ParticipantKind = Field(
        default=ParticipantKind.CUSTOMER, sa_type=EnumText(ParticipantKind)
    )
    #: a staff member's role, one of the study's staff roles ("" for customers)
    role: str = Field(default="", max_length=60)
    #: values of the study's segment attributes (staff: of its staff segment attributes)
    segments: dict[str, str] = Field(default_factory=dict, sa_type=JSONText)
    withdrawn: bool = False
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ConsentRecord(SyncFields, table=True):
    __tablename__ = "consent_record"

    participant_id: str = Field(foreign_key="participant.id", index=True)
    consent_version: int
    interview_consent: bool = False
    recording_consent: bool = False
    consented_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    recorded_by: str | None = Field(default=None, foreign_key="researcher.id")
    withdrawn: bool = False
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WithdrawalReceipt(SyncFields, table=True):
    """Where a participant's withdrawal was applied: the laptop that withdrew them, the hub,
    every other laptop that purged its copy.  Content-free, so it may stay forever."""

    __tablename__ = "withdrawal_receipt"

    participant_id: str = Field(foreign_key="participant.id", index=True)
    study_id: str = Field(max_length=36)
    #: laptop | hub
    place: str = Field(default="laptop", max_length=10)
    #: the laptop's device id, or the hub's id
    applied_by: str = Field(default="", max_length=36)
    applied_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sessions: int = 0
    rows: int = 0
    files: int = 0


# --- sessions and what they capture -------------------------------------------------


class ResearchSession(SyncFields, table=True):
    """One interview or observation (the domain's "Session")."""

    __tablename__ = "session"

    study_id: str = Field(foreign_key="study.id", index=True)
    site_id: str | None = Field(default=None, foreign_key="site.id")
    researcher_id: str | None = Field(default=None, foreign_key="researcher.id")
    participant_id: str | None = Field(default=None, foreign_key="participant.id", index=True)
    mode: SessionMode = Field(default=SessionMode.INTERVIEW, sa_type=EnumText(SessionMode))
    status: SessionStatus = Field(default=SessionStatus.DRAFT, sa_type=EnumText(SessionStatus))
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    notes: str = ""


class StepCapture(SyncFields, table=True):
    __tablename__ = "step_capture"
    __table_args__ = (UniqueConstraint("session_id", "step_id"),)

    session_id: str = Field(foreign_key="session.id", index=True)
    step_id: str = Field(foreign_key="step.id", index=True)
    valence: int | None = None  # -2..+2
    emotions: list[str] = Field(default_factory=list, sa_type=JSONText)
    intensity: int | None = None  # 1..5
    pain_point: bool = False
    notes: str = ""
    quote: str = ""
    #: observation mode, a summary of the step's visits (:class:`ObservationVisit` holds
    #: each one): when the customer first entered the step / last left it
    observed_start: datetime | None = Field(default=None, sa_type=UTCDateTime)
    observed_end: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ObservationVisit(SyncFields, table=True):
    """One stretch of time the observed customer spent in a step.  Visits are not linear: a
    customer sent back to the queue re-enters it, and every entry is kept (append-only, so
    visits recorded on different laptops merge without conflicts)."""

    __tablename__ = "observation_visit"

    session_id: str = Field(foreign_key="session.id", index=True)
    step_id: str = Field(foreign_key="step.id", index=True)
    entered_at: datetime = Field(sa_type=UTCDateTime)
    #: None while the customer is still in the step
    left_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Note(SyncFields, table=True):
    session_id: str = Field(foreign_key="session.id", index=True)
    step_id: str | None = Field(default=None, foreign_key="step.id")
    text: str
    tags: list[str] = Field(default_factory=list, sa_type=JSONText)
    #: milliseconds since the session started
    session_offset_ms: int = 0
    #: position on the recording's own clock (frames at the recording's sample rate)
    recording_id: str | None = Field(default=None, foreign_key="recording.id")
    recording_offset_frames: int | None = None


class Recording(SyncFields, table=True):
    session_id: str = Field(foreign_key="session.id", index=True)
    #: relative to the data directory (the data directory can move)
    path: str
    format: str = Field(default="wav", max_length=20)
    sample_rate: int = 16000
    channels: int = 1
    duration_s: float = 0.0
    sha256: str = Field(default="", max_length=64)
    #: recording | complete | recovered | imported
    state: str = Field(default="complete", max_length=20)
    #: for imports: the kept original (relative path) and the 16 kHz mono copy used for
    #: transcription is ``path``
    original_path: str | None = None
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    #: encrypted studies: the SHA-256 of the sealed copy uploaded to the hub (the hub never
    #: holds the audio itself); "" when not uploaded sealed
    sealed_sha256: str = Field(default="", max_length=64)
    #: when a person marked this recording's transcript checked against the audio, and who
    #: (None: not checked); a study's retention can start the audio's clock there
    transcript_checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    transcript_checked_by: str | None = Field(default=None, max_length=200)


class TranscriptSegment(SyncFields, table=True):
    __tablename__ = "transcript_segment"

    recording_id: str = Field(foreign_key="recording.id", index=True)
    session_id: str = Field(foreign_key="session.id", index=True)
    start_s: float
    end_s: float
    text: str
    speaker: Speaker = Field(default=Speaker.UNKNOWN, sa_type=EnumText(Speaker))
    edited: bool = False
    #: the model's text before the first edit, kept so an edit can be reviewed or undone
    original_text: str | None = None
    #: the speaker voice clustering suggests while ``speaker`` is unknown; cleared when a
    #: person sets the speaker
    speaker_suggested: Speaker | None = Field(default=None, sa_type=EnumText(Speaker))


class SurveyResponse(SyncFields, table=True):
    """A-11 post-transaction survey answers of one session (v1 Likert or v2 Touchpoints)."""

    __tablename__ = "survey_response"

    session_id: str = Field(foreign_key="session.id", index=True, unique=True)
    survey_version: SurveyVersion = Field(default=SurveyVersion.V1, sa_type=EnumText(SurveyVersion))
    trust_variant: str = Field(default="confidence", max_length=20)
    effectiveness_variant: str = Field(default="need", max_length=20)
    satisfaction: int | None = None
    trust: int | None = None
    effectiveness: int | None = None
    ease: int | None = None
    efficiency: int | None = None
    equity: int | None = None
    employee: int | None = None
    transparency: int | None = None
    went_well: list[str] = Field(default_factory=list, sa_type=JSONText)
    not_well: list[str] = Field(default_factory=list, sa_type=JSONText)
    comments: str = ""
    responded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# --- operations data ---------------------------------------------------------------
# Ids are made from the content (uuid5), so the same file or row imported on two laptops
# is the same record when they sync, never two.


class OpsImport(SyncFields, table=True):
    """One imported operations file (a queue-management export, a case system's dates, a
    call centre's times): its content hash, so the same file is never imported twice, and
    how its columns were read."""

    __tablename__ = "ops_import"
    __table_args__ = (UniqueConstraint("study_id", "sha256"),)

    study_id: str = Field(foreign_key="study.id", index=True)
    source_name: str = Field(max_length=255)
    sha256: str = Field(max_length=64)
    #: [[column, step_id], ...]: the column holding the time a customer entered each step
    mapping: list[list[str]] = Field(default_factory=list, sa_type=JSONText)
    end_column: str = Field(default="", max_length=200)
    site_column: str = Field(default="", max_length=200)
    #: data rows in the file / of them new (rows another import brought are not doubled)
    rows: int = 0
    added: int = 0
    imported_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OpsRecord(SyncFields, table=True):
    """One customer's way through the mapped steps: one row of an operations file."""

    __tablename__ = "ops_record"
    __table_args__ = (UniqueConstraint("study_id", "row_hash"),)

    study_id: str = Field(foreign_key="study.id", index=True)
    import_id: str = Field(foreign_key="ops_import.id", index=True)
    #: SHA-256 of the row's cells: the same row in another export is not counted twice
    row_hash: str = Field(max_length=64)
    #: line in the file (1 is the header)
    line: int
    site: str = Field(default="", max_length=200)
    started_at: datetime = Field(sa_type=UTCDateTime)


class OpsStepTime(SyncFields, table=True):
    """The time one operations record spent in one step."""

    __tablename__ = "ops_step_time"

    record_id: str = Field(foreign_key="ops_record.id", index=True)
    study_id: str = Field(foreign_key="study.id")
    step_id: str = Field(foreign_key="step.id", index=True)
    #: the record's site, copied so that per-site figures are one GROUP BY
    site: str = Field(default="", max_length=200)
    entered_at: datetime = Field(sa_type=UTCDateTime)
    #: None when the last mapped step has no end column
    left_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    seconds: float | None = None


# --- supervisor review and the audit trail (append-only: rows are never changed) ---------


class ReviewEvent(SyncFields, table=True):
    """One move of a session between review states (submit, approve, return, reject,
    reopen), with its comment: who, when, from which state to which."""

    __tablename__ = "review_event"

    session_id: str = Field(foreign_key="session.id", index=True)
    action: ReviewAction = Field(sa_type=EnumText(ReviewAction))
    from_status: SessionStatus = Field(sa_type=EnumText(SessionStatus))
    to_status: SessionStatus = Field(sa_type=EnumText(SessionStatus))
    comment: str = ""
    #: the researcher (or hub account) id and name of who did it
    actor_id: str | None = Field(default=None, max_length=36)
    actor_name: str = Field(default="", max_length=200)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReviewComment(SyncFields, table=True):
    """A comment on a session or on one thing in it (a step's capture, its quote, a note,
    a transcript segment); ``reply_to`` threads answers under the comment they answer."""

    __tablename__ = "review_comment"

    session_id: str = Field(foreign_key="session.id", index=True)
    anchor: AnchorKind = Field(default=AnchorKind.SESSION, sa_type=EnumText(AnchorKind))
    #: the step id (step, quote), note id or segment id; None for the session itself
    anchor_id: str | None = Field(default=None, max_length=36)
    reply_to: str | None = Field(default=None, max_length=36)
    text: str
    author_id: str | None = Field(default=None, max_length=36)
    author_name: str = Field(default="", max_length=200)
    author_role: str = Field(default="", max_length=20)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AuditEntry(SyncFields, table=True):
    """One field of one record of a session changed after the session was first
    submitted: who, when, before → after (JSON values)."""

    __tablename__ = "audit_entry"

    session_id: str = Field(foreign_key="session.id", index=True)
    table_name: str = Field(max_length=40)
    row_id: str = Field(max_length=36)
    field: str = Field(max_length=60)
    before: Any = Field(default=None, sa_type=JSONText, nullable=True)
    after: Any = Field(default=None, sa_type=JSONText, nullable=True)
    actor_id: str | None = Field(default=None, max_length=36)
    actor_name: str = Field(default="", max_length=200)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TranscriptionJob(StoredRow, table=True):
    """Local queue of transcription work; survives restarts. Not synced."""

    __tablename__ = "transcription_job"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    session_id: str | None = Field(default=None, foreign_key="session.id", index=True)
    recording_id: str | None = Field(default=None, foreign_key="recording.id")
    audio_path: str | None = None
    model: str = Field(max_length=200)
    language: str | None = Field(default=None, max_length=10)
    translate: bool = False
    word_timestamps: bool = False
    #: openai-whisper or ctranslate2 (None: openai-whisper, the jobs made before engines)
    engine: str | None = Field(default=None, max_length=20)
    #: queued | running | done | failed | cancelled
    state: str = Field(default="queued", max_length=20, index=True)
    progress: float = 0.0
    error: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# --- sync bookkeeping (local-only, never synced) --------------------------------------


class SyncRow(StoredRow, table=True):
    """What the hub knows of one synced row.  A row is waiting to be pushed when it has no
    ``sync_row`` or its ``version`` differs from ``local_version`` (the version last pushed
    or pulled)."""

    __tablename__ = "sync_row"
    # Clustered on (table_name, row_id): the "what is waiting" join reads local_version
    # straight from the primary key, no second lookup per row.
    __table_args__ = {"sqlite_with_rowid": False}

    table_name: str = Field(primary_key=True, max_length=40)
    row_id: str = Field(primary_key=True, max_length=36)
    local_version: int
    #: the hub's version of the row this laptop's copy derives from (the next push's base)
    hub_version: int = 0
    hub_hash: str = Field(default="", max_length=64)
    #: the content hash this laptop last pushed (tells which side of a conflict is "mine")
    pushed_hash: str = Field(default="", max_length=64)
    #: the hashes it pushed before that, newest first, space-separated (a few): a conflict
    #: about an older push is still recognised after this laptop pushed again
    pushed_before: str = ""


class SyncConflict(StoredRow, table=True):
    """A conflict the hub reported (same row changed on two devices), a row the hub refused,
    or a pulled row that clashes with a local one; kept until a person resolves it."""

    __tablename__ = "sync_conflict"

    id: str = Field(primary_key=True, max_length=36)
    table_name: str = Field(max_length=40, index=True)
    row_id: str = Field(max_length=36, index=True)
    #: conflict | refused | clash
    kind: str = Field(default="conflict", max_length=20)
    mine: dict[str, Any] | None = Field(default=None, sa_type=JSONText, nullable=True)
    theirs: dict[str, Any] | None = Field(default=None, sa_type=JSONText, nullable=True)
    #: which side the hub applied: mine | theirs ("" when not known yet)
    winner: str = Field(default="", max_length=10)
    message: str = ""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    #: the side a person chose (mine | theirs), waiting to be pushed until ``resolved_at``
    resolution: str | None = Field(default=None, max_length=10)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)


class SyncUpload(StoredRow, table=True):
    """A recording's audio on its way to the hub (resumable: the hub keeps the offset)."""

    __tablename__ = "sync_upload"

    sha256: str = Field(primary_key=True, max_length=64)
    recording_id: str = Field(max_length=36, index=True)
    size: int = 0
    #: waiting | done | missing (the file is gone from the laptop)
    state: str = Field(default="waiting", max_length=20, index=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SealedValue(StoredRow, table=True):
    """The ciphertext this laptop sent for a text column of an encrypted study, with the
    SHA-256 of the text it seals: unchanged text is sent with the same ciphertext (a sealed
    box is random each time), so a replayed push stays a duplicate.  Local-only."""

    __tablename__ = "sealed_value"

    table_name: str = Field(primary_key=True, max_length=40)
    row_id: str = Field(primary_key=True, max_length=36)
    column: str = Field(primary_key=True, max_length=40)
    plain_sha256: str = Field(max_length=64)
    sealed: str


class RetentionMark(StoredRow, table=True):
    """When this laptop first saw a session approved (the retention clock starts there,
    never earlier), and what retention removed.  Local-only."""

    __tablename__ = "retention_mark"

    session_id: str = Field(primary_key=True, max_length=36)
    approved_at: datetime = Field(sa_type=UTCDateTime)
    audio_deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    transcript_deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# --- redaction (local-only, never synced: they hold the personal details themselves) ----


class RedactionCandidate(StoredRow, table=True):
    """A personal detail found (or marked by hand) in one text field of a session's row:
    ``text[start:end]`` of ``table_name.field`` of row ``row_id``, while that field's text
    has the hash ``text_hash``.  Accepted ones become placeholders in what leaves."""

    __tablename__ = "redaction_candidate"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    session_id: str = Field(max_length=36, index=True)
    table_name: str = Field(max_length=40)
    row_id: str = Field(max_length=36, index=True)
    field: str = Field(max_length=40)
    start: int
    end: int
    kind: str = Field(max_length=20)
    #: the detail itself (laptop-only, for the reviewer)
    text: str = ""
    score: float = 1.0
    #: which detector found it, or ``manual``
    source: str = Field(default="pattern", max_length=40)
    #: pending | accepted | rejected
    state: str = Field(default="pending", max_length=20, index=True)
    text_hash: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RedactionName(StoredRow, table=True):
    """A name the researcher listed for a session (the participant's, family members',
    staff): found wherever it occurs in the session.  Laptop-only, never synced."""

    __tablename__ = "redaction_name"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    session_id: str = Field(max_length=36, index=True)
    name: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RedactionScan(StoredRow, table=True):
    """When a session was last scanned, and a fingerprint of the texts it scanned: a
    session whose texts changed since must be scanned (and reviewed) again."""

    __tablename__ = "redaction_scan"

    session_id: str = Field(primary_key=True, max_length=36)
    fingerprint: str = Field(max_length=64)
    scanned_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RedactionMute(StoredRow, table=True):
    """A stretch of a recording a person muted by hand (seconds on its own clock)."""

    __tablename__ = "redaction_mute"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    recording_id: str = Field(max_length=36, index=True)
    start_s: float
    end_s: float
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TranscriptWords(StoredRow, table=True):
    """Whisper's word timestamps of one transcript segment: where a redacted span is on
    the audio.  Laptop-only (the words are the transcript's own text)."""

    __tablename__ = "transcript_words"

    segment_id: str = Field(primary_key=True, max_length=36)
    recording_id: str = Field(max_length=36, index=True)
    #: [{"start": s, "end": s, "word": " text"}, ...]
    words: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONText)


SYNCED_TABLES: tuple[type[SyncFields], ...] = (
    Study,
    ConsentText,
    StudyProtection,
    Stage,
    Step,
    Site,
    Researcher,
    Participant,
    ConsentRecord,
    WithdrawalReceipt,
    ResearchSession,
    StepCapture,
    ObservationVisit,
    Note,
    Recording,
    TranscriptSegment,
    SurveyResponse,
    OpsImport,
    OpsRecord,
    OpsStepTime,
    ReviewEvent,
    ReviewComment,
    AuditEntry,
)
#: synced tables whose rows are written once and never changed
APPEND_ONLY_TABLES = frozenset({"review_event", "review_comment", "audit_entry"})

# Aggregation over thousands of sessions (journey map, exports) reads captures by step.
_captures = StepCapture.__table__.c  # type: ignore[attr-defined]
Index("ix_step_capture_step_valence", _captures.step_id, _captures.valence)
_sessions = ResearchSession.__table__.c  # type: ignore[attr-defined]
Index("ix_session_study_started", _sessions.study_id, _sessions.started_at)
# Operations figures per step (median, p90, per day, per site) read one study's step times.
_ops_times = OpsStepTime.__table__.c  # type: ignore[attr-defined]
Index("ix_ops_step_time_study_step", _ops_times.study_id, _ops_times.step_id, _ops_times.seconds)
