"""Exports: PDF session summaries and study reports (reportlab), CSV/JSON data, A-11 counts.

Renderers read through :mod:`cxfield.services` (SQL aggregates) and write every file
atomically (temporary file in the target folder, then rename).  Nothing here imports Qt."""
