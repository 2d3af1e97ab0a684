"""The command language: words, client names, durations, dates and the two commands."""
