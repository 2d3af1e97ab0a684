"""Splitting command text into words, honouring quotes, and normalising client names."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Opening quote → the closers that end it. Straight and typographic double quotes and guillemets;
# single quotes are left alone so names like "O'Brien IT" need no quoting.
QUOTES = {'"': '"“”', "“": "”“", "„": "“”", "”": "”", "«": "»", "»": "«"}

MAX_CLIENT_WORDS = 8


@dataclass(frozen=True)
class Word:
    """A word of the command text, with where it ends so the rest of the text can be sliced off."""

    text: str
    quoted: bool
    start: int
    end: int


class UnclosedQuote(ValueError):
    """A quote was opened and never closed."""


def tokenize(text: str) -> list[Word]:
    """Split on whitespace; a quoted stretch is one word however many spaces it holds."""
    words: list[Word] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start = i
        if text[i] in QUOTES:
            closers = QUOTES[text[i]]
            close = next((j for j in range(i + 1, n) if text[j] in closers), -1)
            if close < 0:
                raise UnclosedQuote(text[i:])
            words.append(Word(text[i + 1 : close].strip(), True, start, close + 1))
            i = close + 1
            continue
        while i < n and not text[i].isspace():
            i += 1
        words.append(Word(text[start:i], False, start, i))
    return words


def match_key(name: str) -> str:
    """The form two client names share when they are the same client: NFKC, case-folded, single spaces."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def tidy_name(name: str) -> str:
    """A client name as we store and show it: NFC and single spaces, case kept as typed."""
    return " ".join(unicodedata.normalize("NFC", name).split())


def join(words: list[Word]) -> str:
    """The words as one name."""
    return " ".join(word.text for word in words)


def client_prefixes(words: list[Word]) -> list[tuple[str, int]]:
    """Every leading run of words that could be a client name, longest first, with the index after it."""
    if words and words[0].quoted:
        return [(words[0].text, 1)]
    limit = min(len(words), MAX_CLIENT_WORDS)
    return [(join(words[:count]), count) for count in range(limit, 0, -1)]


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[\d\s().\-/]{5,}(?:\s*(?:x|ext\.?)\s*\d+)?$", re.IGNORECASE)


def is_email(text: str) -> bool:
    """A plausible e-mail address."""
    return bool(_EMAIL.match(text))


def looks_like_phone(text: str) -> bool:
    """Digits with the usual separators, at least five digits long."""
    return bool(_PHONE.match(text)) and sum(ch.isdigit() for ch in text) >= 5
