"""Privacy of participants (issue 14): what protects their words and voices before anything
leaves the laptop, at rest on it, and after they withdraw.

Qt-free and web-free; sits just above ``cxfield.storage`` so that audio, transcription,
services and sync can all use it."""
