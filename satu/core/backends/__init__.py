"""Database backends: Django's, with what the hot paths need (see
`sqlite3/base.py`)."""
