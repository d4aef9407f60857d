"""Names shown verbatim inside Streamlit markdown: run, experiment and feature names can hold
`**`, `|`, `[x](y)`, backticks, `_`, `$` or `:` that markdown would otherwise interpret."""

from __future__ import annotations

import re
import string

from core.sentence import render

_SPECIALS = frozenset(string.punctuation)
# Text markdown shows as written: word characters, spaces and inert punctuation, with every
# underscore inside a word (an underscore at a word's edge may start or end emphasis).
_INERT = re.compile(r"[\w .,'\"/@%&?;=+()-]*")
_EDGE_UNDERSCORE = re.compile(r"(?:^|\W)_|_(?:\W|$)")


def literal(name: object) -> str:
    """name as markdown text that renders exactly as written, line breaks as spaces.

    A name markdown would show as written ('governed_b', 'purpose.v2', 'grade(A-G)') is kept
    as it is; any other has every ASCII punctuation mark backslash-escaped (CommonMark allows
    it for all of them). Not for code spans (between backticks), where a backslash shows.
    """
    text = " ".join(str(name).splitlines())
    if _INERT.fullmatch(text) and not _EDGE_UNDERSCORE.search(text):
        return text
    return "".join(f"\\{c}" if c in _SPECIALS else c for c in text)


def with_literal_names(text: str) -> str:
    """Core's text for markdown: the names a core Sentence keeps apart shown verbatim, core's
    own words (and their formatting) as written."""
    return render(text, literal)


def code_span(text: object) -> str:
    """text as a markdown code span, shown as written (backticks inside included); a code span
    is drawn with the page's own markdown, without the syntax highlighter's 1.5 MB script."""
    body = " ".join(str(text).splitlines())
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if body.startswith("`") or body.endswith("`") else ""
    return f"{fence}{pad}{body}{pad}{fence}"
