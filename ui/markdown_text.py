"""Names shown verbatim inside Streamlit markdown: run, experiment and feature names can hold
`**`, `|`, `[x](y)`, backticks, `_`, `$` or `:` that markdown would otherwise interpret."""

from __future__ import annotations

import string

from core.sentence import render

_SPECIALS = frozenset(string.punctuation)


def literal(name: object) -> str:
    """name as markdown text that renders exactly as written: every ASCII punctuation mark is
    backslash-escaped (CommonMark allows it for all of them) and line breaks become spaces.

    Not for code spans (between backticks), where a backslash shows as itself.
    """
    text = " ".join(str(name).splitlines())
    return "".join(f"\\{c}" if c in _SPECIALS else c for c in text)


def with_literal_names(text: str) -> str:
    """Core's text for markdown: the names a core Sentence keeps apart shown verbatim, core's
    own words (and their formatting) as written."""
    return render(text, literal)
