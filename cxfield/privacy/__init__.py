"""Privacy of participants: personal details found in what a session holds (transcripts,
notes, quotes, capture notes, session notes), reviewed by a person, and replaced by
placeholders (``[SSN]``, ``[PHONE]``, ``[NAME]`` ...) in everything that leaves the laptop;
recordings get a redacted copy with the same duration.  The originals stay on the laptop.

Pure Python, no Qt.  The detectors use Microsoft Presidio's analyzer on blank spaCy
pipelines (nothing is downloaded, ever) and are imported only when a scan runs, so the
rest of cxfield works without the ``privacy`` extra."""
