"""The Sync menu of the desktop app: connect to a team hub, sync off the GUI thread with
progress and Cancel, the conflicts dialog and "last synced" in the status bar.

All the sync work is the Qt-free :mod:`cxfield.sync`; this package only runs it on a worker
thread and shows it."""
