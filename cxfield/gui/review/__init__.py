"""Supervisor review in the app: the queue, the review mode of the session view, the
History tab and the count in the status bar."""
