"""Local transcription with openai-whisper: model store, speech detection, the windowed
pipeline, the worker process, transcription while recording, and exports.

Nothing here imports Qt or the database; :mod:`cxfield.services.transcription` ties it to
sessions and the job queue."""
