"""Declared names folded to one key per person, so a spelling cannot pass as another person.

The key is a Unicode TR39-style skeleton of the name: NFKC (full-width 'Ａ' is 'A'), format
characters dropped (zero-width space and joiner, soft hyphen, BOM), case folded, combining
marks dropped ('ë' is 'e'), look-alike letters of other scripts mapped to the Latin letter they
imitate (Cyrillic 'а', Greek 'ο', dotless 'ı'), and everything that is not a letter or a digit
removed (spaces, tabs, dots, quotes, hyphens). An e-mail address keys as its local part
("alice.analyst@bank.example" is "Alice Analyst"). A small curated table, not the full
confusables list: it covers the Latin look-alikes of Cyrillic, Greek and IPA letters that a
name can be typed with.
"""

from __future__ import annotations

import unicodedata

# Capitals of other scripts that look like a Latin capital: mapped before case folding, since
# folding would turn some into small letters that no longer look alike (Greek 'Ν' -> 'ν').
_CAPITALS = str.maketrans(
    {
        **dict.fromkeys("АΑ", "A"), **dict.fromkeys("ВΒ", "B"), **dict.fromkeys("СϹ", "C"),
        **dict.fromkeys("ЕΕ", "E"), **dict.fromkeys("НΗ", "H"), **dict.fromkeys("ІΙӀ", "I"),
        **dict.fromkeys("ЈͿ", "J"), **dict.fromkeys("КΚ", "K"), **dict.fromkeys("МΜ", "M"),
        "Ν": "N", **dict.fromkeys("ОΟ", "O"), **dict.fromkeys("РΡ", "P"), "Ѕ": "S",
        **dict.fromkeys("ТΤ", "T"), **dict.fromkeys("ΥҮ", "Y"), **dict.fromkeys("ХΧ", "X"),
        "Ζ": "Z", "Ԁ": "D", "Ԍ": "G", "Ԛ": "Q", "Ԝ": "W",
    }
)  # fmt: skip
# Small letters (after case folding) that look like a Latin small letter.
_SMALL = str.maketrans(
    {
        **dict.fromkeys("аαɑ", "a"), "ь": "b", **dict.fromkeys("сϲ", "c"), "ԁ": "d",
        **dict.fromkeys("еє", "e"), "ɡ": "g", "һ": "h", **dict.fromkeys("іıιɩӏ", "i"),
        **dict.fromkeys("јȷϳ", "j"), "κ": "k", "ν": "v", **dict.fromkeys("оοσ", "o"),
        **dict.fromkeys("рρ", "p"), "ԛ": "q", "ѕ": "s", "τ": "t", **dict.fromkeys("υ", "u"),
        "ԝ": "w", **dict.fromkeys("хχ", "x"), **dict.fromkeys("уүγ", "y"), "ø": "o",
        "ł": "l", "đ": "d", "ħ": "h", "ŀ": "l",
    }
)  # fmt: skip
_MARKS = ("Mn", "Mc", "Me")


def _email_local_part(text: str) -> str:
    """The local part of an e-mail address (plus-address tag dropped), else the text."""
    local, at, domain = text.rpartition("@")
    if not at or not local or "." not in domain:
        return text
    return local.split("+", 1)[0]


def person_key(name: str) -> str:
    """The comparison key of a declared name: one key for every spelling of one person."""
    text = unicodedata.normalize("NFKC", name)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    text = _email_local_part(text.strip())
    text = unicodedata.normalize("NFD", text.translate(_CAPITALS).casefold())
    text = "".join(ch for ch in text if unicodedata.category(ch) not in _MARKS)
    text = text.translate(_SMALL)
    return "".join(ch for ch in text if ch.isalnum())


def same_person(first: str, second: str) -> bool:
    """True when two declared names denote one person (see person_key); blank names never do."""
    first_key, second_key = person_key(first), person_key(second)
    return bool(first_key) and first_key == second_key
