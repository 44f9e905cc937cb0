"""REFI-QDA exchange (QDA-XML 1.0): the study as a ``.qdpx`` project for NVivo, MAXQDA,
ATLAS.ti and QualCoder, and its codebook alone as a ``.qdc`` file.

- :mod:`.guids` — GUIDs derived from record ids, so a second export gives the same ones;
- :mod:`.codebook` — the study's tags and journey (stages with their steps) as codes;
- :mod:`.texts` — the readable text of a session and of a transcript, with positions;
- :mod:`.sources` — one session as sources, selections, codings and memos;
- :mod:`.project` — the ``project.qde`` document and the ``.qdpx`` archive.

Element order follows the schema (``Project.xsd``), which is binding; what the schema
cannot check (references resolve, GUIDs unique, internal files present) is checked by the
tests."""
