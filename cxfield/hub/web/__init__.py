"""The hub's read-only web pages: the shared journey map of each study (``/studies/{id}``),
the list of studies (``/``), sign-in, and the study report PDF and CSV tables over every
synced session.  HTML and SVG are drawn by the server (no build step, no JavaScript)."""
