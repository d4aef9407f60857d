"""Jinja2 environments for core's HTML: every value autoescaped, an undefined name an error."""

from __future__ import annotations

import jinja2


def _blank_none(value: object) -> object:
    """None prints as nothing (not 'None'); anything else is escaped as usual."""
    return "" if value is None else value


def html_environment(package: str) -> jinja2.Environment:
    """The environment of a package's templates/ folder (package data, shipped with the code).

    Autoescape is on for every template, so text from a run, a store or a file is escaped
    wherever it is printed; only a value wrapped in markupsafe.Markup is printed as it is.
    """
    return jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=_blank_none,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
