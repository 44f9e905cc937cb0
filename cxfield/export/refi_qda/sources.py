"""One session as REFI-QDA sources, selections with their codings, and memos.

- A session with a recording: one ``AudioSource`` per recording (the audio file goes into
  the archive) with its ``Transcript``: one line per segment, a sync point at each
  segment's start.  A note is coded on the transcript lines around its time (a quote on
  the lines that hold its words); its text becomes a memo linked to that selection.  The
  captures of the journey steps become a memo of the session.
- A session without one: a ``TextSource`` whose text holds the captures and the notes;
  every step's block is coded with its step, its quote with the step and *quote*, every
  note with its tags (and step).
- The session's own notes (the free-text field) become a memo linked from its sources."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cxfield.domain.vocabulary import VALENCE_LABELS, NoteTag
from cxfield.export.data import StudyRows, ordered_captures
from cxfield.export.refi_qda.codebook import Codebook
from cxfield.export.refi_qda.guids import guid
from cxfield.export.refi_qda.qdaxml import clean
from cxfield.export.refi_qda.texts import TextBuilder, TranscriptText, clock, transcript_text
from cxfield.export.refi_qda.variables import StudyVariables, Value, Variable, session_values
from cxfield.services.transcript import note_time_s
from cxfield.storage.models import (
    Note,
    Recording,
    ResearchSession,
    StepCapture,
    TranscriptSegment,
)
from cxfield.transcribe.export import speaker_label

#: an audio selection for a note on a recording without transcript: this long from the note
NOTE_SPAN_MS = 5000


@dataclass
class Selection:
    """A coded stretch: text positions (``PlainTextSelection``), indices of the first and
    the closing sync point (``TranscriptSelection``) or milliseconds (``AudioSelection``)."""

    guid: str
    name: str
    start: int
    end: int
    codes: list[str]
    memos: list[str] = field(default_factory=list)
    user: str | None = None
    created: datetime | None = None


@dataclass
class Memo:
    guid: str
    name: str
    text: str
    user: str | None = None
    created: datetime | None = None


@dataclass
class Source:
    guid: str
    name: str
    description: str
    user: str | None
    created: datetime
    #: a TextSource's text (None for an AudioSource)
    text: str | None = None
    audio: Path | None = None
    transcript: TranscriptText | None = None
    transcript_guid: str = ""
    selections: list[Selection] = field(default_factory=list)
    memos: list[str] = field(default_factory=list)
    values: list[tuple[Variable, Value]] = field(default_factory=list)

    @property
    def audio_name(self) -> str:
        """The audio file's name inside ``sources/`` (its GUID and extension)."""
        suffix = self.audio.suffix.lower() if self.audio else ""
        return f"{self.guid}{suffix}"


@dataclass
class SessionExport:
    sources: list[Source] = field(default_factory=list)
    memos: list[Memo] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


class _Selections:
    """One session's selections on one text, keyed by range: a note and a quote on the same
    lines share one selection (with both codings)."""

    def __init__(self, user: str | None) -> None:
        self.user = user
        self.by_range: dict[tuple[int, int], Selection] = {}

    def add(
        self,
        span: tuple[int, int],
        key: str,
        name: str,
        codes: list[str],
        created: datetime | None,
        memos: tuple[str, ...] = (),
    ) -> None:
        """``key``: the record the selection is made from (its GUID comes from it)."""
        start, end = span
        if end <= start or not codes:
            return
        found = self.by_range.get(span)
        if found is None:
            found = Selection(guid("selection", key), short(name), start, end, [], [])
            found.user, found.created = self.user, created
            self.by_range[span] = found
        found.codes += [c for c in codes if c not in found.codes]
        found.memos += [m for m in memos if m not in found.memos]

    def all(self) -> list[Selection]:
        return sorted(self.by_range.values(), key=lambda s: (s.start, s.end))


def short(text: str) -> str:
    """A name for an element: one line, at most 80 characters."""
    return " ".join(text.split())[:80]


def quote_lines(quote: str) -> list[str]:
    """A capture's quotes, one per line, without the curly quote marks around them."""
    return [q.strip().strip('\u201c\u201d"').strip() for q in quote.splitlines() if q.strip()]


