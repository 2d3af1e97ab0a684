"""Nudgebot's platform-neutral core: settings, the command language, the habit rules and replies."""
