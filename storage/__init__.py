"""Nudgebot's storage: models, the engine and session factory, repositories and migrations."""
