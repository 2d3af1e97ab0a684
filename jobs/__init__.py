"""Scheduled work: APScheduler wiring, the planners and senders, and `python -m jobs`."""
