"""The session log: every event of a drop in SQLite, crash recovery and reports.

- `recovery.open_session_log(...)` is the one call an app makes at start: it opens (or
  sets aside and recreates) the database, resumes the open session or begins a new one,
  and hands back the writer plus the drop events to replay.
- `session_log.SessionLog` is the single writer thread; it is the drop controller's journal.
- `reader.SessionReader` reads with its own connection (reports, `booth report`).
- `kinds` documents the shapes of non-drop events and health samples.

This package imports `booth.core` only: no Qt, no services.
"""
