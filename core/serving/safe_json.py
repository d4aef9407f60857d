"""JSON bodies parsed within limits: nothing a client sends can crash the parser or hold it long.

Before parsing, byte counts bound the work: at most MAX_CONTAINERS arrays and objects and
MAX_VALUES commas for the applicant limit (a 6 MB body of two million empty rows is refused in
milliseconds, not parsed for seconds). While parsing, an integer over MAX_DIGITS digits and
nesting deeper than the parser's recursion limit are refused. After parsing, a lone surrogate
(`"\\ud800"`, which no UTF-8 log line can hold) is refused naming the field. Each refusal is a
413 or 422 naming the limit.
"""

from __future__ import annotations

import json
import re

import orjson

from core.serving.errors import RequestError, request_error

MAX_DIGITS = 1_000
MAX_NESTING = 32
MAX_COLUMNS = 1_000
MAX_FIELD_CHARS = 10_000
CONTAINERS_PER_APPLICANT = 4
CONTAINERS_FLOOR = 64
WALKED_BODY_BYTES = 64 * 1024
_SURROGATE_ESCAPES = (b"\\ud", b"\\uD")
# A run of digits this long may be an integer beyond 64 bits, which orjson reads as a float
# and json as an exact int: such a body takes json's path, so both paths give the same values.
_LONG_DIGITS = re.compile(rb"\d{19}")


class _TooManyDigits(ValueError):
    """An integer literal longer than MAX_DIGITS."""


def _bounded_int(text: str) -> int:
    """json's parse_int: an int, refusing literals over MAX_DIGITS digits before converting."""
    if len(text) > MAX_DIGITS + 1:
        raise _TooManyDigits(text[:20])
    return int(text)


def check_shape(body: bytes, max_applicants: int) -> None:
    """Refuse (413) a body with more arrays/objects or values than max_applicants can need."""
    containers = body.count(b"[") + body.count(b"{")
    limit = max(CONTAINERS_FLOOR, max_applicants * CONTAINERS_PER_APPLICANT)
    if containers > limit:
        raise request_error(
            413,
            "body",
            f"The body holds {containers:,} arrays and objects, more than the limit of "
            f"{limit:,} for {max_applicants:,} applicants.",
            "Send at most SCORING_MAX_APPLICANTS applicants, one object or row each.",
        )
    values = body.count(b",")
    value_limit = max(CONTAINERS_FLOOR, max_applicants) * MAX_COLUMNS
    if values > value_limit:
        raise request_error(
            413,
            "body",
            f"The body holds {values:,} values, more than the limit of {value_limit:,} "
            f"({MAX_COLUMNS:,} columns per applicant).",
            "Send only the model's features, and at most SCORING_MAX_APPLICANTS applicants.",
        )


