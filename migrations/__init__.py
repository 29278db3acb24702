"""Alembic migrations (through Flask-Migrate); the schema is created only through them."""
