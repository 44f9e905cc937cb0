"""The GUI side of transcription while recording: :class:`LiveRun` starts and finishes a
:class:`~cxfield.services.live_transcript.LiveTranscript` on plain threads, and the recorder
panel *polls* it on a timer, so no Qt object is touched from another thread and the GUI
never waits for the model (spawning the child and waiting for the last stretch both happen
off the GUI thread).  The model's child process runs at lower priority with one thread."""

from __future__ import annotations

import threading
import time

from cxfield.app import AppContext
from cxfield.services import transcription
from cxfield.services.live_transcript import CLOSED_BEFORE_STORED, LiveTranscript

#: how long quitting waits for a live run that is still starting, or for its finishing
#: thread to notice the child is gone (both take well under a second)
QUIT_WAIT_S = 3.0


def format_clock(seconds: float) -> str:
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


class LiveRun:
    """One recording's live transcription: ``poll`` while recording, ``finish`` at stop;
    ``done`` and ``outcome`` say when the transcript is stored."""

    def __init__(self, ctx: AppContext, recording_id: str) -> None:
        self.ctx = ctx
        self.recording_id = recording_id
        self.transcript: LiveTranscript | None = None
        #: why it could not start or finish (one line)
        self.error: str | None = None
        self.outcome: transcription.JobOutcome | None = None
        self.started_at = time.monotonic()
        #: the panel has told the user about the outcome
        self.reported = False
        self._starter = threading.Thread(target=self._start, name="live-start", daemon=True)
        self._finisher: threading.Thread | None = None
        #: set by abandon(); a start still under way gives its job back as soon as it has one
        self._abandoned: str | None = None
        self._lock = threading.Lock()
        self._starter.start()

    def _start(self) -> None:
        try:
            started = LiveTranscript.start(
                self.ctx.db, self.ctx.paths.root, self.ctx.paths.models, self.recording_id
            )
        except Exception as exc:  # shown quietly; the recording itself goes on
            self.error = f"Live transcription could not start: {exc}"
            return
        with self._lock:
            self.transcript = started
            abandoned = self._abandoned
        if started is not None and abandoned is not None:
            self.outcome = started.abandon(abandoned)

    @property
    def starting(self) -> bool:
        return self._starter.is_alive()

    @property
    def off(self) -> bool:
        """Started, but switched off or no model (nothing is transcribed)."""
        return not self.starting and self.transcript is None

    @property
    def finishing(self) -> bool:
        return self._finisher is not None and self._finisher.is_alive()

    @property
    def done(self) -> bool:
        return self._finisher is not None and not self._finisher.is_alive()

    def poll(self, elapsed_s: float) -> None:
        """Collect finished stretches (non-blocking; the GUI timer calls this)."""
        if not self.starting and self.transcript is not None and self._finisher is None:
            self.transcript.poll(elapsed_s)

    def finish(self, *, discarded: bool = False) -> None:
        """The recording stopped: wait for the last stretch on a thread, then store."""
        if self._finisher is not None:
            return

        def run() -> None:
            self._starter.join()
            if self.transcript is None:
                return
            try:
                self.outcome = self.transcript.finish(discarded=discarded)
            except Exception as exc:  # the database went away: report, never crash
                self.error = f"The transcript could not be stored: {exc}"

        self._finisher = threading.Thread(target=run, name="live-finish", daemon=True)
        self._finisher.start()

    def abandon(self, reason: str = CLOSED_BEFORE_STORED) -> None:
        """The app is quitting before the transcript was stored: the job goes back to the
        queue now (the next start transcribes the recording) and the child is stopped;
        nothing is stored.  Returns at once when the transcript is already stored."""
        with self._lock:
            if self.done or self._abandoned is not None:
                return
            self._abandoned = reason
            transcript = self.transcript
        if transcript is None:  # still starting: _start gives the job back when it has one
            self._starter.join(QUIT_WAIT_S)
            return
        try:
            self.outcome = transcript.abandon(reason)
        except Exception as exc:  # the database went away: never block the quit
            self.error = f"The live transcript could not be handed back: {exc}"
        if self._finisher is not None:
            # its finish() now fails (child gone) and stores nothing; let it end before
            # the app closes the database
            self._finisher.join(QUIT_WAIT_S)

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until finished (tests and the CLI); True when done."""
        self._starter.join(timeout_s)
        if self._finisher is not None:
            self._finisher.join(timeout_s)
        return self.done

    def status(self, recording: bool) -> str:
        """One quiet line for the recorder panel."""
        t = self.transcript
        if self.error:
            return self.error
        if self.starting:
            return "Live transcript: starting…"
        if t is None:
            return ""
        if self.done and self.outcome is not None:
            outcome = self.outcome
            if outcome.state == "done":
                return f"Transcript ready: {outcome.segments} segments (session view → Transcript)"
            if outcome.state == "queued":
                return "Live transcript failed; the recording is queued for transcription"
            return ""
        if self.finishing:
            return "Transcript: finishing the last stretch…"
        if t.failure is not None:
            return "Live transcript stopped; the recording will be transcribed after stop"
        if t.done_s > 0:
            return f"Live transcript: {format_clock(t.done_s)} done"
        return "Live transcript on" if recording else ""
