"""Test doubles that stand in for the services Nudgebot talks to."""