class SessionSources:
    """Builds one session's sources (see the module's description)."""

    def __init__(
        self, rows: StudyRows, book: Codebook, variables: StudyVariables, data_root: Path
    ) -> None:
        self.rows, self.book, self.variables, self.data_root = rows, book, variables, data_root
        self.steps = {s.id: s for s in rows.journey.steps}
        self.stages = rows.stage_names
        self.codes = rows.participant_codes()

    # -- names --------------------------------------------------------------------

    def title(self, session: ResearchSession) -> str:
        who = self.codes.get(session.participant_id or "") or str(session.mode).capitalize()
        return f"{who} {session.started_at:%Y-%m-%d %H:%M}"

    def description(self, session: ResearchSession) -> str:
        site = self.rows.sites.get(session.site_id or "")
        person = self.rows.researchers.get(session.researcher_id or "")
        parts = [f"{str(session.mode).capitalize()} on {session.started_at:%Y-%m-%d %H:%M} UTC"]
        if site:
            parts.append(f"at {site.name}")
        if person:
            parts.append(f"by {person.name}")
        return " ".join(parts) + f"; status {session.status}."

    def user(self, session: ResearchSession) -> str | None:
        known = session.researcher_id in self.rows.researchers
        return guid("user", session.researcher_id or "") if known else None

    def step_name(self, step_id: str | None) -> str:
        step = self.steps.get(step_id or "")
        return f"{self.stages.get(step.id, '')} › {step.name}" if step else ""

    def note_codes(self, note: Note) -> list[str]:
        codes = [self.book.tags[t] for t in note.tags if t in self.book.tags]
        step = self.book.steps.get(note.step_id or "")
        return codes + ([step] if step else [])

    def quote_code(self) -> str:
        return self.book.tags[NoteTag.QUOTE.value]

    # -- the session ----------------------------------------------------------------

    def build(self, session: ResearchSession) -> SessionExport:
        out = SessionExport()
        memo_refs = []
        if session.notes.strip():
            memo = Memo(
                guid("session-notes", session.id),
                f"Session notes — {self.title(session)}",
                clean(session.notes),
                self.user(session),
                session.updated_at,
            )
            out.memos.append(memo)
            memo_refs.append(memo.guid)
        recordings = self.rows.recordings.get(session.id, [])
        finished = [r for r in recordings if r.state != "recording"]
        usable = [r for r in finished if (self.data_root / r.path).is_file()]
        for rec in (r for r in finished if r not in usable):
            instead = "left out" if usable else "the session goes in as text"
            out.messages.append(
                f"The recording file {rec.path} of {self.title(session)} is missing; {instead}."
            )
        if usable:
            self._audio(session, usable, recordings, out)
        else:
            out.sources.append(self._text(session))
        values = session_values(self.rows, self.variables, session, self.codes)
        for source in out.sources:
            source.memos = memo_refs + source.memos
            source.values = values
        return out

    def _text(self, session: ResearchSession) -> Source:
        b = TextBuilder()
        picks = _Selections(self.user(session))
        b.line(self.title(session))
        b.line(self.description(session))
        b.line()
        self._journey(b, session, picks)
        notes = self.rows.notes.get(session.id, [])
        if notes:
            b.line("Notes at their times")
        for n in notes:
            prefix = f"[{clock(n.session_offset_ms / 1000)}] "
            if n.step_id in self.steps:
                prefix += f"{self.step_name(n.step_id)}: "
            tags = "".join(f" #{t}" for t in n.tags)
            _, span, _ = b.line(prefix, " ".join(clean(n.text).split()), tags)
            picks.add(span, n.id, n.text, self.note_codes(n), n.created_at)
        segments = self.rows.transcript.get(session.id, [])
        if segments:  # its audio file is missing: keep the words at least
            b.line()
            b.line("Transcript")
            for seg in segments:
                b.line(f"[{clock(seg.start_s)}] ", " ".join(clean(seg.text).split()))
        source = Source(
            guid("source", session.id),
            self.title(session),
            self.description(session),
            self.user(session),
            session.started_at,
            text=b.text(),
        )
        source.selections = picks.all()
        return source

    def _journey(self, b: TextBuilder, session: ResearchSession, picks: _Selections) -> None:
        """The captures, step by step: each step's block is coded with its step (and
        *pain point*), each quote with its step and *quote*."""
        captures = ordered_captures(self.rows, session.id)
        if not captures:
            return
        visits = self.rows.visits.get(session.id, [])
        b.line("Journey")
        for c in captures:
            step_code = self.book.steps.get(c.step_id)
            ((start, _),) = b.line(self.step_name(c.step_id) or "(a step deleted from the map)")
            feeling = _feeling(c)
            if feeling:
                b.line(feeling)
            for v in (v for v in visits if v.step_id == c.step_id):
                left = f"{v.left_at:%H:%M:%S}" if v.left_at else "still there"
                b.line(f"Observed: entered {v.entered_at:%H:%M:%S}, left {left} (UTC)")
            if c.notes.strip():
                b.line("Notes: ", c.notes.strip())
            for quote in quote_lines(c.quote):
                _, (q_start, q_end) = b.line("Quote: ", f"\u201c{quote}\u201d")
                if step_code:
                    codes = [step_code, self.quote_code()]
                    picks.add(
                        (q_start + 1, q_end - 1), f"{c.id}/{quote}", quote, codes, c.updated_at
                    )
            codes = [step_code] if step_code else []
            if c.pain_point:
                codes.append(self.book.tags[NoteTag.PAIN_POINT.value])
            picks.add((start, b.length - 1), c.id, self.step_name(c.step_id), codes, c.updated_at)
            b.line()

    def _audio(
        self,
        session: ResearchSession,
        usable: list[Recording],
        recordings: list[Recording],
        out: SessionExport,
    ) -> None:
        segments = self.rows.transcript.get(session.id, [])
        user = self.user(session)
        texts: dict[str, TranscriptText] = {}
        picks: dict[str, _Selections] = {}
        for index, rec in enumerate(usable):
            own = sorted(
                (s for s in segments if s.recording_id == rec.id),
                key=lambda s: (s.start_s, s.end_s),
            )
            texts[rec.id] = transcript_text(
                [(guid("sync", s.id), s.start_s, s.end_s, _speaker(s), s.text) for s in own],
                guid("sync-end", rec.id),
            )
            picks[rec.id] = _Selections(user)
            name = self.title(session) + (f" (recording {index + 1})" if len(usable) > 1 else "")
            source = Source(
                guid("source", rec.id), name, self.description(session), user, rec.started_at
            )
            source.audio = self.data_root / rec.path
            source.transcript = texts[rec.id] if own else None
            source.transcript_guid = guid("transcript", rec.id)
            out.sources.append(source)
        by_id = {rec.id: rec for rec in usable}
        for n in self.rows.notes.get(session.id, []):
            rec = by_id.get(n.recording_id or "", usable[0])
            at_s = note_time_s(n, session, recordings)
            tags = "".join(f" #{t}" for t in n.tags)
            memo = Memo(
                guid("note", n.id),
                short(f"{clock(at_s)} {n.text}"),
                clean(n.text) + tags,
                user,
                n.created_at,
            )
            out.memos.append(memo)
            span = _note_span(texts[rec.id], n, at_s)
            picks[rec.id].add(span, n.id, n.text, self.note_codes(n), n.created_at, (memo.guid,))
        for c in ordered_captures(self.rows, session.id):
            step_code = self.book.steps.get(c.step_id)
            if step_code is None:
                continue
            for quote in quote_lines(c.quote):
                found = next(
                    ((rec.id, hit) for rec in usable if (hit := texts[rec.id].find(quote))), None
                )
                if found is not None:
                    rec_id, (first, last) = found
                    codes = [step_code, self.quote_code()]
                    picks[rec_id].add(
                        (first, last + 1), f"{c.id}/{quote}", quote, codes, c.updated_at
                    )
        journey = TextBuilder()
        self._journey(journey, session, _Selections(user))  # a memo: read, not coded
        if journey.length:
            memo = Memo(
                guid("captures", session.id),
                f"Journey — {self.title(session)}",
                journey.text(),
                user,
                session.updated_at,
            )
            out.memos.append(memo)
            out.sources[0].memos.append(memo.guid)
        for source, rec in zip(out.sources, usable, strict=True):
            source.selections = picks[rec.id].all()


