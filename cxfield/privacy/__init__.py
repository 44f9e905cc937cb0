"""Privacy of participants (issue 14): what protects their words and voices before anything
leaves the laptop, at rest on it, and after they withdraw.

- Redaction: personal details found in what a session holds (transcripts, notes, quotes,
  capture notes, session notes), reviewed by a person, and replaced by placeholders
  (``[SSN]``, ``[PHONE]``, ``[NAME]`` ...) in everything that leaves the laptop; recordings
  get a redacted copy with the same duration.  The originals stay on the laptop.  The
  detectors use Microsoft Presidio's analyzer on blank spaCy pipelines (nothing is
  downloaded, ever) and are imported only when a scan runs.
- Encryption (study keys, sealed texts and audio, recordings at rest), retention and
  withdrawal.

Pure Python, no Qt, no web framework."""
