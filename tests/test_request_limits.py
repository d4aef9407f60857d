"""Hostile request bodies get a 4xx naming the limit, never a 500 or a wrong 200: huge integers,
deep nesting, lone surrogates, a CSV row with a trailing comma, oversized CSV fields and headers,
and millions of empty rows."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from core.data.synthetic import demo_dataset
from core.serving.app import create_app
from core.serving.errors import RequestError
from core.serving.model_holder import ModelHolder, load_promoted
from core.serving.request_parsing import decode_json
from core.serving.safe_json import WALKED_BODY_BYTES, parse_json
from core.serving.service_state import ServiceState
from tests.helpers.serving_fixtures import promoted_copy

CSV = {"Content-Type": "text/csv"}


@pytest.fixture(scope="module", name="client")
def client_fixture(promotion_template, promoted_states, tmp_path_factory) -> Iterator[TestClient]:
    """An in-process service over a promoted copy, with the default applicant limit."""
    promoted = promoted_copy(promotion_template, promoted_states, tmp_path_factory.mktemp("lim"))
    settings = promoted.settings
    loaded = load_promoted(settings.promotion_manifest, settings.reason_codes_file)
    state = ServiceState(ModelHolder(loaded), None, settings.scoring_max_applicants)
    with TestClient(create_app(state), raise_server_exceptions=False) as client:
        yield client


def _applicant() -> dict:
    """One demo applicant as JSON."""
    return json.loads(demo_dataset(n_rows=10, seed=3).features.head(1).to_json(orient="records"))[0]


def _post(client: TestClient, path: str, body: bytes, headers: dict | None = None):
    """POST raw bytes (JSON unless headers say otherwise)."""
    return client.post(path, content=body, headers=headers or {"Content-Type": "application/json"})


def _csv(applicant: dict) -> tuple[str, str]:
    """The applicant as a CSV header line and value line."""
    header = ",".join(applicant)
    values = ",".join("" if v is None else str(v) for v in applicant.values())
    return header, values


def test_an_integer_over_4300_digits_is_a_422_naming_the_digit_limit(client) -> None:
    # given an applicant whose credit score has 4,301 digits (over Python's int conversion limit)
    body = json.dumps({**_applicant(), "credit_score": 0}).replace(
        '"credit_score": 0', '"credit_score": ' + "9" * 4301
    )
    # when it is posted to each scoring endpoint
    for path, payload in (("/predict", body), ("/invocations", f'{{"instances": [{body}]}}')):
        response = _post(client, path, payload.encode())
        # then the answer is a 422 naming the limit, not a 500
        assert response.status_code == 422, response.text
        assert "more than 1,000 digits" in response.json()["message"]


def test_3000_levels_of_nesting_are_a_422_naming_the_nesting_limit(client) -> None:
    # given 3,000 nested arrays, and 40 nested objects inside an applicant
    deep = ("[" * 3000 + "]" * 3000).encode()
    nested = json.dumps({**_applicant(), "note": json.loads("[" * 40 + "]" * 40)}).encode()
    for body in (deep, nested):
        # when each is posted
        response = _post(client, "/predict", body)
        # then a 422 names the nesting limit
        assert response.status_code == 422, response.text
        assert "nest deeper than the limit of 32" in response.json()["message"]


def test_a_lone_surrogate_is_a_422_naming_the_field(client) -> None:
    # given a lone surrogate in a category, in /predict and /invocations bodies
    text = json.dumps({**_applicant(), "home_ownership": "RENT"}).replace("RENT", "\\ud800")
    cases = (
        ("/predict", text, "", "home_ownership"),
        ("/explain", f'{{"applicants": [{text}]}}', "applicants[0]", "home_ownership"),
        ("/invocations", f'{{"dataframe_records": [{text}]}}', "dataframe_records[0]", ""),
    )
    for path, body, where, name in cases:
        # when it is posted
        response = _post(client, path, body.encode())
        # then the 422 names the field and says why
        assert response.status_code == 422, (path, response.text)
        field = response.json()["problems"][0]["field"]
        assert field.startswith(where) and field.endswith(name), field
        assert "lone surrogate" in response.json()["message"]


def test_a_csv_row_with_a_trailing_comma_is_a_422_naming_the_row(client) -> None:
    # given a one-row CSV body with a trailing comma (pandas shifts it one column left), and a
    # two-row body whose second row has it
    header, values = _csv(_applicant())
    width = len(header.split(","))
    for body, row in ((f"{header}\n{values},\n", 1), (f"{header}\n{values}\n{values},\n", 2)):
        # when it is posted
        response = _post(client, "/invocations", body.encode(), CSV)
        # then no score is answered: a 422 names the row and both field counts
        assert response.status_code == 422, response.text
        problem = response.json()["problems"][0]
        assert problem["field"] == f"body row {row}"
        assert f"has {width + 1} fields but the header has {width}" in problem["message"]


def test_oversized_csv_fields_and_headers_are_refused_with_a_message(client) -> None:
    # given a CSV value of 128 KiB, a header line of 70 KB, and a header of 2,000 fields
    header, values = _csv(_applicant())
    cases = (
        (f"{header}\n{values},{'x' * 131_073}".encode(), 400, "field larger than field limit"),
        (f"{'a' * 70_000}\n1\n".encode(), 413, "header line is 70,000 bytes"),
        ((",".join(f"c{i}" for i in range(2000)) + "\n").encode(), 413, "2,000 fields"),
    )
    for body, status, words in cases:
        # when each is posted
        response = _post(client, "/invocations", body, CSV)
        # then it is refused with the limit named, never a 500
        assert response.status_code == status, response.text
        assert words in response.json()["message"]


def test_two_million_empty_rows_are_refused_before_parsing(client) -> None:
    # given the 6 MB dataframe_split of two million empty rows
    body = '{"dataframe_split":{"columns":[],"data":[' + ",".join(["[]"] * 2_000_000) + "]}}"
    # when it is posted
    started = time.perf_counter()
    response = _post(client, "/invocations", body.encode())
    elapsed = time.perf_counter() - started
    # then a 413 names the limit without parsing the body (a parse takes about a second here)
    assert response.status_code == 413, response.text
    assert "arrays and objects, more than the limit" in response.json()["message"]
    assert elapsed < 5


_SPLIT_ROWS = [[i, [i, {"k": i}]] for i in range(3000)]


@pytest.mark.parametrize(
    "document",
    [
        {"dataframe_records": [{"a": i, "b": "x" * 50, "c": None} for i in range(2000)]},
        {"dataframe_split": {"columns": ["a", "b"], "data": _SPLIT_ROWS}},
        {"inputs": {"a": list(range(20_000)), "b": [1.5] * 20_000}},
        [{"nested": {"deep": [[1, 2], {"x": "\u00e9"}]}}] * 2000,
    ],
    ids=["records", "split", "columns", "list"],
)  # fmt: skip
def test_a_large_body_decodes_exactly_as_json_loads(document) -> None:
    # given a body over the size that is decoded row by row, compact and indented
    for body in (json.dumps(document).encode(), json.dumps(document, indent=2).encode()):
        assert len(body) > WALKED_BODY_BYTES
        # when it is parsed / then the document equals json.loads's
        assert parse_json(body) == json.loads(body)


@pytest.mark.parametrize(
    ("tail", "words"),
    [(b"[1, 2,]}", "Expecting value"), (b"[1 2]}", "Expecting one of"), (b"[1]} x", "Extra data")],
)
def test_a_large_malformed_body_is_a_400_naming_where(tail: bytes, words: str) -> None:
    # given a body over the walked size, malformed near its end
    body = b'{"pad": "' + b"x" * WALKED_BODY_BYTES + b'", "rows": ' + tail
    # when it is decoded / then a 400 says what and where
    with pytest.raises(RequestError) as refused:
        decode_json(body, 10_000)
    assert refused.value.status == 400 and words in refused.value.message
