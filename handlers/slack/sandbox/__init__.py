"""The sandbox: try Nudgebot in a browser, with the real bot behind a stand-in for Slack."""
