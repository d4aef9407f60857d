"""The service's cheaper request path gives exactly the row-by-row numbers: SHAP computed for
concurrent requests in one call equals each request scored alone by the Scorer, and the
column-wise validation equals the row-by-row one."""

from __future__ import annotations

import asyncio
import itertools
import json
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from core.data.synthetic import demo_dataset
from core.errors import GovernanceError
from core.scoring.loaded_model import LoadedModel
from core.scoring.model_spec import ModelSpec, model_spec
from core.scoring.reason_codes import ReasonCodeBook
from core.scoring.scorer import scorer_for
from core.serving.column_checks import plain_columns, split_columns, validate_applicants
from core.serving.errors import RequestError
from core.serving.explain_coalescer import ExplainCoalescer
from core.serving.model_holder import ModelIdentity, ServedModel
from core.serving.request_parsing import validate_rows
from core.serving.scored_rows import (
    SERVICE_GROUPING_MIN_ROWS,
    decided_columns,
    explained_together,
)

EXACT = 1e-9
THRESHOLD = 0.3


@pytest.fixture(scope="module", name="served", params=["categorical", "numeric"])
def served_fixture(request) -> tuple[ServedModel, pd.DataFrame]:
    """A small model on the demo data (numeric and categorical features, or numeric only: the
    path that scores the stacked columns without a frame) and fresh applicants."""
    data = demo_dataset(n_rows=1_500, seed=7)
    features = data.features
    if request.param == "numeric":
        features = features.select_dtypes("number")
    model = LoadedModel(
        lgb.LGBMClassifier(n_estimators=40, num_leaves=15, verbose=-1, random_state=1).fit(
            features, data.target
        )
    )
    identity = ModelIdentity.candidate("r1", "n", THRESHOLD, "x")
    served = ServedModel(identity, model, scorer_for(model), ReasonCodeBook(), "")
    return served, demo_dataset(n_rows=700, seed=8).features[list(features.columns)]


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as a client sends them (missing values as null)."""
    return json.loads(frame.to_json(orient="records"))


def test_shap_of_concurrent_requests_computed_together_equals_each_alone(served) -> None:
    # given requests of 1 to 120 applicants arriving together, more rows than the grouped
    # path's minimum between them
    model, applicants = served
    sizes = [1, 120, 7, 90, 60, 110, 3, 100]
    starts = np.cumsum([0, *sizes])
    frames = [applicants.iloc[a:b].reset_index(drop=True) for a, b in itertools.pairwise(starts)]
    spec = model.scorer.spec
    decided = [
        decided_columns(
            model.scorer, [validate_applicants(_records(f), spec, "a").columns], THRESHOLD
        )
        for f in frames
    ]
    wanted = [
        np.arange(len(d)) if k % 2 else np.flatnonzero(d.declined) for k, d in enumerate(decided)
    ]
    coalescer = ExplainCoalescer()

    async def all_at_once():
        return await asyncio.gather(
            *(coalescer.explain(model, d, at) for d, at in zip(decided, wanted, strict=True))
        )

    # when their SHAP goes through the coalescer (a fresh thread for the event loop)
    with ThreadPoolExecutor(1) as pool:
        found = pool.submit(asyncio.run, all_at_once()).result()
    # then they were computed in fewer calls than requests, one through the grouped path
    assert coalescer.calls < len(frames)
    assert coalescer.largest_call >= SERVICE_GROUPING_MIN_ROWS
    # and each request's rows have exactly what the Scorer gives when it scores them alone
    for frame, rows, at, result in zip(frames, decided, wanted, found, strict=True):
        alone = model.scorer.score(frame, THRESHOLD, reason_book=model.book)
        assert np.abs(alone.scores["probability"].to_numpy() - rows.probability).max() <= EXACT
        assert list(alone.scores["decision"]) == list(rows.decision)
        assert list(result.at) == list(at)
        if len(at):
            expected = alone.contributions.to_numpy()[at]
            assert np.abs(expected - result.contributions).max() <= EXACT
            assert abs(alone.base_value - result.base_value) <= EXACT
            assert alone.reasons.to_numpy()[at].tolist() == result.reason_texts.tolist()


def _same(left, right) -> bool:
    """Equality with NaN equal to NaN, for plain values and lists of them."""
    left, right = list(left), list(right)
    return len(left) == len(right) and all(
        (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))
        or a == b
        for a, b in zip(left, right, strict=True)
    )


def _plainly_valid(served, count: int) -> tuple[ModelSpec, list[dict]]:
    """The model's spec and count applicants that are plainly valid but warned about: a null,
    a value outside the training range and (with a categorical feature) an unseen category and
    a null category."""
    model, applicants = served
    spec = model_spec(model.model.classifier)
    rows = _records(applicants.head(count))
    rows[3]["credit_score"] = None
    rows[5]["annual_income"] = 10**9
    if "home_ownership" in rows[0]:
        rows[7]["home_ownership"] = "castle"
        rows[9]["home_ownership"] = None
    return spec, rows


def test_column_checks_equal_the_row_checks(served) -> None:
    # given plainly valid batches: nulls, values outside the training range, unseen
    # categories, ids on some applicants
    spec, rows = _plainly_valid(served, 80)
    with_ids = [{"id": f"a-{i}", **row} if i % 3 else row for i, row in enumerate(rows)]
    for batch in (rows, with_ids):
        # when they are checked column by column
        fast = plain_columns(batch, spec)
        slow = validate_rows(batch, spec, "applicants")
        # then the values, ids, logged features and warnings are the row-by-row ones
        assert fast is not None
        assert fast.ids == slow.ids and fast.features == slow.features
        assert fast.warnings == slow.warnings and any(fast.warnings)
        for name in spec.names:
            assert _same(fast.columns[name], slow.columns[name]), name


@pytest.mark.parametrize(
    ("change", "refused"),
    [
        ({"credit_score": "720"}, True),
        ({"credit_score": True}, True),
        ({"credit_score": float("nan")}, True),
        ({"credit_score": 10**400}, True),
        ({"annual_income": None}, False),
        ({"hobby": "chess"}, False),
        ({"credit score": 700}, False),
    ],
)
def test_anything_not_plainly_valid_gets_the_row_checks_answer(served, change, refused) -> None:
    # given a batch with one applicant that is not plainly valid
    model, applicants = served
    spec = model_spec(model.model.classifier)
    rows = _records(applicants.head(5))
    rows[2] = {**rows[2], **change}
    if "credit score" in change:
        del rows[2]["credit_score"]
    # when it is validated
    # then the answer is the row-by-row one (the column path steps aside for a refusal)
    if refused:
        assert plain_columns(rows, spec) is None
        with pytest.raises(RequestError) as fast:
            validate_applicants(rows, spec, "applicants")
        with pytest.raises(RequestError) as slow:
            validate_rows(rows, spec, "applicants")
        assert fast.value.problems == slow.value.problems
    else:
        assert validate_applicants(rows, spec, "applicants").warnings == (
            validate_rows(rows, spec, "applicants").warnings
        )


def test_a_value_that_was_not_validated_is_refused_by_the_scorer(served) -> None:
    # given columns that skipped validation, with an infinite value
    model, applicants = served
    columns = {name: applicants[name].head(3).tolist() for name in model.scorer.spec.names}
    columns["credit_score"][1] = float("inf")
    # when they are scored, then the Scorer's preparation refuses them, naming the column
    with pytest.raises(GovernanceError, match="credit_score"):
        decided_columns(model.scorer, [columns], THRESHOLD)


def test_numeric_rows_explained_from_the_matrix_equal_the_frame_path(served) -> None:
    # given a numeric model's decided rows, with missing values in some of them
    model, applicants = served
    if any(f.is_categorical for f in model.scorer.spec.features):
        pytest.skip("the matrix path is for models without categorical features")
    frame = applicants.head(80).copy()
    frame.iloc[::7, 0] = np.nan
    frame.iloc[::5, 3] = np.nan
    spec = model.scorer.spec
    columns = validate_applicants(_records(frame), spec, "a").columns
    decided = decided_columns(model.scorer, [columns], THRESHOLD)
    assert isinstance(decided.source, np.ndarray)
    at = np.arange(len(decided))
    # when they are explained from the matrix, and from a frame of the same values
    as_frame = replace(decided, source=pd.DataFrame(decided.source, columns=list(spec.names)))
    (matrix,) = explained_together(model.scorer, [(decided, at)], model.book)
    (framed,) = explained_together(model.scorer, [(as_frame, at)], model.book)
    # then every number and text is the same
    np.testing.assert_array_equal(matrix.contributions, framed.contributions)
    assert matrix.base_value == framed.base_value
    assert matrix.reason_features.tolist() == framed.reason_features.tolist()
    assert matrix.reason_texts.tolist() == framed.reason_texts.tolist()
    assert any(t for row in matrix.reason_texts.tolist() for t in row)


def test_a_split_table_read_column_wise_equals_its_rows_checked(served) -> None:
    # given a dataframe_split table of exactly the model's features, columns in another order,
    # with a null, a value outside the training range and (if any) an unseen category
    spec, rows = _plainly_valid(served, 40)
    names = list(reversed(spec.names))
    data = [[row[name] for name in names] for row in rows]
    # when it is read column-wise
    fast = split_columns(names, data, spec)
    slow = validate_rows([dict(zip(names, r, strict=True)) for r in data], spec, "applicants")
    # then values, ids, logged features (in the model's order) and warnings are the row check's
    assert fast is not None
    assert fast.ids == slow.ids and fast.features == slow.features
    assert [list(f) for f in fast.features] == [list(f) for f in slow.features]
    assert fast.warnings == slow.warnings and any(fast.warnings)
    for name in spec.names:
        assert _same(fast.columns[name], slow.columns[name]), name
    # and a table with another column, a missing one, a short row or a refused value steps aside
    assert split_columns([*names, "id"], [[*r, "x"] for r in data], spec) is None
    assert split_columns(names[1:], [r[1:] for r in data], spec) is None
    assert split_columns(names, [data[0][:-1], *data[1:]], spec) is None
    refused = [list(r) for r in data]
    refused[2][names.index("credit_score")] = "720"
    assert split_columns(names, refused, spec) is None
