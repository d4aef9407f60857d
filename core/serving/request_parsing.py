"""Parse and validate scoring requests against the model's features, naming each bad field.

The service refuses what it cannot score faithfully (wrong types, missing features, NaN or
infinity, empty or malformed bodies, too many applicants, one feature given under two names)
with a 4xx that names the field and the fix; it scores what it can and warns about the rest
(unknown fields, unseen categories, values outside the training range, missing values).
Features are named as the model names them or as the training data did ('home status' for
LightGBM's 'home_status'), through the one mapping `core.scoring.prepare.model_feature_name`.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import pandas as pd
from starlette.requests import Request

from core.scoring.model_spec import FeatureSpec, ModelSpec
from core.scoring.prepare import (
    NAMED_TWICE_FIX,
    ROW_ID_COLUMNS,
    model_feature_name,
    named_twice,
    named_twice_message,
)
from core.serving.errors import Problem, RequestError, request_error
from core.serving.safe_json import MAX_COLUMNS, MAX_FIELD_CHARS, check_shape, parse_json

ID_KEYS = ROW_ID_COLUMNS
BODY_BYTES_PER_APPLICANT = 4096
BODY_BYTES_FLOOR = 64 * 1024
MAX_PROBLEMS = 20
OFF_LOOP_BYTES = 64 * 1024
T = TypeVar("T")
_MISSING_FIX = "Add it to every applicant; send null when the value is unknown."
_NUMBER_FIX = 'Send a JSON number (720, not "720"), or null when the value is unknown.'
_SHAPE_FIX = (
    'Send {"applicants": [{"feature": value, ...}, ...]}, or one applicant object; '
    "GET /docs shows an example built from the model's features."
)


@dataclass(frozen=True)
class ParsedApplicants:
    """Validated applicants: model-ordered columns for the Scorer, ids, raw values, warnings.

    The columns stay plain lists: the batcher builds one frame for all the requests it scores
    together (building a DataFrame costs more than scoring one applicant).
    """

    columns: dict[str, list[object]]
    ids: list[str | None]
    features: list[dict[str, object]]
    warnings: list[list[str]]
    request_warnings: list[str] = field(default_factory=list)


def body_limit(max_applicants: int) -> int:
    """The largest request body accepted, in bytes, for the applicant limit."""
    return max(BODY_BYTES_FLOOR, max_applicants * BODY_BYTES_PER_APPLICANT)


async def read_body(request: Request, limit: int, timeout: float) -> bytes:
    """The request body, refusing (413) one larger than limit before reading it all, and
    (408) one that has not fully arrived after timeout seconds."""
    try:
        async with asyncio.timeout(timeout):
            return await _read_within(request, limit)
    except TimeoutError:
        raise request_error(
            408,
            "body",
            f"The request body did not arrive within {timeout:g} s.",
            "Send the whole body the Content-Length announces (SCORING_BODY_TIMEOUT sets the "
            "time allowed).",
        ) from None


async def _read_within(request: Request, limit: int) -> bytes:
    """The request body, refusing (413) one larger than limit before reading it all."""
    declared = request.headers.get("content-length")
    too_large = request_error(
        413,
        "body",
        f"The request body is larger than the limit of {limit:,} bytes.",
        "Split the applicants over several requests (SCORING_MAX_APPLICANTS sets the limit).",
    )
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


async def off_loop(size: int, parse: Callable[..., T], *args: object) -> T:
    """parse(*args) at once for a small body, else on a worker thread, so the event loop
    answers /health and other requests while a large body is parsed and validated."""
    if size <= OFF_LOOP_BYTES:
        return parse(*args)
    return await asyncio.to_thread(parse, *args)


def decode_json(body: bytes, max_applicants: int) -> object:
    """The JSON document of a body within the limits (core.serving.safe_json), or 400 naming
    where it is malformed."""
    if not body.strip():
        raise request_error(400, "body", "The request body is empty.", _SHAPE_FIX)
    check_shape(body, max_applicants)
    try:
        return parse_json(body)
    except UnicodeDecodeError:
        raise request_error(
            400, "body", "The request body is not UTF-8 text.", "Send UTF-8 encoded JSON."
        ) from None
    except json.JSONDecodeError as exc:
        raise request_error(
            400,
            "body",
            f"The request body is not valid JSON ({exc.msg} at line {exc.lineno} "
            f"column {exc.colno}).",
            _SHAPE_FIX,
        ) from None


def check_count(count: int, where: str, max_applicants: int) -> None:
    """Refuse an empty applicant list (422) or one over the limit (413)."""
    if count == 0:
        raise request_error(422, where, "There are no applicants to score.", _SHAPE_FIX)
    if count > max_applicants:
        raise request_error(
            413,
            where,
            f"{count:,} applicants is more than the limit of {max_applicants:,} per request.",
            f"Send at most {max_applicants:,} applicants per request "
            "(SCORING_MAX_APPLICANTS sets the limit).",
        )


def predict_rows(document: object, max_applicants: int) -> tuple[list[object], list[str]]:
    """The applicant objects of a /predict or /explain body, and warnings about the body."""
    if isinstance(document, dict) and "applicants" in document:
        rows = document["applicants"]
        extra = [f"unknown top-level field '{k}' ignored" for k in document if k != "applicants"]
        if not isinstance(rows, list):
            raise request_error(
                422, "applicants", "must be a list of applicant objects.", _SHAPE_FIX
            )
        check_count(len(rows), "applicants", max_applicants)
        return rows, extra
    if isinstance(document, dict):
        if not document:
            raise request_error(422, "body", "The applicant object is empty.", _SHAPE_FIX)
        return [document], []
    raise request_error(
        422, "body", f"must be a JSON object, not {_json_kind(document)}.", _SHAPE_FIX
    )


def _json_kind(value: object) -> str:
    """A JSON value's kind in words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "an object"


