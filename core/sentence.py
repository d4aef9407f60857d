"""Sentences that name things (runs, experiments, features) and keep the names apart.

Core writes "{0} has the highest val_auc" with the run's name as a separate value. The sentence
is equal to its plain text, so the CLI, the evidence pack and tests read it as before; a page
renders it for markdown with each name escaped (`ui.shared.markdown_text.literal`), so a name
holding `**`, `|` or `[x](y)` shows verbatim while core's own formatting stays.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_SLOT = re.compile(r"\{(\d+)\}")


def _fill(template: str, names: tuple[str, ...], escape: Callable[[str], str]) -> str:
    """template with every {i} replaced by escape(names[i])."""
    return _SLOT.sub(lambda slot: escape(names[int(slot.group(1))]), template)


class Sentence(str):
    """Plain text built from a template whose {0}, {1}… are names kept for later escaping."""

    template: str
    names: tuple[str, ...]

    def __new__(cls, template: str, *names: object) -> Sentence:
        kept = tuple(str(name) for name in names)
        sentence = super().__new__(cls, _fill(template, kept, str))
        sentence.template = template
        sentence.names = kept
        return sentence

    def render(self, escape: Callable[[str], str]) -> str:
        """The sentence with each name passed through escape (for markdown, say)."""
        return _fill(self.template, self.names, escape)

    def prefixed(self, text: str) -> Sentence:
        """The same sentence after text (core's own words: no names, no {i} slots)."""
        return Sentence(text + self.template, *self.names)


def render(text: str, escape: Callable[[str], str]) -> str:
    """A Sentence with its names escaped; any other text as it is (core wrote all of it)."""
    return text.render(escape) if isinstance(text, Sentence) else text


def prefixed(text: str, sentence: str) -> str:
    """sentence after text (core's own words), keeping its names apart when it has some."""
    return sentence.prefixed(text) if isinstance(sentence, Sentence) else text + sentence
