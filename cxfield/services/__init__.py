"""Use cases.  Functions take a :class:`~cxfield.storage.database.Database`, run one unit of
work each and return detached objects or plain dataclasses; long ones accept an
``on_progress(done, total)`` callback and a cancel check.  No Qt here."""
