"""The Microsoft Teams adapter: the Teams SDK app, Adaptive Card rendering, the Teams notifier."""