class _Collector:
    """Problems found so far (at most MAX_PROBLEMS)."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, where: str, message: str, fix: str) -> None:
        """Record a problem."""
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(where, message, fix))


def _numeric(value: object, where: str, problems: _Collector) -> float:
    """A numeric feature's value as float (NaN for null), recording a problem when invalid."""
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, int | float):
        shown = f"the text {value!r}" if isinstance(value, str) else _json_kind(value)
        problems.add(where, f"must be a number, got {shown}.", _NUMBER_FIX)
        return math.nan
    try:
        number = float(value)
    except OverflowError:  # a JSON integer beyond a double's range (about 1.8e308)
        problems.add(
            where,
            f"is an integer of {len(str(abs(value)))} digits, too large to score.",
            "Send the value in the feature's own unit (see /version for its training range), "
            "or null when the value is unknown.",
        )
        return math.nan
    if not math.isfinite(number):
        shown = "NaN" if math.isnan(number) else ("Infinity" if number > 0 else "-Infinity")
        problems.add(
            where,
            f"is {shown}; only finite numbers can be scored.",
            "Send a finite number, or null when the value is unknown.",
        )
    return number


def _categorical(
    value: object, where: str, categories: Sequence[object], problems: _Collector
) -> str | None:
    """A categorical feature's value as text (None for null), recording a problem when invalid."""
    if value is None:
        return None
    if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
        problems.add(
            where,
            f"is {len(value):,} characters long, over the limit of {MAX_FIELD_CHARS:,}.",
            "Send the category's name, as trained.",
        )
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return str(value)
    shown = ", ".join(repr(str(c)) for c in list(categories)[:6])
    problems.add(
        where,
        f"must be a category (text), got {_json_kind(value)}.",
        f"Send one of the trained categories ({shown}…), or null when unknown.",
    )
    return None


class _FeatureChecks:
    """Per-model lookups for validation: categories as text, training ranges."""

    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec
        self.names = spec.names
        self.known = set(self.names)
        self.plain_keys = self.known | set(ID_KEYS)  # keys that need no renaming
        self.categories = {f.name: {str(c) for c in f.categories} for f in spec.features}
        self.ranges = spec.ranges


def _applicant_id(row: dict, checks: _FeatureChecks, where: str, problems: _Collector) -> object:
    """The applicant's id from the first id key that is not a model feature."""
    for key in ID_KEYS:
        if key in row and key not in checks.known:
            value = row[key]
            if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
                problems.add(
                    f"{where}.{key}",
                    f"is over the limit of {MAX_FIELD_CHARS:,} characters.",
                    "Send a shorter id.",
                )
                return None
            if value is None or (isinstance(value, str | int) and not isinstance(value, bool)):
                return None if value is None else str(value)
            problems.add(
                f"{where}.{key}", "must be text or a whole number.", "Send the id as text."
            )
            return None
    return None


