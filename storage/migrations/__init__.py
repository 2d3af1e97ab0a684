"""Alembic migrations for Nudgebot's schema."""
