"""The Textual app: a thin client of the core (db, ingest, report)."""
