"""Storage in SQLite or PostgreSQL through SQLAlchemy Core."""