def _note_span(text: TranscriptText, note: Note, at_s: float) -> tuple[int, int]:
    """Where a note is coded: the transcript lines that hold a quote's words, else the line
    spoken at its time (sync point indices); with no transcript, a stretch of the audio
    from its time (milliseconds)."""
    if not text.segments:
        start = int(round(at_s * 1000))
        return start, start + NOTE_SPAN_MS
    found = text.find(note.text) if NoteTag.QUOTE.value in note.tags else None
    first, last = found or (text.segment_at(at_s),) * 2
    return first, last + 1


def _feeling(c: StepCapture) -> str:
    parts = []
    if c.valence is not None:
        signed = f"{c.valence:+d}" if c.valence else "0"
        parts.append(f"Feeling: {VALENCE_LABELS.get(c.valence, '')} ({signed})")
    if c.emotions:
        parts.append("emotions: " + ", ".join(c.emotions))
    if c.intensity is not None:
        parts.append(f"intensity {c.intensity}")
    if c.pain_point:
        parts.append("pain point")
    return "; ".join(parts)


def _speaker(segment: TranscriptSegment) -> str:
    """The line's speaker as written before it: a suggestion from the voices that nobody
    confirmed is marked ``Interviewer (suggested)``, as in every transcript export."""
    suggested = segment.speaker_suggested
    return (
        speaker_label(
            {"speaker": str(segment.speaker), "speaker_suggested": suggested and str(suggested)}
        )
        or ""
    )
