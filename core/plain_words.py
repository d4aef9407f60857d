"""Column names in plain words, for every table a person reads (pages and the evidence pack)."""

from __future__ import annotations

# Words that stay upper case (or keep their spelling) in a header.
_WORDS = {"auc": "AUC", "ks": "KS", "psi": "PSI", "pd": "PD", "id": "id", "cv": "CV", "ci": "CI"}


def plain_header(column: str) -> str:
    """A snake_case column name in plain words: 'bad_rate_approved' -> 'Bad rate approved'."""
    words = [_WORDS.get(w, w) for w in str(column).split("_") if w]
    if not words:
        return str(column)
    first = words[0]
    return " ".join([first[:1].upper() + first[1:], *words[1:]])
