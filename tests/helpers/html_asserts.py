"""Test helper: a text holding markup shows as text in a page, never as an element or attribute."""

from __future__ import annotations

from html.parser import HTMLParser

# Markup that breaks out of a quoted attribute, and markup that opens a script element.
BREAKOUT = '"><img src=x onerror=alert(1)>'
SCRIPT = "<script>alert('x')</script>\"&"


class _Document(HTMLParser):
    """The elements, attribute names and text of a page, parsed as a browser parses it."""

    def __init__(self, page: str) -> None:
        super().__init__()  # character references are decoded, as a browser shows them
        self.tags: list[str] = []
        self.attributes: set[str] = set()
        self.texts: list[str] = []
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.update(name for name, _ in attrs)

    def handle_data(self, data: str) -> None:
        self.texts.append(data)


def assert_shown_as_text(page: str, *texts: str, scripts: int) -> None:
    """Each text is in the page's text, and the page has no img, no onerror and `scripts`
    script elements: none of the texts' markup became part of the page."""
    document = _Document(page)
    assert "img" not in document.tags
    assert not any(name.startswith("on") for name in document.attributes)
    assert document.tags.count("script") == scripts
    shown = "".join(document.texts)
    for text in texts:
        assert text in shown
