"""Recording, playback, live and batch transcription, the transcript editor and the models page."""
