"""The Microsoft Teams adapter: the Teams SDK app, Adaptive Card rendering, the Teams notifier."""

import logging
import warnings

# The SDK builds a preview feature's defaults (HTML widgets, unused here) at import time and warns.
warnings.filterwarnings("ignore", message=r".*is in preview and may change in the future.*")


_NOT_OURS = ("TENANT_ID is not set", "No tenant_id provided for Entra token validation")


def _not_ours(record: logging.LogRecord) -> bool:
    """Drop the SDK's start-up warnings about checking tokens itself: `server.py` checks every request's
    token before the SDK sees it, and with the Playground there is no tenant to name."""
    return not record.getMessage().startswith(_NOT_OURS)


for _name in ("microsoft_teams.apps.app", "microsoft_teams.apps.auth.token_validator"):
    logging.getLogger(_name).addFilter(_not_ours)
