"""The MLflow scoring protocol for /invocations: the four JSON formats and CSV, as applicant rows.

Clients written against `mlflow models serve` send `dataframe_split`, `dataframe_records`,
`instances` or `inputs` as application/json, or a CSV body as text/csv; the rows then go
through the same validation as /predict.
"""

from __future__ import annotations

import csv
import math

import numpy as np

from core.data.tables import read_table_bytes, row_width_problem
from core.errors import DataValidationError
from core.scoring.model_spec import ModelSpec
from core.scoring.prepare import model_feature_name
from core.serving.column_checks import split_columns, validate_applicants
from core.serving.errors import request_error
from core.serving.request_parsing import ParsedApplicants, check_count, decode_json
from core.serving.safe_json import MAX_COLUMNS

CONTENT_TYPE_JSON = "application/json"
CONTENT_TYPE_CSV = "text/csv"
DF_SPLIT = "dataframe_split"
DF_RECORDS = "dataframe_records"
INSTANCES = "instances"
INPUTS = "inputs"
CSV_BODY_NAME = "request-body.csv"
MAX_HEADER_BYTES = 64 * 1024
SUPPORTED_FORMATS = (DF_SPLIT, DF_RECORDS, INSTANCES, INPUTS)
REQUIRED_INPUT_FORMAT = (
    "The input must be a JSON dictionary with exactly one of the input fields "
    f"{{{', '.join(repr(f) for f in SUPPORTED_FORMATS)}}}"
)
_CSV_FIX = (
    "Send one header row naming the features and, on every row, exactly one value per "
    "header field (an empty field for an unknown value), with no fields over 128 KiB."
)
_FORMAT_FIX = (
    'For example {"dataframe_split": {"columns": ["credit_score", ...], "data": [[700, ...]]}} '
    'or {"dataframe_records": [{"credit_score": 700, ...}]}.'
)


def media_type(content_type: str | None) -> str:
    """The media type of a Content-Type header (JSON when absent); 415 for others."""
    parts = [p.strip() for p in (content_type or CONTENT_TYPE_JSON).split(";")]
    mime = parts[0].lower()
    charset = next(
        (p.partition("=")[2].strip().lower() for p in parts[1:] if p.lower().startswith("charset")),
        "utf-8",
    )
    if charset not in ("utf-8", "utf8"):
        raise request_error(
            415, "Content-Type", "The scoring server only supports UTF-8.", "Send UTF-8 text."
        )
    if mime not in (CONTENT_TYPE_JSON, CONTENT_TYPE_CSV):
        raise request_error(
            415,
            "Content-Type",
            "This predictor only supports the following content types: "
            f"['{CONTENT_TYPE_JSON}', '{CONTENT_TYPE_CSV}']. Got '{content_type}'.",
            "Send application/json in one of the MLflow formats, or text/csv with a header row.",
        )
    return mime


def _split_table(value: object, max_applicants: int) -> tuple[list[str], list[object]]:
    """dataframe_split {columns, data[, index]} as column names and rows of their width."""
    if not isinstance(value, dict) or not isinstance(value.get("columns"), list):
        raise request_error(
            422,
            DF_SPLIT,
            "must be an object with 'columns' (a list of names) and 'data' (a list of rows).",
            _FORMAT_FIX,
        )
    columns, data = value["columns"], value.get("data")
    if not isinstance(data, list):
        raise request_error(422, f"{DF_SPLIT}.data", "must be a list of rows.", _FORMAT_FIX)
    check_count(len(data), f"{DF_SPLIT}.data", max_applicants)
    if len(columns) > MAX_COLUMNS:
        raise request_error(
            413,
            f"{DF_SPLIT}.columns",
            f"{len(columns):,} columns is more than the limit of {MAX_COLUMNS:,}.",
            "Send only the model's features (GET /version lists them).",
        )
    names = [str(c) for c in columns]
    for i, row in enumerate(data):
        if not isinstance(row, list) or len(row) != len(names):
            raise request_error(
                422,
                f"{DF_SPLIT}.data[{i}]",
                f"must be a list of {len(columns)} values, one per column.",
                "Give each row one value per entry of 'columns' (null for an unknown value).",
            )
    return names, data


