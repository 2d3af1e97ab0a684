"""A PSA's client list: read from CSV, checked, and imported."""