def _feature_value(
    feature: FeatureSpec, value: object, where: str, checks: _FeatureChecks, problems: _Collector
) -> tuple[object, str | None]:
    """One feature's value for the frame, and the warning it deserves (or None)."""
    name = feature.name
    if feature.is_categorical:
        text = _categorical(value, where, feature.categories, problems)
        if text is None:
            return None, f"{name}: missing value"
        if text not in checks.categories[name]:
            return text, (
                f"{name}: category '{text}' was never seen in training; scored as a missing value"
            )
        return text, None
    number = _numeric(value, where, problems)
    if math.isnan(number):
        return number, f"{name}: missing value"
    low, high = checks.ranges.get(name, (-math.inf, math.inf))
    if not low <= number <= high:
        return number, f"{name}: {number:g} is outside the training range [{low:g}, {high:g}]"
    return number, None


def _with_model_names(row: dict, checks: _FeatureChecks, where: str, problems: _Collector) -> dict:
    """The applicant with fields spelled as in the training data ('home status') renamed to
    the model's features; a feature given under two names is a problem naming both."""
    if checks.plain_keys.issuperset(row):
        return row
    twice = named_twice(row, checks.known)
    for feature, names in twice.items():
        problems.add(f"{where}.{feature}", named_twice_message(feature, names), NAMED_TWICE_FIX)
    renamed: dict = {}
    for key, value in row.items():
        feature = model_feature_name(key, checks.known)
        renamed[feature if feature is not None and feature not in twice else key] = value
    return renamed


def validate_rows(rows: Sequence[object], spec: ModelSpec, label: str) -> ParsedApplicants:
    """Check every applicant against the model's features; 422 listing each bad field."""
    checks = _FeatureChecks(spec)
    problems = _Collector()
    columns: dict[str, list[object]] = {name: [] for name in checks.names}
    missing: dict[str, list[int]] = {}
    ids: list[str | None] = []
    raw: list[dict[str, object]] = []
    warnings: list[list[str]] = []
    for i, row in enumerate(rows):
        where = f"{label}[{i}]"
        if not isinstance(row, dict):
            problems.add(
                where, f"must be an object of feature: value, not {_json_kind(row)}.", _SHAPE_FIX
            )
            continue
        if len(row) > MAX_COLUMNS:
            problems.add(
                where,
                f"has {len(row):,} fields, over the limit of {MAX_COLUMNS:,}.",
                "Send only the model's features (GET /version lists them).",
            )
            continue
        notes: list[str] = []
        row = _with_model_names(row, checks, where, problems)
        for feature in spec.features:
            if feature.name not in row:
                missing.setdefault(feature.name, []).append(i)
                columns[feature.name].append(None)
                continue
            value, note = _feature_value(
                feature, row[feature.name], f"{where}.{feature.name}", checks, problems
            )
            columns[feature.name].append(value)
            if note:
                notes.append(note)
        ids.append(_applicant_id(row, checks, where, problems))
        notes.extend(
            f"unknown field '{k}' ignored"
            for k in row
            if k not in checks.known and k not in ID_KEYS
        )
        raw.append({name: row[name] for name in checks.names if name in row})
        warnings.append(notes)
    for name, positions in missing.items():
        listed = ", ".join(str(p) for p in positions[:5]) + ("…" if len(positions) > 5 else "")
        problems.add(
            f"{label}[{positions[0]}].{name}",
            f"the model feature '{name}' is missing (applicant(s) {listed}).",
            _MISSING_FIX,
        )
    if problems.problems:
        raise RequestError(422, problems.problems)
    return ParsedApplicants(columns, ids, raw, warnings)


def applicant_frame(parts: Sequence[dict[str, list[object]]], spec: ModelSpec) -> pd.DataFrame:
    """Validated columns of one or more requests as one frame in model order: floats for
    numbers, text for categories."""
    data: dict[str, object] = {}
    for feature in spec.features:
        columns = [part[feature.name] for part in parts]
        if feature.is_categorical:
            values = [v for column in columns for v in column]
            data[feature.name] = pd.Series(values, dtype=object)
        else:
            data[feature.name] = np.concatenate([np.asarray(c, dtype="float64") for c in columns])
    return pd.DataFrame(data, columns=spec.names)