def _tensor_rows(value: object, key: str) -> list[object]:
    """instances / inputs: a list of row objects, or an object of column -> list of values."""
    if isinstance(value, dict):
        lengths = {len(v) if isinstance(v, list) else -1 for v in value.values()}
        if -1 in lengths or len(lengths) > 1:
            raise request_error(
                422,
                key,
                "as an object, every value must be a list and all lists the same length.",
                f'Send {{"{key}": {{"credit_score": [700, 640], ...}}}} or a list of row objects.',
            )
        count = lengths.pop() if lengths else 0
        return [{name: column[i] for name, column in value.items()} for i in range(count)]
    if isinstance(value, list):
        if value and not all(isinstance(row, dict) for row in value):
            raise request_error(
                422,
                key,
                "must hold row objects (feature: value); rows without column names cannot be "
                "matched to the model's features.",
                f'Send {{"{key}": [{{"credit_score": 700, ...}}]}}, or use dataframe_split.',
            )
        return list(value)
    raise request_error(422, key, "must be a list of row objects.", _FORMAT_FIX)


def json_applicants(body: bytes, max_applicants: int, spec: ModelSpec) -> ParsedApplicants:
    """The validated applicants of an MLflow JSON request (a dataframe_split table of exactly
    the model's features is checked column-wise as it came: core.serving.column_checks)."""
    document = decode_json(body, max_applicants)
    if not isinstance(document, dict):
        kind = "a list" if isinstance(document, list) else "a JSON value"
        raise request_error(400, "body", f"{REQUIRED_INPUT_FORMAT}. Received {kind}.", _FORMAT_FIX)
    found = [f for f in SUPPORTED_FORMATS if f in document]
    if len(found) != 1:
        raise request_error(
            400,
            "body",
            f"{REQUIRED_INPUT_FORMAT}. Received dictionary with input fields: {list(document)}.",
            _FORMAT_FIX,
        )
    key = found[0]
    value = document[key]
    if key == DF_SPLIT:
        names, data = _split_table(value, max_applicants)
        parsed = split_columns(names, data, spec)
        if parsed is not None:
            return parsed
        rows = [dict(zip(names, row, strict=True)) for row in data]  # type: ignore[arg-type]
    elif key == DF_RECORDS:
        if not isinstance(value, list):
            raise request_error(422, key, "must be a list of row objects.", _FORMAT_FIX)
        rows = value
    else:
        rows = _tensor_rows(value, key)
    check_count(len(rows), key, max_applicants)
    return validate_applicants(rows, spec, key)


def _csv_value(value: object, numeric: bool) -> object:
    """A CSV cell as JSON would carry it: None for empty, a float for numeric text."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.integer | np.floating):
        return value.item()
    if numeric and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _check_csv_header(body: bytes) -> None:
    """Refuse (413) a CSV header line over MAX_HEADER_BYTES or with over MAX_COLUMNS fields."""
    end = body.find(b"\n")
    header = body if end < 0 else body[:end]
    if len(header) > MAX_HEADER_BYTES:
        raise request_error(
            413,
            "body header",
            f"The CSV header line is {len(header):,} bytes, over the limit of "
            f"{MAX_HEADER_BYTES:,}.",
            _CSV_FIX,
        )
    fields = 1 + max(header.count(sep) for sep in (b",", b";", b"\t", b"|"))
    if fields > MAX_COLUMNS:
        raise request_error(
            413,
            "body header",
            f"The CSV header has {fields:,} fields, over the limit of {MAX_COLUMNS:,} columns.",
            _CSV_FIX,
        )


def csv_rows(body: bytes, max_applicants: int, numeric: set[str]) -> list[object]:
    """The rows of a CSV body (empty cells are unknown values; numeric text becomes numbers)."""
    _check_csv_header(body)
    try:
        width = row_width_problem(body)
    except (csv.Error, UnicodeDecodeError) as exc:
        raise request_error(
            400, "body", f"The CSV body cannot be read ({exc}).", _CSV_FIX
        ) from None
    if width is not None:
        raise request_error(422, f"body row {width[0]}", width[1], _CSV_FIX)
    try:
        frame = read_table_bytes(CSV_BODY_NAME, body, max_rows=max_applicants)
    except DataValidationError as exc:
        status = 413 if (exc.fix or "").startswith("Split") else 400
        raise request_error(status, "body", exc.message, exc.fix or "") from None
    check_count(len(frame), "body", max_applicants)
    records = frame.astype(object).to_dict("records")
    is_numeric = {k: model_feature_name(k, numeric) is not None for k in frame.columns}
    return [{k: _csv_value(v, is_numeric[k]) for k, v in row.items()} for row in records]
