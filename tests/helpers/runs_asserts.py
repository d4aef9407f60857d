"""Assertions shared by the store reader tests: a fast reader's RawRun equals MLflow's."""

from __future__ import annotations

import math

from core.store.filestore_reader import RawRun


def _same_metrics(left: dict[str, float], right: dict[str, float]) -> bool:
    """Equal metric maps, NaN equal to NaN."""
    return left.keys() == right.keys() and all(
        (math.isnan(v) and math.isnan(right[k])) or math.isclose(v, right[k])
        for k, v in left.items()
    )


def assert_same_run(got: RawRun, expected: RawRun) -> None:
    """Info fields, params, tags, latest metrics and the model flag are equal."""
    assert (got.run_name, got.status, got.start_time, got.end_time, got.user) == (
        expected.run_name,
        expected.status,
        expected.start_time,
        expected.end_time,
        expected.user,
    )
    assert got.params == expected.params
    assert got.tags == expected.tags
    assert _same_metrics(got.metrics, expected.metrics)
    assert got.has_model_output == expected.has_model_output
