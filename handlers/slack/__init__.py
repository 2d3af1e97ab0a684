"""The Slack adapter: Bolt listeners, Block Kit rendering, the HTTP server and Socket Mode."""
