"""Chat platform adapters: each translates its platform's payloads to the core and renders replies back."""
