"""Splitting command text into words with every kind of quote, and folding client names into match keys."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.grammar.words import (
    QUOTES,
    UnclosedQuote,
    Word,
    client_prefixes,
    is_email,
    looks_like_phone,
    match_key,
    tidy_name,
    tokenize,
)

FULL_WIDTH = {code: code + 0xFEE0 for code in range(ord("A"), ord("Z") + 1)} | {ord(" "): "\u3000"}


def test_plain_words_are_split_on_any_whitespace_with_their_offsets() -> None:
    assert tokenize("  Acme\tDental \n1h30 ") == [
        Word("Acme", False, 2, 6),
        Word("Dental", False, 7, 13),
        Word("1h30", False, 15, 19),
    ]


@pytest.mark.parametrize(
    "text",
    [
        '"Café Müller GmbH" 45m',
        "“Café Müller GmbH” 45m",
        "„Café Müller GmbH“ 45m",
        "„Café Müller GmbH” 45m",
        "«Café Müller GmbH» 45m",
        "»Café Müller GmbH« 45m",
        "”Café Müller GmbH” 45m",
        '"Café Müller GmbH” 45m',
        '"  Café Müller GmbH  " 45m',
    ],
)
def test_every_quote_style_makes_one_word(text: str) -> None:
    words = tokenize(text)

    assert [(w.text, w.quoted) for w in words] == [("Café Müller GmbH", True), ("45m", False)]
    assert words[0].start == 0
    assert text[words[0].end :] == " 45m"
    assert text[words[1].start : words[1].end] == "45m"


def test_offsets_slice_back_to_the_original_text() -> None:
    text = "plan  “Café Müller”  Friday 8–9am"
    words = tokenize(text)

    assert [text[w.start : w.end] for w in words] == ["plan", "“Café Müller”", "Friday", "8–9am"]
    assert [w.text for w in words] == ["plan", "Café Müller", "Friday", "8–9am"]


def test_single_quotes_and_quotes_inside_words_are_kept_as_text() -> None:
    assert [(w.text, w.quoted) for w in tokenize("O'Brien IT 'x' a\"b")] == [
        ("O'Brien", False),
        ("IT", False),
        ("'x'", False),
        ('a"b', False),
    ]


def test_an_empty_quoted_name_is_an_empty_quoted_word() -> None:
    assert tokenize('"" 45m') == [Word("", True, 0, 2), Word("45m", False, 3, 6)]


def test_a_quoted_word_can_touch_the_next_word() -> None:
    assert tokenize('"Acme"45m') == [Word("Acme", True, 0, 6), Word("45m", False, 6, 9)]


@pytest.mark.parametrize("text", ['"Acme Dental 45m', "x “Acme", "„Acme„", "«Acme«", '"'])
def test_an_unclosed_quote_raises(text: str) -> None:
    with pytest.raises(UnclosedQuote):
        tokenize(text)


@pytest.mark.parametrize(
    "name",
    [
        "CAFÉ MÜLLER GMBH",
        "café müller gmbh",
        "Café  Müller\tGmbH",
        " Café Müller GmbH ",
        "Cafe\u0301 Mu\u0308ller GmbH",
        # Full-width letters and ideographic spaces, as some Asian keyboards type them.
        "CAFÉ MÜLLER GMBH".translate(FULL_WIDTH),
    ],
)
def test_match_key_folds_case_width_composition_and_spaces(name: str) -> None:
    assert match_key(name) == "café müller gmbh"


def test_match_key_case_folds_sharp_s() -> None:
    assert match_key("STRASSE IT") == match_key("Straße IT") == "strasse it"


def test_tidy_name_keeps_case_but_composes_and_single_spaces() -> None:
    assert tidy_name("  Cafe\u0301   Mu\u0308ller GmbH ") == "Café Müller GmbH"


def test_client_prefixes_are_longest_first_and_at_most_eight_words() -> None:
    words = tokenize("a b c d e f g h i j")

    assert client_prefixes(words) == [
        ("a b c d e f g h", 8),
        ("a b c d e f g", 7),
        ("a b c d e f", 6),
        ("a b c d e", 5),
        ("a b c d", 4),
        ("a b c", 3),
        ("a b", 2),
        ("a", 1),
    ]


def test_a_quoted_first_word_is_the_only_prefix() -> None:
    assert client_prefixes(tokenize('"Acme Dental" 1h30 fixed')) == [("Acme Dental", 1)]


def test_no_words_no_prefixes() -> None:
    assert client_prefixes([]) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("jane@acme.example", True),
        ("j.roe+it@mail.acme.example", True),
        ("jane@acme", False),
        ("a@b@c.d", False),
    ],
)
def test_is_email(text: str, expected: bool) -> None:
    assert is_email(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+1 555 0100", True),
        ("(555) 010-0100", True),
        ("555 0100 ext. 12", True),
        ("555 0100 x12", True),
        ("12", False),
        ("1234", False),
        ("555-CALL", False),
    ],
)
def test_looks_like_phone(text: str, expected: bool) -> None:
    assert looks_like_phone(text) is expected


QUOTE_CHARS = "".join(QUOTES) + "".join(QUOTES.values())


@given(st.text())
def test_tokenize_raises_nothing_but_unclosed_quote(text: str) -> None:
    try:
        words = tokenize(text)
    except UnclosedQuote:
        return
    for word in words:
        piece = text[word.start : word.end]
        assert piece.strip() == piece != ""
        if not word.quoted:
            assert piece == word.text


@given(st.text(alphabet=st.characters(blacklist_characters=QUOTE_CHARS)))
def test_without_quotes_tokenize_is_str_split(text: str) -> None:
    assert [w.text for w in tokenize(text)] == text.split()


@settings(max_examples=200)
@given(st.lists(st.text(alphabet=st.characters(blacklist_characters=QUOTE_CHARS)), max_size=4))
def test_straight_quoted_stretches_are_single_words(parts: list[str]) -> None:
    text = " ".join(f'"{part}"' for part in parts)

    assert [(w.text, w.quoted) for w in tokenize(text)] == [(part.strip(), True) for part in parts]