def _path_of_surrogate(document: object) -> str | None:
    """The path of the first string (key or value) holding a lone surrogate, or None."""
    stack: list[tuple[str, object]] = [("", document)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            if not value.isascii() and not _well_formed(value):
                return where or "body"
        elif isinstance(value, dict):
            for key, item in value.items():
                if not key.isascii() and not _well_formed(key):
                    return f"{where or 'body'} (a field name)"
                stack.append((f"{where}.{key}" if where else key, item))
        elif isinstance(value, list):
            stack.extend((f"{where or 'body'}[{i}]", item) for i, item in enumerate(value))
    return None


def _well_formed(text: str) -> bool:
    """True when text holds no lone surrogate (it can be written as UTF-8)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_CONTAINER_TYPES = frozenset({dict, list})


def _depth_exceeded(document: object) -> bool:
    """True when arrays and objects nest deeper than MAX_NESTING (a parsed document holds
    plain dicts and lists; a container of scalars is passed over in one C-level type scan)."""
    level = [document]
    for _ in range(MAX_NESTING):
        deeper: list[object] = []
        for value in level:
            kind = type(value)
            if kind not in _CONTAINER_TYPES:
                continue
            children = value.values() if kind is dict else value  # type: ignore[union-attr]
            if not _CONTAINER_TYPES.isdisjoint(map(type, children)):
                deeper.extend(c for c in children if type(c) in _CONTAINER_TYPES)
        if not deeper:
            return False
        level = deeper
    return True


_DECODER = json.JSONDecoder(parse_int=_bounded_int)
_WHITESPACE = " \t\n\r"
# Containers this shallow are walked in Python for a large body (the wrapper object, the list of
# rows); each deeper one (a row) is decoded by json's C scanner in one call, so no single call
# holds the GIL for the whole body and other threads (the event loop) keep answering.
_WALKED_DEPTH = 3


def _skip(text: str, i: int) -> int:
    """The index of the first non-whitespace character at or after i."""
    while i < len(text) and text[i] in _WHITESPACE:
        i += 1
    return i


def _expect(text: str, i: int, what: str) -> None:
    """JSONDecodeError unless text[i] is one of what."""
    if i >= len(text) or text[i] not in what:
        raise json.JSONDecodeError(f"Expecting one of {what!r}", text, i)


def _walk(text: str, i: int, depth: int) -> tuple[object, int]:
    """The JSON value at i and the index after it; shallow containers walked element by
    element, everything else decoded by the C scanner."""
    i = _skip(text, i)
    if depth >= _WALKED_DEPTH or i >= len(text) or text[i] not in "[{":
        return _DECODER.raw_decode(text, i)
    closing = "]" if text[i] == "[" else "}"
    items: list[object] = []
    pairs: dict[str, object] = {}
    i = _skip(text, i + 1)
    if i < len(text) and text[i] == closing:
        return ([] if closing == "]" else {}), i + 1
    while True:
        if closing == "}":
            _expect(text, i, '"')
            key, i = _DECODER.raw_decode(text, i)
            i = _skip(text, i)
            _expect(text, i, ":")
            pairs[key], i = _walk(text, i + 1, depth + 1)
        else:
            value, i = _walk(text, i, depth + 1)
            items.append(value)
        i = _skip(text, i)
        _expect(text, i, "," + closing)
        if text[i] == closing:
            return (items if closing == "]" else pairs), i + 1
        i = _skip(text, i + 1)


def _fast_loads(body: bytes) -> object | None:
    """orjson's document of a small body, or None where json's path must decide: a refusal
    (NaN, Infinity, a lone surrogate, a BOM, a syntax error, all named by json's path), or
    digits that may be an integer beyond 64 bits. Where it answers, json's path gives the same
    document (ints, floats, strings, key order, the last of repeated keys), about 7x slower."""
    if _LONG_DIGITS.search(body):
        return None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


def _loads(body: bytes) -> object:
    """orjson (else json) for small bodies; for large ones the walk that yields the GIL
    between rows."""
    if len(body) <= WALKED_BODY_BYTES:
        document = _fast_loads(body)
        if document is not None:
            return document
        return json.loads(body, parse_int=_bounded_int)
    text = body.decode("utf-8-sig")
    document, end = _walk(text, 0, 0)
    if _skip(text, end) != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return document


def parse_json(body: bytes) -> object:
    """The JSON document of a body, or a RequestError naming what is wrong or which limit."""
    try:
        document = _loads(body)
    except _TooManyDigits as exc:
        raise request_error(
            422,
            "body",
            f"A number has more than {MAX_DIGITS:,} digits ({exc}…).",
            "Send numbers in the feature's own unit; no feature needs that many digits.",
        ) from None
    except RecursionError:
        raise _nesting_error() from None
    if _depth_exceeded(document):
        raise _nesting_error()
    if any(escape in body for escape in _SURROGATE_ESCAPES):  # only json's path lets them by
        where = _path_of_surrogate(document)
        if where is not None:
            raise request_error(
                422,
                where,
                "holds a lone surrogate (an unpaired \\ud800–\\udfff escape): it is not "
                "well-formed Unicode text.",
                "Send well-formed UTF-8 text; pair surrogate escapes or send the character.",
            )
    return document


def _nesting_error() -> RequestError:
    """422 naming the nesting limit."""
    return request_error(
        422,
        "body",
        f"Arrays and objects nest deeper than the limit of {MAX_NESTING} levels.",
        "Send applicants as flat objects of feature: value (GET /docs shows the formats).",
    )
