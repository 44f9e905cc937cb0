"""Participants' privacy in the app: the study's Privacy tab (encryption, retention) and
the redaction review."""
